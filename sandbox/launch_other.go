//go:build !linux

package sandbox

import (
	"net"
	"runtime"
	"syscall"
)

// Process is a running sandbox. On this platform none can be started yet.
type Process struct{}

// Start fails closed: there is no backend for this platform yet.
func Start(spec Spec) (*Process, error) {
	return nil, &UnavailableError{
		Reason: "srt-mcp has no sandbox backend for " + runtime.GOOS + " yet",
		Fix:    "run the server on Linux with bubblewrap; the macOS Seatbelt backend is in progress",
	}
}

func (p *Process) Ready() error                    { return &UnavailableError{Reason: "no sandbox"} }
func (p *Process) Wait() int                       { return ExitSandbox }
func (p *Process) Signal(sig syscall.Signal) error { return nil }
func (p *Process) Kill()                           {}

// RunHelper exists only on Linux.
func RunHelper(args []string) int { return ExitSandbox }

// HelperCommand is the hidden sub-command srt-mcp runs as inside a sandbox.
const HelperCommand = "__exec"

// Listeners is never reached: Start fails first.
func (p *Process) Listeners() (net.Listener, net.Listener, error) {
	return nil, nil, &UnavailableError{Reason: "no sandbox"}
}
