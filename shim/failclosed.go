package shim

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/srt-mcp/srt-mcp/internal/safetext"
	"github.com/srt-mcp/srt-mcp/sandbox"

	"github.com/srt-mcp/srt-mcp/internal/jsonrpc"
)

// FailClosed is what srt-mcp does instead of running the server when it
// cannot sandbox it: say why on stderr, then answer every request the client
// sends (initialize, server/discover or any other) with a JSON-RPC error that
// carries the same reason and fix, until the client closes stdin. When stdin
// is a terminal nobody speaks JSON-RPC on it, so it returns at once.
func FailClosed(stdin *os.File, stdout io.Writer, stderr io.Writer, cause error, code int) int {
	msg := cause.Error()
	var ue *sandbox.UnavailableError
	if errors.As(cause, &ue) {
		msg = "the sandbox is unavailable: " + ue.Error()
	}
	// The cause can quote the server's argv or a path: one escaped line.
	// (stderr is a plain writer here, not safetext.MessageWriter, so the
	// text is escaped once.)
	fmt.Fprintf(stderr, "srt-mcp: %s\n", safetext.Line(msg))
	fmt.Fprintf(stderr, "srt-mcp: the MCP server was not started.\n")
	if stdin == nil || isTerminal(stdin) {
		return code
	}
	reply := "srt-mcp refused to start the MCP server: " + msg
	w := &messageWriter{w: stdout}
	sc := jsonrpc.NewScanner(func(e *jsonrpc.Envelope) {
		if e.IsRequest() {
			w.inject(jsonrpc.ErrorReply(e.ID, jsonrpc.CodeSandboxUnavailable, reply, map[string]any{"exitCode": code}))
		}
	})
	_ = pump(io.Discard, stdin, sc)
	return code
}
