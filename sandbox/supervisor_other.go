//go:build !linux

package sandbox

// Supervisor observes violations through seccomp; Linux only.
type Supervisor struct{}

// Run returns at once.
func (s *Supervisor) Run(observe func(Attempt)) {}

// RunHelper exists only on Linux, where srt-mcp runs inside bubblewrap.
func RunHelper(args []string) int { return ExitSandbox }
