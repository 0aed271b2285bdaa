//go:build !unix

package shim

import (
	"os"

	"golang.org/x/sys/windows"
)

// srt-mcp has no sandbox backend on these systems: sandbox.Start fails
// closed and FailClosed answers the client. These are only what that path
// needs to build.

func isTerminal(f *os.File) bool {
	var mode uint32
	return windows.GetConsoleMode(windows.Handle(f.Fd()), &mode) == nil
}

func enlargePipe(f *os.File) {}

func blockingPipe() (r, w *os.File, err error) { return os.Pipe() }
