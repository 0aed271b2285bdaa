package sandbox

import (
	"errors"
	"fmt"
	"runtime"
	"sort"
	"unsafe"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// The notifying seccomp filter. Two kinds of syscalls reach the
// supervisor:
//
//   - brokered ones (every call that creates, removes, renames, links,
//     chmods or truncates a path, and opens with a write or create flag):
//     always notified, whatever --observe says, because the supervisor
//     performs them itself and refuses the protected paths (broker_linux.go);
//   - observed ones (read-only opens, exec, chown, utimes, xattrs,
//     socket(AF_UNIX)): notified only when violations are reported, and let
//     go on with CONTINUE (reporting only: a path read there may have changed
//     by the time the kernel reads it, which can make a report wrong, never
//     an access possible).
//
// openat and open carry their flags in a register, which the filter can
// test: a read-only open is not a brokered call, and when nothing is
// observed it is not even notified.

// brokerKind says how the supervisor performs a brokered syscall.
type brokerKind int

const (
	bNone brokerKind = iota
	bOpen
	bMkdir
	bMknod
	bUnlink
	bRename
	bLink
	bSymlink
	bChmod
	bFchmod
	bTruncate
	// bUmask is not performed: the supervisor records the new umask for
	// the broker's cache (umask_linux.go) and lets the call go on.
	bUmask
)

// notifyTarget describes a notified syscall: how to read its path
// arguments for reports, and, for brokered ones, where its arguments are.
type notifyTarget struct {
	name   string
	paths  [][2]int // pairs of (dirfd argument index or -1 for AT_FDCWD, path argument index)
	flags  int      // index of the open flags argument, or -1
	write  bool     // the call always modifies the filesystem
	socket bool
	exec   bool

	broker brokerKind
	// Argument indices for the broker (-1: absent). fixed is OR'ed into the
	// flags (creat = O_CREAT|O_WRONLY|O_TRUNC; rmdir = AT_REMOVEDIR).
	bFlags, bMode, bExtra int
	fixed                 int
}

// writeOpenFlags are the open flags that can create or modify: an open
// with none of them is a read (O_TMPFILE needs O_WRONLY or O_RDWR).
const writeOpenFlags = unix.O_WRONLY | unix.O_RDWR | unix.O_CREAT | unix.O_TRUNC

func at(dirfd, path int) [][2]int { return [][2]int{{dirfd, path}} }

// notifySyscalls lists the notified syscalls (plus the arch-specific ones
// in notifyArchSyscalls).
var notifySyscalls = map[uint32]notifyTarget{
	unix.SYS_OPENAT:      {name: "openat", paths: at(0, 1), flags: 2, broker: bOpen, bFlags: 2, bMode: 3, bExtra: -1},
	unix.SYS_MKDIRAT:     {name: "mkdirat", paths: at(0, 1), flags: -1, write: true, broker: bMkdir, bFlags: -1, bMode: 2, bExtra: -1},
	unix.SYS_MKNODAT:     {name: "mknodat", paths: at(0, 1), flags: -1, write: true, broker: bMknod, bFlags: -1, bMode: 2, bExtra: 3},
	unix.SYS_UNLINKAT:    {name: "unlinkat", paths: at(0, 1), flags: -1, write: true, broker: bUnlink, bFlags: 2, bMode: -1, bExtra: -1},
	unix.SYS_RENAMEAT2:   {name: "renameat2", paths: [][2]int{{0, 1}, {2, 3}}, flags: -1, write: true, broker: bRename, bFlags: 4, bMode: -1, bExtra: -1},
	unix.SYS_RENAMEAT:    {name: "renameat", paths: [][2]int{{0, 1}, {2, 3}}, flags: -1, write: true, broker: bRename, bFlags: -1, bMode: -1, bExtra: -1},
	unix.SYS_SYMLINKAT:   {name: "symlinkat", paths: at(1, 2), flags: -1, write: true, broker: bSymlink, bFlags: -1, bMode: -1, bExtra: 0},
	unix.SYS_LINKAT:      {name: "linkat", paths: [][2]int{{0, 1}, {2, 3}}, flags: -1, write: true, broker: bLink, bFlags: 4, bMode: -1, bExtra: -1},
	unix.SYS_TRUNCATE:    {name: "truncate", paths: at(-1, 0), flags: -1, write: true, broker: bTruncate, bFlags: -1, bMode: -1, bExtra: 1},
	unix.SYS_FCHMODAT:    {name: "fchmodat", paths: at(0, 1), flags: -1, write: true, broker: bChmod, bFlags: -1, bMode: 2, bExtra: -1},
	unix.SYS_FCHMODAT2:   {name: "fchmodat2", paths: at(0, 1), flags: -1, write: true, broker: bChmod, bFlags: 3, bMode: 2, bExtra: -1},
	unix.SYS_FCHMOD:      {name: "fchmod", flags: -1, write: true, broker: bFchmod, bFlags: -1, bMode: 1, bExtra: -1},
	unix.SYS_UMASK:       {name: "umask", flags: -1, broker: bUmask, bFlags: -1, bMode: 0, bExtra: -1},
	unix.SYS_FCHOWNAT:    {name: "fchownat", paths: at(0, 1), flags: -1, write: true},
	unix.SYS_UTIMENSAT:   {name: "utimensat", paths: at(0, 1), flags: -1, write: true},
	unix.SYS_SETXATTR:    {name: "setxattr", paths: at(-1, 0), flags: -1, write: true},
	unix.SYS_LSETXATTR:   {name: "lsetxattr", paths: at(-1, 0), flags: -1, write: true},
	unix.SYS_SOCKET:      {name: "socket", socket: true},
	unix.SYS_EXECVE:      {name: "execve", paths: at(-1, 0), flags: -1, exec: true},
	unix.SYS_EXECVEAT:    {name: "execveat", paths: at(0, 1), flags: -1, exec: true},
	unix.SYS_REMOVEXATTR: {name: "removexattr", paths: at(-1, 0), flags: -1, write: true},
}

func lookupNotify(nr uint32) (notifyTarget, bool) {
	if t, ok := notifySyscalls[nr]; ok {
		return t, true
	}
	t, ok := notifyArchSyscalls[nr]
	return t, ok
}

// notifyProgram builds the notifying filter. observe adds the observed
// syscalls and read-only opens; observeUnixSockets adds socket(AF_UNIX)
// (refused by the supervisor).
func notifyProgram(observe, observeUnixSockets bool) ([]bpf.Instruction, error) {
	arch, ok := auditArch[runtime.GOARCH]
	if !ok {
		return nil, fmt.Errorf("seccomp filter: unsupported architecture %s", runtime.GOARCH)
	}
	notify := bpf.RetConstant{Val: unix.SECCOMP_RET_USER_NOTIF}
	var nrs []uint32
	for nr := range notifySyscalls {
		nrs = append(nrs, nr)
	}
	for nr := range notifyArchSyscalls {
		nrs = append(nrs, nr)
	}
	sort.Slice(nrs, func(i, j int) bool { return nrs[i] < nrs[j] })
	type rule struct {
		nr   uint32
		body []bpf.Instruction // always returns
	}
	var rules []rule
	for _, nr := range nrs {
		t, _ := lookupNotify(nr)
		switch {
		case t.socket:
			if observeUnixSockets {
				rules = append(rules, rule{nr, []bpf.Instruction{
					bpf.LoadAbsolute{Off: offArg0, Size: 4},
					bpf.JumpIf{Cond: bpf.JumpEqual, Val: unix.AF_UNIX, SkipFalse: 1},
					notify,
					retAllow,
				}})
			}
		case t.broker == bOpen && t.bFlags >= 0:
			// A read-only open is observed at most: test the flags.
			readOnly := retAllow
			if observe {
				readOnly = notify
			}
			rules = append(rules, rule{nr, []bpf.Instruction{
				bpf.LoadAbsolute{Off: uint32(offArg0 + 8*t.bFlags), Size: 4},
				bpf.JumpIf{Cond: bpf.JumpBitsSet, Val: writeOpenFlags, SkipFalse: 1},
				notify,
				readOnly,
			}})
		case t.broker != bNone:
			rules = append(rules, rule{nr, []bpf.Instruction{notify}})
		case observe:
			rules = append(rules, rule{nr, []bpf.Instruction{notify}})
		}
	}
	prog := []bpf.Instruction{
		bpf.LoadAbsolute{Off: offArch, Size: 4},
		// Foreign ABIs are refused by the enforcing filter already.
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: arch, SkipTrue: 1},
		retAllow,
		bpf.LoadAbsolute{Off: offNr, Size: 4},
	}
	for _, r := range rules {
		prog = append(prog, bpf.JumpIf{Cond: bpf.JumpEqual, Val: r.nr, SkipFalse: uint8(len(r.body))})
		prog = append(prog, r.body...)
	}
	return append(prog, retAllow), nil
}

// installNotify loads the notifying filter on the calling thread and
// returns its listener descriptor, after checking that the kernel can hand
// descriptors back to the server (SECCOMP_ADDFD_FLAG_SEND, Linux 5.14):
// without it the broker could not answer an open, and the server must not
// start.
func installNotify(observe, observeUnixSockets bool) (int, error) {
	insns, err := notifyProgram(observe, observeUnixSockets)
	if err != nil {
		return -1, err
	}
	raw, err := bpf.Assemble(insns)
	if err != nil {
		return -1, fmt.Errorf("seccomp notify filter: %w", err)
	}
	filter := make([]unix.SockFilter, len(raw))
	for i, r := range raw {
		filter[i] = unix.SockFilter{Code: r.Op, Jt: r.Jt, Jf: r.Jf, K: r.K}
	}
	prog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	// WAIT_KILLABLE_RECV (Linux 5.19): once the supervisor has a
	// notification, a signal to the server no longer interrupts and
	// restarts the syscall (Go servers get SIGURG constantly). A brokered
	// call must not be restarted after the supervisor performed it.
	for _, flags := range []uintptr{unix.SECCOMP_FILTER_FLAG_NEW_LISTENER | unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, unix.SECCOMP_FILTER_FLAG_NEW_LISTENER} {
		fd, _, errno := unix.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, flags, uintptr(unsafe.Pointer(&prog)))
		if errno == 0 {
			runtime.KeepAlive(filter)
			if err := checkAddFD(int(fd)); err != nil {
				unix.Close(int(fd))
				return -1, err
			}
			return int(fd), nil
		}
		if errno != unix.EINVAL {
			return -1, fmt.Errorf("seccomp(SECCOMP_FILTER_FLAG_NEW_LISTENER): %w", errno)
		}
	}
	return -1, errors.New("seccomp user notification is not supported by this kernel")
}

// seccompNotifAddfd is struct seccomp_notif_addfd.
type seccompNotifAddfd struct {
	ID         uint64
	Flags      uint32
	Srcfd      uint32
	Newfd      uint32
	NewfdFlags uint32
}

// checkAddFD asks the listener to add a descriptor for a notification
// that does not exist: a kernel with ADDFD and its SEND flag says ENOENT
// (no such notification); an older one rejects the flag or the ioctl.
func checkAddFD(listener int) error {
	req := seccompNotifAddfd{ID: 1<<63 - 1, Flags: unix.SECCOMP_ADDFD_FLAG_SEND, Srcfd: 0}
	_, _, errno := unix.RawSyscall(unix.SYS_IOCTL, uintptr(listener), unix.SECCOMP_IOCTL_NOTIF_ADDFD, uintptr(unsafe.Pointer(&req)))
	if errno == unix.ENOENT {
		return nil
	}
	return fmt.Errorf("seccomp SECCOMP_IOCTL_NOTIF_ADDFD with SECCOMP_ADDFD_FLAG_SEND (Linux 5.14) is not available (%v): srt-mcp cannot protect .git, .mcp.json and the other protected paths without it", errno)
}
