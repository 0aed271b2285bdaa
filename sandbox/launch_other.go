//go:build !linux

package sandbox

import (
	"net"
	"runtime"
	"syscall"
	"time"
)

// Process is a running sandbox. On this platform none can be started yet.
type Process struct{ Mounts []Mount }

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

// Handover is never reached: Start fails first.
func (p *Process) Handover() (*Handover, error) {
	return nil, &UnavailableError{Reason: "no sandbox"}
}

// Handover is what a sandbox hands to srt-mcp once it exists.
type Handover struct {
	HTTP, SOCKS net.Listener
	Supervisor  *Supervisor
}

// Supervisor observes violations; there is none on this platform.
type Supervisor struct{}

// Attempt is an observed access; none are observed on this platform.
type Attempt struct {
	Time   time.Time
	Pid    int
	Call   string
	Paths  []string
	Write  bool
	Socket bool
}

// Run returns at once.
func (s *Supervisor) Run(observe func(Attempt)) {}
