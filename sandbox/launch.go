package sandbox

import (
	"io"
	"os"
)

// Spec describes one sandboxed server launch.
type Spec struct {
	Policy *Policy
	Argv   []string // the server command and its arguments
	Env    []string // the environment the server would have had unsandboxed
	Stdin  *os.File
	Stdout *os.File
	Stderr *os.File
	// Trace, when set, receives the bubblewrap command line (--debug).
	Trace io.Writer
	// Observe asks for filesystem and unix-socket violations to be reported
	// through a seccomp supervisor (Process.Handover).
	Observe bool
}

// UnavailableError says the sandbox cannot be applied on this machine and
// how to fix that. The server is never started without it.
type UnavailableError struct {
	Reason string
	Fix    string
}

func (e *UnavailableError) Error() string {
	if e.Fix == "" {
		return e.Reason
	}
	return e.Reason + "; fix: " + e.Fix
}
