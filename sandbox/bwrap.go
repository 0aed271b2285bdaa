package sandbox

import (
	"fmt"
	"strconv"
)

// File descriptors bwrap passes into the sandbox (os/exec ExtraFiles start
// at 3). None of them survives the helper's exec.
const (
	fdSelf      = 3 // srt-mcp's own executable, run as /proc/self/fd/3
	fdStatus    = 4 // bwrap --json-status-fd (used by bwrap itself)
	fdReady     = 5 // the helper reports "ok" or the reason it failed
	fdNet       = 6 // socketpair: the helper sends the proxy listeners out
	fdArgs      = 7 // bwrap --args: its options, so no process shows them
	fdFirstData = 8
)

// bwrapArgs renders the policy as bubblewrap arguments, up to and including
// the "--" before the command. dataFD returns a fresh descriptor number
// whose contents (empty) bwrap copies into a read-only file; it is how a
// denied file is replaced without touching the host filesystem.
func bwrapArgs(p *Policy, mounts []Mount, dataFD func() int) []string {
	a := []string{
		// Namespaces: own PID space (host processes invisible, a fresh
		// /proc), no network at all (the proxy bridge is the only way out),
		// own IPC and hostname, and a new session so TIOCSTI cannot reach the
		// user's terminal.
		"--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
		"--unshare-cgroup-try", "--new-session",
		// No bwrap init inside: srt-mcp's helper is PID 1, filtered like the
		// server before the server exists (see RunHelper).
		"--as-pid-1",
		// If srt-mcp dies, even by SIGKILL, bwrap is killed, and with it the
		// sandbox's PID 1 and so every process inside.
		"--die-with-parent",
		// Run as root, bwrap keeps capabilities unless told otherwise, and
		// CAP_SYS_ADMIN could unmount the masks below.
		"--cap-drop", "ALL",
		"--ro-bind", "/", "/",
	}
	// A writable "/" is bound before the private /dev, /proc and /tmp:
	// bound after them it would cover them with the host's own (host
	// processes and their command lines, the host's /tmp).
	if len(mounts) > 0 && mounts[0].Path == "/" && mounts[0].Access == ReadWrite {
		a = append(a, "--bind", "/", "/")
		mounts = mounts[1:]
	}
	// bwrap's /dev is a tmpfs of half the RAM that the server can write
	// files into, charged to host memory and not to RLIMIT_DATA: a memory
	// bomb for unprivileged users, whose limits are per process (found by
	// an outside review). /dev/shm (POSIX shared memory) gets its own
	// tmpfs, sized like /tmp; /dev itself is then made read-only, which
	// leaves its device nodes working (I/O on a node is not a write to the
	// filesystem).
	a = append(a, "--dev", "/dev")
	a = append(a, tmpfsAt("/dev/shm", int64(p.Limits.Effective().TmpMB)*mib)...)
	a = append(a, "--remount-ro", "/dev")
	if p.WeakerNestedSandbox {
		// Inside some containers a new proc cannot be mounted; the host's is
		// bound instead, which shows the container's processes.
		a = append(a, "--ro-bind", "/proc", "/proc")
	} else {
		a = append(a, "--proc", "/proc")
	}
	// Kernel knobs under the new /proc are still the host's: sysctl files
	// are mode 0644 and checked against the uid alone, so a server run as
	// root (no user namespace) could write /proc/sys/kernel/core_pattern
	// and have the host run its program as root at the next crash, or
	// reboot the machine through /proc/sysrq-trigger. bwrap means to cover
	// these itself, but skips them when its access(2) probe says EACCES
	// after it has dropped capabilities. Bound read-only from the host's
	// /proc: the per-namespace files (net.*) still answer for the caller's
	// own namespaces.
	for _, knob := range procReadOnly {
		a = append(a, "--ro-bind-try", knob, knob) // -try: a kernel without SYSRQ has no sysrq-trigger
	}
	// A private, empty /tmp that exists (TMPDIR points at it) and vanishes
	// with the sandbox, of bounded size: its pages are host RAM.
	a = append(a, tmpfsArgs(int64(p.Limits.Effective().TmpMB)*mib)...)
	var remount []string
	for i, m := range mounts {
		switch m.Access {
		case ReadWrite:
			src := m.Path
			if m.Source != "" {
				// A private launcher cache: the server's own directory
				// in place of the real one (launchercache.go). bwrap takes
				// the source from the host's tree, so the hidden root it
				// lives in does not matter.
				src = m.Source
			}
			a = append(a, "--bind", src, m.Path)
		case ReadOnly:
			a = append(a, "--ro-bind", m.Path, m.Path)
		case Hidden:
			if !m.Dir {
				// Mode 0000: even a root server without capabilities gets EACCES.
				a = append(a, "--perms", "0000", "--ro-bind-data", strconv.Itoa(dataFD()), m.Path)
				continue
			}
			// An empty directory nobody may list. When allowRead re-opens
			// something inside, it must stay traversable (0711) to reach it;
			// its read-only remount waits until those binds have created
			// their mount points in it.
			perms := "0000"
			for _, later := range mounts[i+1:] {
				if under(later.Path, m.Path) {
					perms = "0711"
					break
				}
			}
			a = append(a, "--perms", perms, "--tmpfs", m.Path)
			remount = append(remount, "--remount-ro", m.Path)
		default:
			panic(fmt.Sprintf("unknown access %d", m.Access))
		}
	}
	a = append(a, remount...)
	return append(a, "--chdir", p.Cwd, "--json-status-fd", strconv.Itoa(fdStatus), "--")
}

// procReadOnly are the /proc entries that change the host kernel when
// written (the list Docker also makes read-only).
var procReadOnly = []string{"/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus", "/proc/fs"}

// ConnectCommand is the hidden sub-command ssh runs as its ProxyCommand
// inside the sandbox: "srt-mcp __connect PROXY HOST PORT" connects through
// the SOCKS5 proxy and relays stdin and stdout.
const ConnectCommand = "__connect"

// HelperCommand is the hidden sub-command srt-mcp runs as inside bwrap. It
// is the only code that runs in the sandbox before the server: it applies
// seccomp and execs, so no helper binaries (socat, apply-seccomp) are needed.
const HelperCommand = "__exec"
