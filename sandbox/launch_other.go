//go:build !linux && !darwin

package sandbox

import (
	"runtime"
	"syscall"
)

// Process is a running sandbox. On this platform none can be started.
type Process struct {
	Mounts  []Mount
	Notices []string
}

// Start fails closed: there is no backend for this platform.
func Start(spec Spec) (*Process, error) {
	return nil, &UnavailableError{
		Reason: "srt-mcp has no sandbox backend for " + runtime.GOOS,
		Fix:    "run the server on Linux (bubblewrap) or macOS (Seatbelt)",
	}
}

func (p *Process) Ready() error                    { return &UnavailableError{Reason: "no sandbox"} }
func (p *Process) Wait() int                       { return ExitSandbox }
func (p *Process) Signal(sig syscall.Signal) error { return nil }
func (p *Process) Kill()                           {}
func (p *Process) Handover() (*Handover, error)    { return nil, &UnavailableError{Reason: "no sandbox"} }
