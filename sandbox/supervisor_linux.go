package sandbox

import (
	"fmt"
	"os"
	"runtime"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The seccomp supervisor on the host. It receives the notifying filter's
// notifications (notify_filter_linux.go) on one locked thread and answers
// each one:
//
//   - a brokered call (create, write-open, rename, link, remove, chmod …)
//     is performed here, on the supervisor's own copy of the arguments,
//     through the sandbox's root, and its result is the answer: the kernel
//     never reads the server's arguments again, so there is no time-of-check
//     race (broker_linux.go). Protected paths are refused.
//   - socket(AF_UNIX) is refused: the domain is an integer the filter
//     checked, so refusing there is race-free.
//   - everything else is let go on (CONTINUE) and only reported.
//
// If the supervisor is gone, the kernel fails every notified call with
// ENOSYS: closed.
//
// stat(2)-like calls are not notified: Node alone makes about 1400 of them
// at start-up, and they reveal existence, not content.

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

// Supervisor receives notifications from the notifying filter.
type Supervisor struct {
	fd       int
	recvSize int
	broker   *broker
}

// NewSupervisor takes ownership of a listener descriptor. prot is what the
// broker refuses.
func NewSupervisor(fd int, prot *Protection) (*Supervisor, error) {
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
	return &Supervisor{fd: fd, recvSize: n, broker: &broker{prot: prot, listener: fd}}, nil
}

// Run handles notifications until the sandbox is gone. observe is called
// for every attempt, after the syscall has been answered: the server never
// waits for it. Run locks its goroutine to a thread for good: the thread's
// capabilities and umask are changed for the broker, so it must end with
// this goroutine and never run other Go code.
//
// The waiting server pays only for what must happen before the answer:
// receiving, copying the path out of its memory, and, for a brokered call,
// the call itself. Judging against the mount plan happens on another
// goroutine.
func (s *Supervisor) Run(observe func(Attempt)) {
	queue := make(chan Attempt, 4096)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for a := range queue {
			if observe != nil {
				observe(a)
			}
		}
	}()
	defer func() { close(queue); <-done }()

	runtime.LockOSThread() // never unlocked: see above
	defer unix.Close(s.fd)
	if err := brokerThread(); err != nil {
		// Without the broker every brokered call would run with the wrong
		// credentials: stop, and the kernel fails them all (ENOSYS).
		fmt.Fprintf(os.Stderr, "srt-mcp: seccomp broker: %v; every file creation in the sandbox will fail\n", err)
		return
	}
	buf := make([]byte, s.recvSize)
	for {
		// Wait in poll, not in RECV: poll reports POLLHUP once no task
		// uses the filter any more, so the supervisor ends with its
		// sandbox (issue 13: RECV failing with ENOENT was retried
		// forever). One extra syscall per notification.
		if !s.waitReadable() {
			return
		}
		clear(buf)
		if _, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(s.fd), unix.SECCOMP_IOCTL_NOTIF_RECV, uintptr(unsafe.Pointer(&buf[0]))); errno != 0 {
			if errno == unix.EINTR || errno == unix.ENOENT {
				continue // interrupted, or the target died before we got it
			}
			return // EBADF and the like: nothing more will come
		}
		n := (*seccompNotif)(unsafe.Pointer(&buf[0]))
		a, ok := s.handle(n)
		if ok {
			select {
			case queue <- a:
			default: // the judge is far behind: drop a report, never stall the server
			}
		}
	}
}

// waitReadable blocks until a notification is ready (true) or no task
// uses the filter any more (false).
func (s *Supervisor) waitReadable() bool {
	for {
		fds := []unix.PollFd{{Fd: int32(s.fd), Events: unix.POLLIN}}
		if _, err := unix.Poll(fds, -1); err != nil {
			if err == unix.EINTR {
				continue
			}
			return false
		}
		if fds[0].Revents&unix.POLLIN != 0 {
			return true
		}
		if fds[0].Revents&(unix.POLLHUP|unix.POLLERR|unix.POLLNVAL) != 0 {
			return false
		}
	}
}

// handle answers one notification and returns what to report.
func (s *Supervisor) handle(n *seccompNotif) (Attempt, bool) {
	t, known := lookupNotify(uint32(n.Data.Nr))
	resp := seccompNotifResp{ID: n.ID, Flags: unix.SECCOMP_USER_NOTIF_FLAG_CONTINUE}
	switch {
	case !known:
		// Not ours to judge (cannot happen with our filter): let it go.
	case t.socket:
		// Only AF_UNIX sockets are notified: refuse. The time is taken
		// before the answer, while the MCP call behind it is in flight.
		a := Attempt{Time: time.Now(), Pid: int(n.Pid), Call: t.name, Socket: true}
		resp.Flags, resp.Error = 0, -int32(unix.EPERM)
		s.send(&resp)
		return a, true
	case t.broker == bUmask:
		// The new mask is a register value: the kernel uses the same.
		s.broker.umasks.set(int(n.Pid), uint32(n.Data.Args[0]))
		s.send(&resp)
		return Attempt{}, false
	case t.broker != bNone && !(t.broker == bOpen && t.bFlags >= 0 && int(n.Data.Args[t.bFlags])&writeOpenFlags == 0):
		return s.broker.handle(n, t)
	}
	a, ok := s.decode(n, t)
	// ENOENT: the target died or the syscall was interrupted; fine.
	s.send(&resp)
	return a, ok
}

func (s *Supervisor) send(resp *seccompNotifResp) {
	unix.Syscall(unix.SYS_IOCTL, uintptr(s.fd), unix.SECCOMP_IOCTL_NOTIF_SEND, uintptr(unsafe.Pointer(resp)))
}

func valid(listener int, id uint64) bool {
	_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(listener), unix.SECCOMP_IOCTL_NOTIF_ID_VALID, uintptr(unsafe.Pointer(&id)))
	return errno == 0
}

// decode reads an observed (not brokered) call's paths for the report.
func (s *Supervisor) decode(n *seccompNotif, t notifyTarget) (Attempt, bool) {
	a := Attempt{Time: time.Now(), Pid: int(n.Pid), Call: t.name, Write: t.write, Exec: t.exec}
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
	if t.flags >= 0 {
		a.Write = int(n.Data.Args[t.flags])&(writeOpenFlags|unix.O_APPEND) != 0
	}
	// The pointers were read from a live process: make sure the
	// notification (and so the memory we read) still belongs to it.
	if !valid(s.fd, n.ID) {
		return Attempt{}, false
	}
	return a, true
}
