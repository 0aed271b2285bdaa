package sandbox

import "testing"

// Taken from a hybrid (cgroup v1 + unified) Debian host, trimmed.
const testMountinfo = `24 30 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
35 24 0:30 / /sys/fs/cgroup rw shared:9 - tmpfs tmpfs rw,mode=755
38 35 0:33 / /sys/fs/cgroup/unified rw,nosuid shared:11 - cgroup2 cgroup2 rw
44 35 0:39 / /sys/fs/cgroup/memory rw,nosuid shared:17 - cgroup cgroup rw,memory
50 35 0:45 / /sys/fs/cgroup/pids rw,nosuid shared:23 - cgroup cgroup rw,pids
51 35 0:46 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:24 - cgroup cgroup rw,cpu,cpuacct
60 35 0:47 /sub /mnt/my\040cg rw shared:25 - cgroup cgroup rw,freezer
`

const testCgroups = `8:pids:/
4:memory:/process_api/abc
3:cpu,cpuacct:/user.slice
2:freezer:/sub/x
0::/
`

func TestCgroupV1Dir(t *testing.T) {
	for _, c := range []struct {
		controller, want string
	}{
		{"pids", "/sys/fs/cgroup/pids"},
		{"memory", "/sys/fs/cgroup/memory/process_api/abc"},
		{"cpuacct", "/sys/fs/cgroup/cpu,cpuacct/user.slice"},
		{"freezer", "/mnt/my cg/x"}, // a mount of a sub-tree, with an escaped space
		{"blkio", ""},               // not there
		{"cpuse", ""},               // no prefix matches
	} {
		got, err := cgroupV1Dir(testMountinfo, testCgroups, c.controller)
		if c.want == "" {
			if err == nil {
				t.Errorf("%s: got %q, want an error", c.controller, got)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%s: got %q, %v; want %q", c.controller, got, err, c.want)
		}
	}
	// A v2-only host: no v1 hierarchy, so no v1 cgroup (the rlimit fallback).
	if got, err := cgroupV1Dir("38 35 0:33 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n", "0::/user.slice\n", "pids"); err == nil {
		t.Errorf("cgroup v2 only: got %q, want an error", got)
	}
}

func TestKernelAtLeast(t *testing.T) {
	for rel, want := range map[string]bool{"6.18.0-1-amd64": true, "5.14.0": true, "5.13.19": false, "4.19.0": false, "10.0": true, "junk": false} {
		if got := kernelAtLeast(rel, 5, 14); got != want {
			t.Errorf("kernelAtLeast(%q, 5.14) = %v", rel, got)
		}
	}
}

func TestHelperLimitFlags(t *testing.T) {
	var h helperLimits
	for _, kv := range [][2]string{{"--cgroup", "9"}, {"--cgroup", "10"}, {"--nproc", "80"}, {"--data", "268435456"}} {
		if err := h.flag(kv[0], kv[1]); err != nil {
			t.Fatal(err)
		}
	}
	if len(h.cgroupFDs) != 2 || h.cgroupFDs[1] != 10 || h.nproc != 80 || h.data != 268435456 {
		t.Errorf("parsed %+v", h)
	}
	for _, kv := range [][2]string{{"--nproc", "0"}, {"--nproc", "x"}, {"--data", "-1"}, {"--cgroup", ""}} {
		if err := h.flag(kv[0], kv[1]); err == nil {
			t.Errorf("%s %q accepted", kv[0], kv[1])
		}
	}
}
