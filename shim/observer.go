package shim

import (
	"net/http"

	"github.com/srt-mcp/srt-mcp/internal/trace"
	"github.com/srt-mcp/srt-mcp/netfilter"
	"github.com/srt-mcp/srt-mcp/sandbox"
)

// Observer records what a run does beyond its violations. srt-mcp audit
// sets one (internal/audit.Observer); a normal run has none. The shim reports every event an Observer returns through the same
// path as its own violations (attributed to the requests in flight,
// traced), and otherwise knows nothing of what the Observer looks for.
//
// Observing never weakens enforcement: the events are records of what the
// policy already allowed, and the policy, not the Observer, decides.
type Observer interface {
	// Watch says what the seccomp judge reports beyond violations.
	Watch() sandbox.Watch
	// Connection is called for every destination the proxies decided.
	Connection(d netfilter.Decision) []trace.Event
	// Request is called for every plain HTTP request the proxy relays,
	// with the body it read (bounded by the proxy).
	Request(req *http.Request, body []byte) []trace.Event
}
