package audit

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/srt-mcp/srt-mcp/internal/trace"
	"github.com/srt-mcp/srt-mcp/netfilter"
	"github.com/srt-mcp/srt-mcp/sandbox"
)

// Observer is what srt-mcp audit asks of the run it observes (the hidden
// --audit-canary and --audit-decoy flags): besides violations, record every
// program started, every read of a decoy, every destination allowed, and
// every request that carries a canary. It implements shim.Observer.
type Observer struct {
	// Canaries maps a decoy's name to its unique value; any request that
	// carries one (host name, URL, header, plain body) is recorded.
	Canaries map[string]string
	// Decoys are files whose reads are recorded.
	Decoys []string
}

// Watch reports decoy reads and every program started.
func (o *Observer) Watch() sandbox.Watch {
	return sandbox.Watch{Decoys: o.Decoys, Exec: true}
}

// Connection records a canary in a destination's host name (DNS
// exfiltration) and every destination the policy allowed.
func (o *Observer) Connection(d netfilter.Decision) []trace.Event {
	var out []trace.Event
	target := fmt.Sprintf("%s:%d", d.Host, d.Port)
	for name, value := range o.Canaries {
		if strings.Contains(strings.ToLower(d.Host), strings.ToLower(value)) {
			out = append(out, trace.Event{Time: d.Time, Kind: trace.KindNetwork, Op: trace.OpExfil, Target: target, Decision: trace.DecisionAllow, Rule: "canary " + name + " in the host name"})
		}
	}
	if d.Allowed && !d.WouldDeny {
		out = append(out, trace.Event{Time: d.Time, Kind: trace.KindNetwork, Op: trace.Op(d.Protocol), Target: target, Decision: trace.DecisionAllow, Rule: d.Rule})
	}
	return out
}

// Request records a canary in a plain HTTP request's URL, headers or body.
func (o *Observer) Request(req *http.Request, body []byte) []trace.Event {
	var out []trace.Event
	var headers strings.Builder
	req.Header.Write(&headers) // a strings.Builder never fails
	for name, value := range o.Canaries {
		var where []string
		if strings.Contains(req.URL.String(), value) {
			where = append(where, "URL")
		}
		if strings.Contains(headers.String(), value) {
			where = append(where, "headers")
		}
		if bytes.Contains(body, []byte(value)) {
			where = append(where, "body")
		}
		if len(where) > 0 {
			out = append(out, trace.Event{Time: time.Now(), Kind: trace.KindNetwork, Op: trace.OpExfil, Target: req.URL.Host, Decision: trace.DecisionAllow,
				Rule: "canary " + name + " in the request " + strings.Join(where, " and ")})
		}
	}
	return out
}
