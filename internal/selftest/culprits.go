package selftest

import (
	"encoding/json"
	"fmt"
	"strings"
)

// culprits are, per protection, the settings that can make its row fail.
// A FAIL row's hint names those the policy under test actually sets, and
// where, rather than a guess: with allowWrite ["/"] the hint is about
// allowWrite, not about an enableWeakerNestedSandbox nobody set. Rows not
// listed fail only through the machine (their static hint says how).
var culprits = map[string][]string{
	"read of a denyRead path":  {"filesystem.allowRead"},
	"write outside allowWrite": {"filesystem.allowWrite"},
	"write to a mandatory deny file (.mcp.json) in an allowed directory": {"mandatoryDenySearchDepth"},
	"new file under .git/hooks":                                    {"mandatoryDenySearchDepth"},
	"request to an unlisted domain via the proxy":                  {"network.allowedDomains"},
	"unix socket to a host socket":                                 {"network.allowAllUnixSockets", "network.allowUnixSockets"},
	"visibility of host processes":                                 {"enableWeakerNestedSandbox"},
	"rewriting the settings file in use":                           {"filesystem.allowWrite"},
	"reading an MCP client config (~/.claude.json)":                {"filesystem.allowRead"},
	"working-directory rule (server started in / or ~)":            {"filesystem.allowWrite"},
	"writable home / persistence points (~/.bashrc, ~/.local/bin)": {"filesystem.allowWrite"},
	"resource limits (processes, memory, /tmp size)":               {"srtMcp.limits", "filesystem.allowWrite"},
	"ptrace of a process in the sandbox (PID 1 and a sibling)":     {"srtMcp.allowPtrace"},
	"rewriting a package in the npm cache (~/.npm writable)":       {"srtMcp.sharedLauncherCaches"},
}

// layer is one settings document of the policy under test and its name
// for people (the user's file, or a built-in profile).
type layer struct {
	name string
	data []byte
}

// failHint is the hint of a failed row: the culprit settings the policy
// sets, each with its value and where it is set; when it sets none of
// them, the static hint, saying the settings were ruled out.
func failHint(protection, static string, layers []layer) string {
	keys := culprits[protection]
	var set []string
	for _, l := range layers {
		var doc map[string]any
		if json.Unmarshal(l.data, &doc) != nil {
			continue
		}
		for _, k := range keys {
			if v, ok := lookup(doc, k); ok && !zero(v) {
				b, _ := json.Marshal(v)
				set = append(set, fmt.Sprintf("%s is %s in %s", k, b, l.name))
			}
		}
	}
	if len(set) > 0 {
		return "set by the policy: " + strings.Join(set, "; ") + " (" + static + ")"
	}
	if len(keys) > 0 {
		return static + " (the policy does not set " + strings.Join(keys, " or ") + ": look at the machine)"
	}
	return static
}

// lookup finds a dotted key in a JSON document.
func lookup(doc map[string]any, key string) (any, bool) {
	var cur any = doc
	for _, part := range strings.Split(key, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[part]; !ok {
			return nil, false
		}
	}
	return cur, true
}

func zero(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case bool:
		return !x
	case string:
		return x == ""
	case []any:
		return len(x) == 0
	case map[string]any:
		return len(x) == 0
	}
	return false
}
