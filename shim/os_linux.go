package shim

import (
	"os"

	"golang.org/x/sys/unix"
)

func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// enlargePipe raises a pipe's capacity to 1 MiB (the unprivileged default
// maximum) so large messages move in fewer, larger chunks. Failure is
// harmless: the pipe keeps its default size.
func enlargePipe(f *os.File) {
	if f != nil {
		_, _ = unix.FcntlInt(f.Fd(), unix.F_SETPIPE_SZ, 1<<20)
	}
}

// blockingPipe is os.Pipe without O_NONBLOCK. The relay reads these pipes
// from dedicated goroutines; blocking reads wake the reading thread directly
// instead of going through the runtime's poller, which takes microseconds
// off every relayed message.
func blockingPipe() (r, w *os.File, err error) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		return nil, nil, os.NewSyscallError("pipe2", err)
	}
	return os.NewFile(uintptr(p[0]), "|0"), os.NewFile(uintptr(p[1]), "|1"), nil
}
