package shim

import (
	"bytes"
	"encoding/json"

	"github.com/srt-mcp/srt-mcp/sandbox"
)

// CodeToolBlocked is the JSON-RPC error code of a tools/call the shim
// refuses (tool policy or a changed pin).
const CodeToolBlocked = -32003

// Limits of what the gates hold back.
const (
	// A tools/call must name its tool within this many bytes, or it is
	// refused: clients put params.name before the arguments.
	callDecisionLimit = 1 << 20
	// A tools/list or initialize response larger than this is relayed
	// unfiltered (calls to denied tools are still refused).
	listFilterLimit = 32 << 20
)

// toolGuard applies mcp.tools and the tool pins.
type toolGuard struct {
	mcp  sandbox.MCPSettings
	pins *pins // nil when pinning is off
}

func (t *toolGuard) active() bool {
	return t.pins != nil || len(t.mcp.ToolsAllow) > 0 || len(t.mcp.ToolsDeny) > 0
}

// callAllowed decides a tools/call; op names the kind of refusal.
func (t *toolGuard) callAllowed(tool string) (ok bool, op, why string) {
	if allowed, rule := t.mcp.ToolAllowed(tool); !allowed {
		return false, "call-denied", rule
	}
	if t.pins != nil {
		if why, blocked := t.pins.callBlocked(tool); blocked {
			return false, "call-blocked", why
		}
	}
	return true, "", ""
}

// serverGate holds the responses to tools/list (to filter and pin them) and
// to initialize or server/discover (to pin the instructions); everything
// else streams.
func (r *run) serverGate() *gate {
	return &gate{
		limit:     listFilterLimit,
		overLimit: pass,
		partial: func(env *Envelope, held int) verdict {
			switch {
			case env == nil:
				return undecided
			case env.Method != "":
				return pass // a request or notification from the server
			case env.ID != nil:
				switch r.inflight.method(env.ID) {
				case "tools/list", "initialize", "server/discover":
					return undecided
				}
				return pass
			}
			if held > callDecisionLimit {
				return pass // no id in the first MiB: not a reply we filter
			}
			return undecided
		},
		end: func(envs []Envelope, v verdict, msg []byte) (verdict, []byte) {
			method := ""
			if len(envs) == 1 && envs[0].IsResponse() && envs[0].HasResult {
				method = r.inflight.method(envs[0].ID)
			}
			for i := range envs {
				r.fromServer(&envs[i])
			}
			if v != undecided || msg == nil {
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
	defs := map[string]ToolDef{}
	kept := tools[:0:0]
	removed := 0
	for _, raw := range tools {
		name, def, ok := toolDef(raw)
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
		r.tools.pins.setServer(r.serverName())
		r.tools.pins.observeTools(defs)
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
		r.tools.pins.setServer(r.serverName())
		r.tools.pins.observeInstructions(m.Result.Instructions)
	}
}
