package probe

import (
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

func ptraceAttach(pid int) error {
	runtime.LockOSThread() // ptrace belongs to the attaching thread
	defer runtime.UnlockOSThread()
	if err := unix.PtraceAttach(pid); err != nil {
		return err
	}
	// PTRACE_DETACH needs the tracee stopped: wait for the attach's SIGSTOP.
	var ws unix.WaitStatus
	if _, err := unix.Wait4(pid, &ws, unix.WALL, nil); err != nil {
		return err
	}
	return unix.PtraceDetach(pid)
}

func ttyInject() error {
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		// No controlling terminal: fall back to stdin, which is what an
		// attacker would try next.
		tty = os.Stdin
	} else {
		defer tty.Close()
	}
	c := byte(' ')
	return unix.IoctlSetPointerInt(int(tty.Fd()), unix.TIOCSTI, int(c))
}
