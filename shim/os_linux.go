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
	_, _ = unix.FcntlInt(f.Fd(), unix.F_SETPIPE_SZ, 1<<20)
}
