package sandbox

import (
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"syscall"
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

// Handover is what the sandbox hands to srt-mcp once its namespaces
// exist: the proxies' listening sockets (127.0.0.1:3128 for HTTP,
// 127.0.0.1:1080 for SOCKS5, inside the sandbox's network namespace) and,
// when the kernel supports it, the supervisor of the observing seccomp
// filter.
type Handover struct {
	HTTP, SOCKS net.Listener
	// Secret, when set, is the credential the proxies must demand (macOS:
	// they listen on the host's loopback).
	Secret     string
	Supervisor *Supervisor // Linux: the seccomp supervisor; nil when unavailable
	// Monitor, when set, reports violations until the sandbox ends (macOS:
	// the unified log).
	Monitor func(report func(Violation))
}

// exitStatus turns the result of waiting for the sandbox into srt-mcp's exit
// code: the server's status, or 128+N when it died of signal N.
func exitStatus(err error) int {
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return ee.ExitCode()
	}
	return ExitSandbox
}
