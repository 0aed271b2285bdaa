package sandbox

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"time"
	"unsafe"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// Observation of filesystem and unix-socket violations on Linux.
//
// The helper installs a second seccomp filter whose only action besides
// ALLOW is USER_NOTIF, for the syscalls that open, create, remove or rename
// paths, and for socket(AF_UNIX). Its listener descriptor goes to srt-mcp
// on the host, which reads the path argument, compares it with the mount
// plan, records a violation, and then lets the kernel carry on
// (SECCOMP_USER_NOTIF_FLAG_CONTINUE). The mounts still decide: the
// supervisor observes and never grants anything. A path it read may have
// changed by the time the kernel reads it (the classic race of seccomp
// notification), which can only make a report wrong, never an access
// possible. The one call it answers itself is socket(AF_UNIX): the domain is
// an integer the filter checked, so refusing there is race-free, and if the
// supervisor is gone the kernel fails the call with ENOSYS: closed.
//
// stat(2)-like calls are not observed: Node alone makes about 1400 of them
// at start-up, and they reveal existence, not content.

// notifyTarget describes how to read the path arguments of a syscall.
type notifyTarget struct {
	name   string
	paths  [][2]int // pairs of (dirfd argument index or -1 for AT_FDCWD, path argument index)
	flags  int      // index of the open flags argument, or -1
	write  bool     // the call always modifies the filesystem
	socket bool
	exec   bool
}

// notifySyscalls lists the observed syscalls (plus the arch-specific ones
// in notifyArchSyscalls).
var notifySyscalls = map[uint32]notifyTarget{
	unix.SYS_OPENAT:      {name: "openat", paths: [][2]int{{0, 1}}, flags: 2},
	unix.SYS_OPENAT2:     {name: "openat2", paths: [][2]int{{0, 1}}, flags: -2}, // flags live in struct open_how
	unix.SYS_MKDIRAT:     {name: "mkdirat", paths: [][2]int{{0, 1}}, flags: -1, write: true},
	unix.SYS_MKNODAT:     {name: "mknodat", paths: [][2]int{{0, 1}}, flags: -1, write: true},
	unix.SYS_UNLINKAT:    {name: "unlinkat", paths: [][2]int{{0, 1}}, flags: -1, write: true},
	unix.SYS_RENAMEAT2:   {name: "renameat2", paths: [][2]int{{0, 1}, {2, 3}}, flags: -1, write: true},
	unix.SYS_RENAMEAT:    {name: "renameat", paths: [][2]int{{0, 1}, {2, 3}}, flags: -1, write: true},
	unix.SYS_SYMLINKAT:   {name: "symlinkat", paths: [][2]int{{1, 2}}, flags: -1, write: true},
	unix.SYS_LINKAT:      {name: "linkat", paths: [][2]int{{2, 3}}, flags: -1, write: true},
	unix.SYS_TRUNCATE:    {name: "truncate", paths: [][2]int{{-1, 0}}, flags: -1, write: true},
	unix.SYS_FCHMODAT:    {name: "fchmodat", paths: [][2]int{{0, 1}}, flags: -1, write: true},
	unix.SYS_FCHOWNAT:    {name: "fchownat", paths: [][2]int{{0, 1}}, flags: -1, write: true},
	unix.SYS_UTIMENSAT:   {name: "utimensat", paths: [][2]int{{0, 1}}, flags: -1, write: true},
	unix.SYS_SETXATTR:    {name: "setxattr", paths: [][2]int{{-1, 0}}, flags: -1, write: true},
	unix.SYS_LSETXATTR:   {name: "lsetxattr", paths: [][2]int{{-1, 0}}, flags: -1, write: true},
	unix.SYS_SOCKET:      {name: "socket", socket: true},
	unix.SYS_EXECVE:      {name: "execve", paths: [][2]int{{-1, 0}}, flags: -1, exec: true},
	unix.SYS_EXECVEAT:    {name: "execveat", paths: [][2]int{{0, 1}}, flags: -1, exec: true},
	unix.SYS_FCHMODAT2:   {name: "fchmodat2", paths: [][2]int{{0, 1}}, flags: -1, write: true},
	unix.SYS_REMOVEXATTR: {name: "removexattr", paths: [][2]int{{-1, 0}}, flags: -1, write: true},
}

func lookupNotify(nr uint32) (notifyTarget, bool) {
	if t, ok := notifySyscalls[nr]; ok {
		return t, true
	}
	t, ok := notifyArchSyscalls[nr]
	return t, ok
}

// notifyProgram builds the observing filter.
func notifyProgram(observeUnixSockets bool) ([]bpf.Instruction, error) {
	arch, ok := auditArch[runtime.GOARCH]
	if !ok {
		return nil, fmt.Errorf("seccomp filter: unsupported architecture %s", runtime.GOARCH)
	}
	notify := bpf.RetConstant{Val: unix.SECCOMP_RET_USER_NOTIF}
	prog := []bpf.Instruction{
		bpf.LoadAbsolute{Off: offArch, Size: 4},
		// Foreign ABIs are refused by the enforcing filter already.
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: arch, SkipFalse: 1},
		bpf.LoadAbsolute{Off: offNr, Size: 4},
	}
	// Index 1 jumps here when the arch is foreign: placed after the chain.
	var nrs []uint32
	for nr := range notifySyscalls {
		nrs = append(nrs, nr)
	}
	for nr := range notifyArchSyscalls {
		nrs = append(nrs, nr)
	}
	var body []bpf.Instruction
	for _, nr := range nrs {
		t, _ := lookupNotify(nr)
		if t.socket {
			if !observeUnixSockets {
				continue
			}
			body = append(body,
				bpf.JumpIf{Cond: bpf.JumpEqual, Val: nr, SkipFalse: 3},
				bpf.LoadAbsolute{Off: offArg0, Size: 4},
				bpf.JumpIf{Cond: bpf.JumpEqual, Val: unix.AF_UNIX, SkipFalse: 1},
				notify,
			)
			// The accumulator no longer holds the number: every later check
			// would be wrong, so socket is handled last.
			continue
		}
		body = append([]bpf.Instruction{bpf.JumpIf{Cond: bpf.JumpEqual, Val: nr, SkipTrue: 0, SkipFalse: 1}, notify}, body...)
	}
	prog = append(prog, body...)
	prog = append(prog, retAllow)
	// Fix the foreign-arch jump at index 1 to land on the final ALLOW.
	prog[1] = bpf.JumpIf{Cond: bpf.JumpEqual, Val: arch, SkipFalse: uint8(len(prog) - 3)}
	return prog, nil
}

// installNotify loads the observing filter on the calling thread and returns
// its listener descriptor.
func installNotify(observeUnixSockets bool) (int, error) {
	insns, err := notifyProgram(observeUnixSockets)
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
	// restarts the syscall (Go servers get SIGURG constantly).
	for _, flags := range []uintptr{unix.SECCOMP_FILTER_FLAG_NEW_LISTENER | unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, unix.SECCOMP_FILTER_FLAG_NEW_LISTENER} {
		fd, _, errno := unix.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, flags, uintptr(unsafe.Pointer(&prog)))
		if errno == 0 {
			runtime.KeepAlive(filter)
			return int(fd), nil
		}
		if errno != unix.EINVAL {
			return -1, fmt.Errorf("seccomp(SECCOMP_FILTER_FLAG_NEW_LISTENER): %w", errno)
		}
	}
	return -1, errors.New("seccomp user notification is not supported by this kernel")
}

// Kernel structures (include/uapi/linux/seccomp.h).
type seccompData struct {
	Nr   int32
	Arch uint32
	IP   uint64
	Args [6]uint64
}

type seccompNotif struct {
	ID    uint64
	Pid   uint32
	Flags uint32
	Data  seccompData
}

type seccompNotifResp struct {
	ID    uint64
	Val   int64
	Error int32
	Flags uint32
}

// Supervisor receives notifications from the observing filter.
type Supervisor struct {
	fd       int
	recvSize int
}

// NewSupervisor takes ownership of a listener descriptor.
func NewSupervisor(fd int) (*Supervisor, error) {
	var sizes struct{ Notif, Resp, Data uint16 }
	if _, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_GET_NOTIF_SIZES, 0, uintptr(unsafe.Pointer(&sizes))); errno != 0 {
		return nil, fmt.Errorf("SECCOMP_GET_NOTIF_SIZES: %w", errno)
	}
	// The kernel may write a larger struct than ours; receive into a buffer
	// of its size and read our prefix.
	n := max(int(sizes.Notif), int(unsafe.Sizeof(seccompNotif{})))
	if int(sizes.Resp) > int(unsafe.Sizeof(seccompNotifResp{})) {
		return nil, fmt.Errorf("seccomp response struct is %d bytes, srt-mcp knows %d", sizes.Resp, unsafe.Sizeof(seccompNotifResp{}))
	}
	// Linux 6.6+: wake the supervisor synchronously, on the waiting task's
	// CPU, instead of through the scheduler: each notification is a pair of
	// wake-ups, and this roughly halves their cost. Older kernels say
	// EINVAL; the supervisor works the same without it.
	syncWakeUp := uint64(1) // SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
	unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SECCOMP_IOCTL_NOTIF_SET_FLAGS, uintptr(unsafe.Pointer(&syncWakeUp)))
	return &Supervisor{fd: fd, recvSize: n}, nil
}

// Run handles notifications until the sandbox is gone. observe is called
// for every attempt, after the syscall has been let go on: the server never
// waits for it. The one exception is socket(AF_UNIX), which is refused
// here and then reported. Run locks its goroutine to a thread.
//
// The waiting server pays only for what must happen before the answer:
// receiving, copying the path out of its memory (it could change later),
// naming the working directory or directory descriptor (same), and the
// answer. Resolving symlinks and comparing with the mount plan happen on
// another goroutine.
func (s *Supervisor) Run(observe func(Attempt)) {
	queue := make(chan Attempt, 4096)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for a := range queue {
			observe(a)
		}
	}()
	defer func() { close(queue); <-done }()

	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer unix.Close(s.fd)
	buf := make([]byte, s.recvSize)
	for {
		clear(buf)
		if _, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(s.fd), unix.SECCOMP_IOCTL_NOTIF_RECV, uintptr(unsafe.Pointer(&buf[0]))); errno != 0 {
			if errno == unix.EINTR || errno == unix.ENOENT {
				continue // interrupted, or the target died before we got it
			}
			return // EBADF, or no more filter users: the sandbox is gone
		}
		n := (*seccompNotif)(unsafe.Pointer(&buf[0]))
		resp := seccompNotifResp{ID: n.ID, Flags: unix.SECCOMP_USER_NOTIF_FLAG_CONTINUE}
		a, ok := s.decode(n)
		if t, known := lookupNotify(uint32(n.Data.Nr)); known && t.socket {
			// Only AF_UNIX sockets are notified: refuse, decodable or not.
			resp.Flags, resp.Error = 0, -int32(unix.EPERM)
		}
		// ENOENT: the target died or the syscall was interrupted; fine.
		unix.Syscall(unix.SYS_IOCTL, uintptr(s.fd), unix.SECCOMP_IOCTL_NOTIF_SEND, uintptr(unsafe.Pointer(&resp)))
		if ok {
			select {
			case queue <- a:
			default: // the judge is far behind: drop a report, never stall the server
			}
		}
	}
}

func (s *Supervisor) valid(id uint64) bool {
	_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(s.fd), unix.SECCOMP_IOCTL_NOTIF_ID_VALID, uintptr(unsafe.Pointer(&id)))
	return errno == 0
}

func (s *Supervisor) decode(n *seccompNotif) (Attempt, bool) {
	t, ok := lookupNotify(uint32(n.Data.Nr))
	if !ok {
		return Attempt{}, false
	}
	a := Attempt{Time: time.Now(), Pid: int(n.Pid), Call: t.name, Write: t.write, Socket: t.socket, Exec: t.exec}
	if t.socket {
		return a, true
	}
	for _, p := range t.paths {
		path, err := readString(int(n.Pid), uintptr(n.Data.Args[p[1]]))
		if err != nil {
			return Attempt{}, false
		}
		dirfd := unix.AT_FDCWD
		if p[0] >= 0 {
			dirfd = int(int32(n.Data.Args[p[0]]))
		}
		a.Paths = append(a.Paths, absolute(int(n.Pid), dirfd, path))
	}
	switch {
	case t.flags >= 0:
		flags := int(n.Data.Args[t.flags])
		a.Write = flags&(unix.O_WRONLY|unix.O_RDWR|unix.O_CREAT|unix.O_TRUNC|unix.O_APPEND) != 0
	case t.flags == -2: // openat2: struct open_how { u64 flags; ... }
		if b, err := readBytes(int(n.Pid), uintptr(n.Data.Args[2]), 8); err == nil {
			flags := int(*(*uint64)(unsafe.Pointer(&b[0])))
			a.Write = flags&(unix.O_WRONLY|unix.O_RDWR|unix.O_CREAT|unix.O_TRUNC|unix.O_APPEND) != 0
		}
	}
	// The pointers were read from a live process: make sure the
	// notification (and so the memory we read) still belongs to it.
	if !s.valid(n.ID) {
		return Attempt{}, false
	}
	return a, true
}

// absolute turns a path argument into an absolute path in the process's
// view, using its working directory or the directory descriptor.
func absolute(pid, dirfd int, path string) string {
	if filepath.IsAbs(path) {
		return filepath.Clean(path)
	}
	var base string
	var err error
	if dirfd == unix.AT_FDCWD {
		base, err = os.Readlink("/proc/" + strconv.Itoa(pid) + "/cwd")
	} else {
		base, err = os.Readlink("/proc/" + strconv.Itoa(pid) + "/fd/" + strconv.Itoa(dirfd))
	}
	if err != nil {
		return path
	}
	return filepath.Join(base, path)
}

// readString reads a NUL-terminated string of at most PATH_MAX bytes from
// another process, page by page so that a string ending near the end of a
// mapping does not fail the read.
func readString(pid int, addr uintptr) (string, error) {
	var out []byte
	for len(out) < unix.PathMax {
		chunk := 4096 - int(addr%4096) // stay within one page per read
		b, err := readBytes(pid, addr, chunk)
		if err != nil {
			return "", err
		}
		for i, c := range b {
			if c == 0 {
				return string(append(out, b[:i]...)), nil
			}
		}
		out = append(out, b...)
		addr += uintptr(chunk)
	}
	return "", errors.New("path longer than PATH_MAX")
}

func readBytes(pid int, addr uintptr, n int) ([]byte, error) {
	b := make([]byte, n)
	local := []unix.Iovec{{Base: &b[0], Len: uint64(n)}}
	remote := []unix.RemoteIovec{{Base: addr, Len: n}}
	got, err := unix.ProcessVMReadv(pid, local, remote, 0)
	if err != nil {
		return nil, err
	}
	return b[:got], nil
}
