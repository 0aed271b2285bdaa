//go:build unix && !linux

package shim

import (
	"os"

	"golang.org/x/sys/unix"
)

func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TIOCGETA)
	return err == nil
}

func enlargePipe(f *os.File) {}

func blockingPipe() (r, w *os.File, err error) { return os.Pipe() }
