package sandbox

import (
	"reflect"
	"strings"
	"testing"
)

func intp(i int) *int { return &i }

func TestLimitSettingsEffective(t *testing.T) {
	for _, c := range []struct {
		in   LimitSettings
		want Limits
	}{
		{LimitSettings{}, Limits{DefaultProcesses, DefaultMemoryMB, DefaultTmpMB}},
		{LimitSettings{Processes: intp(0), MemoryMB: intp(0), TmpMB: intp(0)}, Limits{}},
		{LimitSettings{Processes: intp(80), TmpMB: intp(16)}, Limits{80, DefaultMemoryMB, 16}},
	} {
		if got := c.in.Effective(); got != c.want {
			t.Errorf("Effective(%+v) = %+v, want %+v", c.in, got, c.want)
		}
	}
}

func TestDecideLimits(t *testing.T) {
	def := Limits{Processes: 1024, MemoryMB: 2048, TmpMB: 512}
	for _, c := range []struct {
		name       string
		l          Limits
		h          limitHost
		want       limitEnforcement
		unenforced []string // substrings, one per Unenforced entry
	}{
		{"root with cgroups: the sandbox as a whole", def, limitHost{Root: true, PidsCgroup: true, MemoryCgroup: true},
			limitEnforcement{PidsMax: 1024, MemoryMax: 2048 << 20, TmpBytes: 512 << 20}, nil},
		{"root without cgroups: RLIMIT_NPROC does not bind root", def, limitHost{Root: true},
			limitEnforcement{Data: 2048 << 20, TmpBytes: 512 << 20}, []string{"processes are not limited (running as root", "memory is limited per process"}},
		{"user in its own user namespace", def, limitHost{OwnUserNS: true},
			limitEnforcement{NProc: 1024, Data: 2048 << 20, TmpBytes: 512 << 20}, []string{"memory is limited per process"}},
		{"user without a user namespace: NPROC would count the whole user", def, limitHost{},
			limitEnforcement{Data: 2048 << 20, TmpBytes: 512 << 20}, []string{"no user namespace", "memory is limited per process"}},
		{"user with a pids cgroup only", def, limitHost{OwnUserNS: true, PidsCgroup: true},
			limitEnforcement{PidsMax: 1024, Data: 2048 << 20, TmpBytes: 512 << 20}, []string{"memory is limited per process"}},
		{"all limits off: nothing applied, nothing to say", Limits{}, limitHost{Root: true}, limitEnforcement{}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := decideLimits(c.l, c.h)
			un := got.Unenforced
			got.Unenforced = nil
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("decideLimits = %+v, want %+v", got, c.want)
			}
			if len(un) != len(c.unenforced) {
				t.Fatalf("unenforced = %q, want %d entries like %q", un, len(c.unenforced), c.unenforced)
			}
			for i, s := range c.unenforced {
				if !strings.Contains(un[i], s) {
					t.Errorf("unenforced[%d] = %q, want it to mention %q", i, un[i], s)
				}
			}
			if n := decideLimits(c.l, c.h).notice(); (n == "") != (len(c.unenforced) == 0) || strings.Contains(n, "\n") {
				t.Errorf("notice = %q: want one line, empty only when everything is enforced", n)
			}
		})
	}
}

func TestLimitHelperFlagsAndTmpfs(t *testing.T) {
	e := limitEnforcement{NProc: 80, Data: 256 << 20, PidsMax: 80}
	if got, want := e.helperFlags(), []string{"--nproc", "80", "--data", "268435456"}; !reflect.DeepEqual(got, want) {
		t.Errorf("helperFlags = %q, want %q (cgroup limits are set on the host, not by the helper)", got, want)
	}
	if got := (limitEnforcement{}).helperFlags(); len(got) != 0 {
		t.Errorf("no limits: helperFlags = %q", got)
	}
	if got, want := tmpfsArgs(16<<20), []string{"--size", "16777216", "--tmpfs", "/tmp"}; !reflect.DeepEqual(got, want) {
		t.Errorf("tmpfsArgs = %q, want %q", got, want)
	}
	if got, want := tmpfsArgs(0), []string{"--tmpfs", "/tmp"}; !reflect.DeepEqual(got, want) {
		t.Errorf("tmpfsArgs(0) = %q, want %q", got, want)
	}
}

// TestBwrapArgsSizeTmp: the private /tmp gets the size of srtMcp.limits.tmpMB
// (the default when unset), right before its --tmpfs.
func TestBwrapArgsSizeTmp(t *testing.T) {
	for _, c := range []struct {
		tmp  *int
		want string
	}{{nil, "--size 536870912 --tmpfs /tmp"}, {intp(16), "--size 16777216 --tmpfs /tmp"}, {intp(0), " --tmpfs /tmp"}} {
		p := &Policy{Cwd: "/work", Limits: LimitSettings{TmpMB: c.tmp}}
		a := strings.Join(bwrapArgs(p, nil, func() int { return 9 }), " ")
		if !strings.Contains(a, c.want) || (c.tmp != nil && *c.tmp == 0 && strings.Contains(a, "--size")) {
			t.Errorf("tmpMB %v: bwrap args %q, want %q", c.tmp, a, c.want)
		}
	}
}
