package selftest

import (
	"encoding/json"
	"os"

	"github.com/srt-mcp/srt-mcp/sandbox"
)

// settingsUnderTest returns the policy under test as JSON, with a decoy
// added to filesystem.denyRead so the read protection is checked without
// touching real credentials.
func settingsUnderTest(settingsFile, profile, decoy string) ([]byte, string, error) {
	var data []byte
	var source string
	if settingsFile == "" && profile != "" {
		// The profile itself is applied by srt-mcp's --profile; the
		// file carries only the decoy.
		data, source = []byte("{}"), "built-in profile "+profile
	} else {
		// The file, else ~/.srt-settings.json, else the default:
		// read, and failing, as srt-mcp's own run does.
		home, _ := os.UserHomeDir()
		var err error
		if data, source, err = sandbox.ReadSettings(settingsFile, "", home); err != nil {
			return nil, source, err
		}
		if profile != "" {
			source += " over built-in profile " + profile
		}
	}
	if _, err := sandbox.ParseSettings(source, data); err != nil {
		return nil, source, err
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, source, err
	}
	fsm := filesystem(m)
	deny, _ := fsm["denyRead"].([]any)
	fsm["denyRead"] = append(deny, decoy)
	out, err := json.Marshal(m)
	return out, source, err
}

// withAllowWrite is the policy with path added to filesystem.allowWrite
// (after ".", the default, when the policy names none).
func withAllowWrite(settings []byte, path string) ([]byte, error) {
	var m map[string]any
	json.Unmarshal(settings, &m)
	fsm := filesystem(m)
	aw, _ := fsm["allowWrite"].([]any)
	if fsm["allowWrite"] == nil {
		aw = []any{"."}
	}
	fsm["allowWrite"] = append(aw, path)
	return json.Marshal(m)
}

// filesystem is the settings' filesystem object, created when missing.
func filesystem(m map[string]any) map[string]any {
	fsm, _ := m["filesystem"].(map[string]any)
	if fsm == nil {
		fsm = map[string]any{}
		m["filesystem"] = fsm
	}
	return fsm
}

// limits are the resource limits of the policy under test.
func limits(settings []byte) sandbox.Limits {
	s, err := sandbox.ParseSettings("selftest", settings)
	if err != nil {
		return sandbox.LimitSettings{}.Effective()
	}
	return s.SrtMCP.Limits.Effective()
}

// past is the size of a bounded bomb: margin beyond the limit, or beyond
// the default when there is no limit (so the bomb stays bounded).
func past(limit, def, margin int) int {
	if limit <= 0 {
		limit = def
	}
	return limit + margin
}
