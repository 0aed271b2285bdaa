//go:build linux

package e2e

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/srt-mcp/srt-mcp/sandbox"
	"golang.org/x/sys/unix"
)

// Resource bombs from inside the sandbox. Every bomb is bounded by its own
// argument (2,000 processes, 3 GiB, 1 GiB of /tmp): on a sandbox without
// limits it succeeds at that size and the test fails, without taking the
// machine down.

// bombCount reads K from a bomb's "… K of N …" report.
func bombCount(t *testing.T, text string) int {
	t.Helper()
	m := regexp.MustCompile(`(\d+) of \d+`).FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("unexpected bomb report %q", text)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// stillWorks checks that the sandboxed server answers and that the host
// can start processes after an attack.
func stillWorks(t *testing.T, w *World, s *Session) {
	t.Helper()
	if text, failed := s.Call(t, "echo_len", map[string]any{"text": "abc"}); failed || text != "3" {
		t.Errorf("the server does not answer after the attack: %q\n%s", text, s.Stderr())
	}
	if out, err := w.Command(w.Project, "true").CombinedOutput(); err != nil {
		t.Errorf("the host cannot start a process after the attack: %v %s", err, out)
	}
}

func TestLimitsStopForkBomb(t *testing.T) {
	ForEachUser(t, func(t *testing.T, u User) {
		w := NewWorld(t, u)
		s := w.Connect(t)
		text := s.MustBlock(t, "start 2,000 processes", "fork_bomb", map[string]any{"n": 2000})
		if got := bombCount(t, text); got >= sandbox.DefaultProcesses {
			t.Errorf("fork bomb started %d processes, want fewer than the default limit %d: %s", got, sandbox.DefaultProcesses, text)
		}
		stillWorks(t, w, s)
	})
}

func TestLimitsStopMemoryBomb(t *testing.T) {
	ForEachUser(t, func(t *testing.T, u User) {
		w := NewWorld(t, u)
		s := w.Connect(t)
		text := s.MustBlock(t, "allocate and touch 3 GiB", "memory_bomb", map[string]any{"mb": 3072})
		if got := bombCount(t, text); got > sandbox.DefaultMemoryMB {
			t.Errorf("memory bomb got %d MiB, want at most the default limit %d: %s", got, sandbox.DefaultMemoryMB, text)
		}
		stillWorks(t, w, s)
	})
}

func TestLimitsStopTmpFill(t *testing.T) {
	ForEachUser(t, func(t *testing.T, u User) {
		w := NewWorld(t, u)
		s := w.Connect(t)
		text := s.MustBlock(t, "write 1 GiB to /tmp", "fill_tmp", map[string]any{"mb": 1024})
		if got := bombCount(t, text); got > sandbox.DefaultTmpMB || !strings.Contains(text, "no space left on device") {
			t.Errorf("/tmp took %d MiB, want ENOSPC by the default size %d MiB: %s", got, sandbox.DefaultTmpMB, text)
		}
		stillWorks(t, w, s)
	})
}

// TestLimitsSettings shows srtMcp.limits at a small scale: what fits under
// the configured ceiling works, what does not is stopped.
func TestLimitsSettings(t *testing.T) {
	ForEachUser(t, func(t *testing.T, u User) {
		w := NewWorld(t, u)
		settings := w.Settings(t, `{"srtMcp": {"limits": {"processes": 80, "memoryMB": 256, "tmpMB": 16}}}`)
		s := w.Connect(t, "--settings", settings)
		if text, failed := s.Call(t, "fork_bomb", map[string]any{"n": 40}); failed {
			t.Errorf("40 processes under a limit of 80: %s\n%s", text, s.Stderr())
		}
		if got := bombCount(t, s.MustBlock(t, "100 processes with processes: 80", "fork_bomb", map[string]any{"n": 100})); got >= 80 {
			t.Errorf("started %d processes with processes: 80", got)
		}
		if text, failed := s.Call(t, "memory_bomb", map[string]any{"mb": 96}); failed {
			t.Errorf("96 MiB under memoryMB 256: %s\n%s", text, s.Stderr())
		}
		if got := bombCount(t, s.MustBlock(t, "384 MiB with memoryMB: 256", "memory_bomb", map[string]any{"mb": 384})); got > 256 {
			t.Errorf("allocated %d MiB with memoryMB: 256", got)
		}
		if text, failed := s.Call(t, "fill_tmp", map[string]any{"mb": 8}); failed {
			t.Errorf("8 MiB in /tmp under tmpMB 16: %s", text)
		}
		if got := bombCount(t, s.MustBlock(t, "32 MiB in /tmp with tmpMB: 16", "fill_tmp", map[string]any{"mb": 32})); got > 16 {
			t.Errorf("wrote %d MiB to /tmp with tmpMB: 16", got)
		}
		stillWorks(t, w, s)
	})
}

// TestLimitsZeroMeansNone: 0 lifts a limit. Each check goes just past the
// default, so it proves the default is gone without a big allocation.
func TestLimitsZeroMeansNone(t *testing.T) {
	ForEachUser(t, func(t *testing.T, u User) {
		w := NewWorld(t, u)
		settings := w.Settings(t, `{"srtMcp": {"limits": {"processes": 0, "memoryMB": 0, "tmpMB": 0}}}`)
		s := w.Connect(t, "--settings", settings)
		for _, c := range []struct {
			tool string
			n    int
		}{
			{"fork_bomb", sandbox.DefaultProcesses + 100},
			{"memory_bomb", sandbox.DefaultMemoryMB + 64},
			{"fill_tmp", sandbox.DefaultTmpMB + 64},
		} {
			arg := "mb"
			if c.tool == "fork_bomb" {
				arg = "n"
			}
			if text, failed := s.Call(t, c.tool, map[string]any{arg: c.n}); failed {
				t.Errorf("%s %d with the limit at 0: %s\n%s", c.tool, c.n, text, s.Stderr())
			}
		}
		if strings.Contains(s.Stderr(), "resource limits") {
			t.Errorf("a notice about limits although none is asked for:\n%s", s.Stderr())
		}
	})
}

// TestLimitsSandboxDiesWhole: processes a server leaves behind die with the
// sandbox, and srt-mcp removes the cgroups it made.
func TestLimitsSandboxDiesWhole(t *testing.T) {
	ForEachUser(t, func(t *testing.T, u User) {
		w := NewWorld(t, u)
		s := w.Connect(t)
		marker := fmt.Sprintf("%d.%09d", 86000+os.Getpid()%400, time.Now().Nanosecond())
		if text, failed := s.Call(t, "fork_bomb", map[string]any{"n": 50, "seconds": marker, "hold": true}); failed {
			t.Fatalf("holding 50 processes: %s", text)
		}
		if n := hostSleepers(marker); n != 50 {
			t.Fatalf("%d sleepers visible on the host, want 50", n)
		}
		cgroups := sleeperCgroups(t, marker)
		if _, err := os.Stat("/sys/fs/cgroup/pids/cgroup.procs"); err == nil && u.Root() && len(cgroups) == 0 {
			t.Errorf("as root on a cgroup v1 host, the sandbox is in no cgroup of its own")
		}
		// Watch the sleepers with pidfds: readable once the process is gone.
		var pidfds []unix.PollFd
		for _, pid := range hostSleeperPIDs(marker) {
			fd, err := unix.PidfdOpen(pid, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer unix.Close(fd)
			pidfds = append(pidfds, unix.PollFd{Fd: int32(fd), Events: unix.POLLIN})
		}
		s.Client.Close() // returns once srt-mcp has exited
		// The sandbox's init dies with bwrap (--die-with-parent) and takes
		// its PID namespace along: every sleeper gets SIGKILL. The timeout
		// only bounds a failure; it is not how the test synchronises.
		deadline := time.Now().Add(20 * time.Second)
		for i := range pidfds {
			for {
				n, err := unix.Poll(pidfds[i:i+1], int(time.Until(deadline).Milliseconds()))
				if err == unix.EINTR {
					continue
				}
				if err != nil || n == 0 {
					t.Fatalf("a process of the sandbox outlived it by 20 s (%v)", err)
				}
				break
			}
		}
		if n := hostSleepers(marker); n != 0 {
			t.Errorf("%d processes of the sandbox outlived it", n)
		}
		for _, dir := range cgroups {
			if _, err := os.Stat(dir); err == nil {
				t.Errorf("cgroup %s left behind", dir)
			}
		}
	})
}

// sleeperCgroups returns the cgroup v1 directories srt-mcp made that a
// "sleep MARKER" process is in.
func sleeperCgroups(t *testing.T, marker string) []string {
	t.Helper()
	pid := hostSleeperPIDs(marker)
	if len(pid) == 0 {
		t.Fatal("no sleeper found")
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid[0]))
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.SplitN(line, ":", 3)
		if len(f) == 3 && (f[1] == "pids" || f[1] == "memory") && strings.Contains(f[2], "/srt-mcp-") {
			dirs = append(dirs, filepath.Join("/sys/fs/cgroup", f[1], f[2]))
		}
	}
	return dirs
}

// hostSleepers counts host processes running "sleep MARKER".
func hostSleepers(marker string) int { return len(hostSleeperPIDs(marker)) }

func hostSleeperPIDs(marker string) []int {
	want := []byte("sleep\x00" + marker + "\x00")
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline")); err == nil && bytes.Equal(b, want) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// TestLimitsCannotLeaveCgroup: the server cannot move itself out of the
// cgroups that carry its limits (the cgroup filesystem is read-only inside,
// the server has no capabilities, and the helper's cgroup.procs descriptor
// does not survive its exec). On a host where the sandbox has no cgroup
// this guards against a later change that would make one writable.
func TestLimitsCannotLeaveCgroup(t *testing.T) {
	ForEachUser(t, func(t *testing.T, u User) {
		w := NewWorld(t, u)
		s := w.Connect(t)
		s.MustBlock(t, "move into the root cgroup", "leave_cgroup", nil)
	})
}
