package shim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/srt-mcp/srt-mcp/sandbox"

	"github.com/srt-mcp/srt-mcp/internal/jsonrpc"

	"github.com/srt-mcp/srt-mcp/internal/trace"

	"github.com/srt-mcp/srt-mcp/internal/pins"
)

// Limits of what the gates hold back.
const (
	// A tools/call must name its tool within this many bytes, or it is
	// refused: clients put params.name before the arguments.
	callDecisionLimit = 1 << 20
	// A tools/list or initialize response larger than this is refused:
	// it could be neither filtered nor pinned.
	listFilterLimit = 32 << 20
)

// toolGuard applies mcp.tools and the tool pins.
type toolGuard struct {
	mcp  sandbox.MCPSettings
	pins *pins.Session // nil when pinning is off
}

func (t *toolGuard) active() bool {
	return t.pins != nil || len(t.mcp.ToolsAllow) > 0 || len(t.mcp.ToolsDeny) > 0
}

// callAllowed decides a tools/call; op names the kind of refusal.
func (t *toolGuard) callAllowed(tool string) (ok bool, op trace.Op, why string) {
	if allowed, rule := t.mcp.ToolAllowed(tool); !allowed {
		return false, trace.OpCallDenied, rule
	}
	if t.pins != nil {
		if why, blocked := t.pins.CallBlocked(tool); blocked {
			return false, trace.OpCallBlocked, why
		}
	}
	return true, "", ""
}

// serverGate holds the responses to tools/list (to filter and pin them) and
// to initialize or server/discover (to pin the instructions); everything
// else streams. A held response is relayed only if the client is bound to
// read it as the gate did (strictResponse); one too large to hold is
// refused, since it could be neither filtered nor pinned.
func (r *run) serverGate() *gate {
	return &gate{
		limit:     listFilterLimit,
		overLimit: drop,
		partial: func(env *jsonrpc.Envelope, held int) verdict {
			switch {
			case env == nil:
				return undecided
			case env.Method != "":
				return pass // a request or notification from the server
			case env.ID != nil:
				if heldMethod(r.inflight.method(env.ID)) {
					return undecided
				}
				if m, _, loose := r.inflight.looseMatch(env.ID); loose && heldMethod(m) {
					return undecided // refused at the end: see below
				}
				return pass
			}
			// No id yet. A server may write the result before the id
			// (the TypeScript SDK always does), so while a tools/list,
			// initialize or server/discover is unanswered this may be its
			// answer, however long: held to the end (up to
			// listFilterLimit), never streamed unfiltered and unpinned.
			if held > callDecisionLimit && !r.inflight.anyMethod(heldMethod) {
				return pass // no id in the first MiB, and no answer we filter is due
			}
			return undecided
		},
		end: func(envs []jsonrpc.Envelope, v verdict, msg []byte) (verdict, []byte) {
			// The response partial held, if it was one: its first envelope
			// carries the id of a held request, whatever else the line
			// holds.
			var id []byte
			method := ""
			if len(envs) > 0 && envs[0].ID != nil && envs[0].Method == "" {
				id, method = envs[0].ID, r.inflight.method(envs[0].ID)
			}
			if !heldMethod(method) {
				if v == drop && method != "" {
					// Another request's answer, held because it came result
					// first while a held one was due, and over the limit:
					// the client must not wait for it forever.
					r.failOversized(id, method)
				}
				method = ""
			}
			if method == "" && len(envs) > 0 && envs[0].ID != nil && envs[0].Method == "" {
				// An id that differs from the request's as JSON but that a
				// lenient client reads as the same (2 and "2", 2.0, "0x2")
				// would carry a tools/list or initialize answer past the
				// filter and the pins. No conforming server does that.
				if m, reqID, loose := r.inflight.looseMatch(envs[0].ID); loose && heldMethod(m) {
					why := fmt.Sprintf("its id %s is not the id %s of the %s request, though a client could take it for that", envs[0].ID, reqID, m)
					r.inflight.remove(reqID)
					r.report(trace.Event{Time: time.Now(), Kind: trace.KindTool, Op: trace.OpResponseRefused, Target: m, Decision: trace.DecisionDeny, Rule: why})
					reply := jsonrpc.ErrorReply(reqID, jsonrpc.CodeResponseRefused, "srt-mcp refused the server's "+m+" response: "+why, nil)
					if v == drop {
						r.out.inject(reply)
						return drop, nil
					}
					return replace, reply
				}
			}
			hasResult := len(envs) == 1 && envs[0].IsResponse() && envs[0].HasResult
			for i := range envs {
				r.fromServer(&envs[i])
			}
			if method == "" {
				return v, nil
			}
			why := ""
			switch {
			case v == drop:
				why = fmt.Sprintf("it is larger than %d MiB, too large to pin and filter", listFilterLimit>>20)
			case msg != nil:
				why = strictResponse(msg, method)
			}
			if why != "" {
				r.report(trace.Event{Time: time.Now(), Kind: trace.KindTool, Op: trace.OpResponseRefused, Target: method, Decision: trace.DecisionDeny, Rule: why})
				reply := jsonrpc.ErrorReply(id, jsonrpc.CodeResponseRefused, "srt-mcp refused the server's "+method+" response: "+why, nil)
				if v == drop {
					r.out.inject(reply)
					return drop, nil
				}
				return replace, reply
			}
			if v != undecided || msg == nil || !hasResult {
				return v, nil
			}
			switch method {
			case "tools/list":
				if out, changed := r.filterToolsList(msg); changed {
					return replace, out
				}
			case "initialize", "server/discover":
				r.observeInstructions(msg)
			}
			return pass, nil
		},
	}
}

// failOversized answers the request id with an error in place of a
// response the gate dropped for its size.
func (r *run) failOversized(id []byte, method string) {
	why := fmt.Sprintf("it is larger than %d MiB and its id came after its result while a tools/list, initialize or server/discover was unanswered, so it had to be held and could not be", listFilterLimit>>20)
	r.report(trace.Event{Time: time.Now(), Kind: trace.KindTool, Op: trace.OpResponseRefused, Target: method, Decision: trace.DecisionDeny, Rule: why})
	r.out.inject(jsonrpc.ErrorReply(id, jsonrpc.CodeResponseRefused, "srt-mcp refused the server's "+method+" response: "+why, nil))
}

func heldMethod(m string) bool {
	return m == "tools/list" || m == "initialize" || m == "server/discover"
}

// strictResponse says why a held response could be read differently by
// the client than by the gate, or "". The gate pins and filters what it
// parses; a client that parses a JSON stream, splits at a bare CR, or
// matches keys case-insensitively (every Go client using encoding/json)
// must not be able to see another tool list or other instructions. So the
// line must be exactly one JSON value (the scanner's line verdict and
// json.Valid), and no object the gate reads (the message, its result, each
// tool) may hold two keys that are equal under Unicode case folding.
func strictResponse(msg []byte, method string) string {
	line := msg
	if !bytes.HasSuffix(line, []byte{'\n'}) {
		line = append(append([]byte(nil), line...), '\n')
	}
	sc := jsonrpc.NewScanner(func(*jsonrpc.Envelope) {})
	sc.Scan(line)
	if info := sc.Line(); info.Bad {
		return info.Why
	}
	if !json.Valid(trimLine(line)) {
		return "not valid JSON"
	}
	top, why := strictObject(trimLine(line))
	if why != "" {
		return why
	}
	raw, ok := top["result"]
	if !ok {
		return "" // an error response: nothing to pin
	}
	result, why := strictObject(raw)
	if why != "" || method != "tools/list" {
		return why
	}
	var tools []json.RawMessage
	if json.Unmarshal(result["tools"], &tools) != nil {
		return "result.tools is not an array"
	}
	for _, t := range tools {
		if _, why := strictObject(t); why != "" {
			return why
		}
	}
	return ""
}

// strictObject decodes a JSON object whose keys are distinct even under
// Unicode case folding, or says why it is not one.
func strictObject(raw []byte) (map[string]json.RawMessage, string) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, "not a JSON object where one is expected"
	}
	out := map[string]json.RawMessage{}
	folded := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, "not valid JSON"
		}
		key := tok.(string)
		if f := foldKey(key); folded[f] {
			return nil, fmt.Sprintf("the key %q appears twice, or in two spellings that differ only in case", key)
		} else {
			folded[f] = true
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, "not valid JSON"
		}
		out[key] = v
	}
	return out, ""
}

// foldKey maps each rune to the smallest rune of its case-folding orbit, so
// keys that strings.EqualFold (and encoding/json) treat as equal map to the
// same string.
func foldKey(s string) string {
	return strings.Map(func(r rune) rune {
		m := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			m = min(m, f)
		}
		return m
	}, s)
}

// filterToolsList pins the tools of a tools/list response and removes the
// ones the tool policy denies. The message is re-encoded only when a tool is
// removed; otherwise its bytes pass unchanged.
func (r *run) filterToolsList(msg []byte) ([]byte, bool) {
	var top map[string]json.RawMessage
	if json.Unmarshal(msg, &top) != nil {
		return nil, false
	}
	var result map[string]json.RawMessage
	if json.Unmarshal(top["result"], &result) != nil {
		return nil, false
	}
	var tools []json.RawMessage
	if json.Unmarshal(result["tools"], &tools) != nil {
		return nil, false
	}
	defs := map[string]pins.ToolDef{}
	kept := tools[:0:0]
	removed := 0
	for _, raw := range tools {
		name, def, ok := pins.ParseTool(raw)
		if ok {
			defs[name] = def
		}
		if allowed, _ := r.tools.mcp.ToolAllowed(name); ok && !allowed {
			removed++
			continue
		}
		kept = append(kept, raw)
	}
	if r.tools.pins != nil {
		r.tools.pins.ObserveTools(defs)
	}
	if removed == 0 {
		return nil, false
	}
	result["tools"], _ = json.Marshal(kept)
	top["result"], _ = json.Marshal(result)
	out, err := json.Marshal(top)
	if err != nil {
		return nil, false
	}
	return append(out, '\n'), true
}

func (r *run) observeInstructions(msg []byte) {
	if r.tools.pins == nil {
		return
	}
	var m struct {
		Result struct {
			Instructions string `json:"instructions"`
		} `json:"result"`
	}
	if json.Unmarshal(bytes.TrimSpace(msg), &m) == nil {
		r.tools.pins.ObserveInstructions(m.Result.Instructions)
	}
}
