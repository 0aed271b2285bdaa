//go:build linux

package e2e

import (
	"bufio"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Escape tests for issue 11, items 1-3: the other processes of the
// sandbox, socket families, kernel keyrings.

// hostSocket listens on a unix socket inside the world (visible, read-only,
// in the sandbox) that anybody may connect to, like an ssh-agent or
// docker.sock the user's account can reach.
func hostSocket(t *testing.T, w *World) (string, *net.UnixListener) {
	t.Helper()
	path := filepath.Join(w.Root, "agent.sock")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	if err := os.Chmod(path, 0o777); err != nil {
		t.Fatal(err)
	}
	return path, l
}

// noConnection fails the test if anything connected to l. A unix connect()
// completes when the connection is queued on the listener, so after the
// attacking call has returned, a connection is either pending or never was.
func noConnection(t *testing.T, l *net.UnixListener) {
	t.Helper()
	l.SetDeadline(time.Now())
	c, err := l.Accept()
	if err != nil {
		return
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, _ := bufio.NewReader(c).ReadString('\n')
	t.Errorf("ESCAPE: a process in the sandbox connected to the host socket and said %q", line)
}

// TestEscapePtraceSandboxInit performs the whole chain: the server
// ptraces the sandbox's other processes (PID 1, an orphan reparented to
// it), makes one of them call socket(AF_UNIX) with injected registers,
// takes the descriptor with pidfd_getfd and connects it to a host socket.
// Before the fix PID 1 was bwrap's init, which has no seccomp filter, and
// the connection arrived.
func TestEscapePtraceSandboxInit(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("the register injection is written for amd64; TestEscapeSandboxProcessPrimitives covers the steps")
	}
	ForEachUser(t, func(t *testing.T, u User) {
		w := NewWorld(t, u)
		sock, l := hostSocket(t, w)
		s := w.Connect(t)
		s.Call(t, "spawn_orphan", nil)
		text := s.MustBlock(t, "inject socket(AF_UNIX) into a sandbox process and connect it to a host socket",
			"attack_init_socket", map[string]any{"path": sock})
		noConnection(t, l)
		if !strings.Contains(text, "pid 1 ") {
			t.Errorf("the attack did not try PID 1: %s", text)
		}
	})
}

// TestEscapeSandboxProcessPrimitives tries each step of the chain on its
// own against PID 1 and against a sibling (a process orphaned to PID 1,
// so not the server's descendant): ptrace attach, /proc/PID/mem opened
// for writing, pidfd_getfd, process_vm_readv, and reading bwrap's argv in
// /proc/1/cmdline.
func TestEscapeSandboxProcessPrimitives(t *testing.T) {
	ForEachUser(t, func(t *testing.T, u User) {
		w := NewWorld(t, u)
		w.Write(t, "home/.aws/credentials", "[default]\n")
		s := w.Connect(t)
		orphan, failed := s.Call(t, "spawn_orphan", nil)
		if failed {
			t.Fatalf("spawn_orphan: %s", orphan)
		}
		for _, pid := range []string{"1", orphan} {
			n, _ := strconv.Atoi(pid)
			for _, tool := range []string{"attack_ptrace", "attack_pidfd_getfd", "attack_vm_readv"} {
				s.MustBlock(t, tool+" on pid "+pid, tool, map[string]any{"pid": n})
			}
		}
		// PID 1 is not the server's and is non-dumpable. The orphan's
		// /proc/PID/mem stays open to the server, as its own children's
		// do: it was the server's child and carries the same filter (below),
		// so rewriting it gains nothing.
		s.MustBlock(t, "open /proc/1/mem read-write", "attack_proc_mem", map[string]any{"pid": 1})
		s.MustBlock(t, "reopen PID 1's descriptors through /proc/1/fd", "attack_proc_fd", map[string]any{"pid": 1})
		// No process in the sandbox runs without the filter.
		out, status := s.Run(t, "sh", "-c", "grep -H '^Seccomp:' /proc/[0-9]*/status")
		if status != 0 {
			t.Fatalf("reading Seccomp lines: %s", out)
		}
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			if !strings.HasSuffix(line, "\t2") {
				t.Errorf("ESCAPE: a process in the sandbox runs without the seccomp filter: %s", line)
			}
		}
		if !strings.Contains(out, "/proc/1/status") || !strings.Contains(out, "/proc/"+orphan+"/status") {
			t.Errorf("PID 1 or the orphan missing from the Seccomp lines:\n%s", out)
		}
		text := s.MustBlock(t, "read the sandbox's arguments in /proc/1/cmdline", "attack_init_cmdline", nil)
		if strings.Contains(text, ".aws") || strings.Contains(text, ".ssh") {
			t.Errorf("ESCAPE: /proc/1/cmdline names credential files: %s", text)
		}
	})
}

// TestAllowPtraceTracesOwnChild: with srtMcp.allowPtrace a debugger works
// on the server's own children, and PID 1 still cannot be attached to.
func TestAllowPtraceTracesOwnChild(t *testing.T) {
	ForEachUser(t, func(t *testing.T, u User) {
		w := NewWorld(t, u)
		settings := w.Settings(t, `{"filesystem": {"allowWrite": ["."]}, "srtMcp": {"allowPtrace": true}}`)
		s := w.Connect(t, "--settings", settings)
		if text, failed := s.Call(t, "ptrace_child", nil); failed {
			t.Errorf("allowPtrace: ptrace of the server's own child refused: %s", text)
		}
		for _, tool := range []string{"attack_ptrace", "attack_proc_mem", "attack_pidfd_getfd", "attack_vm_readv"} {
			s.MustBlock(t, tool+" on pid 1 with allowPtrace", tool, map[string]any{"pid": 1})
		}
	})
}

// TestDefaultRefusesPtraceOfOwnChild: without allowPtrace even the
// server's own children cannot be traced.
func TestDefaultRefusesPtraceOfOwnChild(t *testing.T) {
	ForEachUser(t, func(t *testing.T, u User) {
		s := NewWorld(t, u).Connect(t)
		s.MustBlock(t, "ptrace of the server's own child", "ptrace_child", nil)
	})
}

// TestEscapeSocketFamilies: only the families a server needs can be
// created; vsock (shared with the host), packet, bluetooth, crypto and
// non-route netlink cannot.
func TestEscapeSocketFamilies(t *testing.T) {
	type sock struct {
		name            string
		domain, typ, pr int
		pair            bool
	}
	refused := []sock{
		{"AF_VSOCK", unix.AF_VSOCK, unix.SOCK_STREAM, 0, false},
		{"AF_PACKET", unix.AF_PACKET, unix.SOCK_DGRAM, 0, false},
		{"AF_BLUETOOTH", unix.AF_BLUETOOTH, unix.SOCK_RAW, 0, false},
		{"AF_ALG", unix.AF_ALG, unix.SOCK_SEQPACKET, 0, false},
		{"AF_NETLINK audit", unix.AF_NETLINK, unix.SOCK_RAW, unix.NETLINK_AUDIT, false},
		{"AF_NETLINK uevent", unix.AF_NETLINK, unix.SOCK_DGRAM, unix.NETLINK_KOBJECT_UEVENT, false},
		{"AF_UNIX", unix.AF_UNIX, unix.SOCK_STREAM, 0, false},
		{"socketpair AF_INET", unix.AF_INET, unix.SOCK_STREAM, 0, true},
		{"socketpair AF_VSOCK", unix.AF_VSOCK, unix.SOCK_STREAM, 0, true},
	}
	allowed := []sock{
		{"AF_INET", unix.AF_INET, unix.SOCK_STREAM, 0, false},
		{"AF_INET6", unix.AF_INET6, unix.SOCK_DGRAM, 0, false},
		{"AF_NETLINK route", unix.AF_NETLINK, unix.SOCK_RAW, unix.NETLINK_ROUTE, false},
		{"socketpair AF_UNIX", unix.AF_UNIX, unix.SOCK_STREAM, 0, true},
	}
	args := func(s sock) map[string]any {
		return map[string]any{"domain": s.domain, "type": s.typ, "protocol": s.pr, "pair": s.pair}
	}
	ForEachUser(t, func(t *testing.T, u User) {
		s := NewWorld(t, u).Connect(t)
		for _, c := range refused {
			s.MustBlock(t, "create a "+c.name+" socket", "attack_socket_family", args(c))
		}
		for _, c := range allowed {
			if text, failed := s.Call(t, "attack_socket_family", args(c)); failed {
				t.Errorf("%s refused, but servers need it: %s", c.name, text)
			}
		}
		// A program that lists its addresses (route netlink) still works.
		if out, status := s.Run(t, "ip", "-o", "addr"); status != 0 || !strings.Contains(out, "lo") {
			t.Errorf("ip addr inside: status %d\n%s", status, out)
		}
	})
}

// TestEscapeKeyrings puts a secret in a fresh session keyring on the host,
// starts srt-mcp with it (as a login session would hand it down), and
// tries to read it from inside, to add a key and to request one.
func TestEscapeKeyrings(t *testing.T) {
	ForEachUser(t, func(t *testing.T, u User) {
		// The session keyring belongs to this thread's credentials: join a
		// new one on a locked thread and start srt-mcp from it (fork copies
		// the thread's credentials). The thread is never unlocked, so the
		// runtime discards it with this goroutine.
		runtime.LockOSThread()
		if _, err := unix.KeyctlJoinSessionKeyring("srt-mcp-e2e"); err != nil {
			t.Skipf("no keyrings on this kernel: %v", err)
		}
		if _, err := unix.AddKey("user", "srt-mcp-e2e-secret", []byte("KEYRING-SECRET"), unix.KEY_SPEC_SESSION_KEYRING); err != nil {
			t.Fatal(err)
		}
		w := NewWorld(t, u)
		s := w.Connect(t)
		text := s.MustBlock(t, "read the session keyring", "attack_keyring", nil)
		if strings.Contains(text, "KEYRING-SECRET") {
			t.Errorf("ESCAPE: the session key was read: %s", text)
		}
	})
}

// TestOrphansAreReaped: a process orphaned inside the sandbox is
// reparented to PID 1, srt-mcp's helper, which reaps it when it exits. Had
// the server itself been made PID 1 (bwrap --as-pid-1 with the server
// exec'd directly), a server that never calls wait, like the probe, would
// collect zombies until it exits.
func TestOrphansAreReaped(t *testing.T) {
	ForEachUser(t, func(t *testing.T, u User) {
		s := NewWorld(t, u).Connect(t)
		// The inner sh exits at once, after its parent has: an orphan that
		// dies.
		out, status := s.Run(t, "sh", "-c", `sh -c 'exit 0' <&- >&- 2>&- & echo $!`)
		if status != 0 {
			t.Fatalf("spawning the orphan: %s", out)
		}
		stat := "/proc/" + strings.TrimSpace(out) + "/stat"
		// Reaping happens when the orphan exits, asynchronously to us: poll
		// with a limit, as for the namespace teardown in the shim's tests.
		deadline := time.Now().Add(10 * time.Second)
		for {
			out, status := s.Run(t, "cat", stat)
			if status != 0 {
				return // gone: reaped
			}
			if time.Now().After(deadline) {
				t.Fatalf("orphan never reaped: %s", out)
			}
		}
	})
}
