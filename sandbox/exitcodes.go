package sandbox

// Exit codes srt-mcp itself uses. Any other code is the server's own.
const (
	// ExitUsage: bad command line or settings (unknown key, wrong type,
	// unreadable file). The server was not started.
	ExitUsage = 2
	// ExitSandbox: the sandbox could not be applied (bubblewrap missing,
	// user namespaces disabled, seccomp refused). The server was not started.
	ExitSandbox = 69 // EX_UNAVAILABLE
)
