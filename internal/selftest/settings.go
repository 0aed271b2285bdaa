package selftest

import (
	"encoding/json"
	"os"

	"github.com/srt-mcp/srt-mcp/sandbox"
)

// settingsUnderTest returns the policy under test as JSON, with a decoy
// added to filesystem.denyRead so the read protection is checked without
// touching real credentials; and the user's document as it was read.
func settingsUnderTest(settingsFile, profile, decoy string) (out []byte, source string, user []byte, err error) {
	var data []byte
	if settingsFile == "" && profile != "" {
		// The profile itself is applied by srt-mcp's --profile; the
		// file carries only the decoy.
		data, source = []byte("{}"), "built-in profile "+profile
	} else {
		// The file, else ~/.srt-settings.json, else the default:
		// read, and failing, as srt-mcp's own run does.
		home, _ := os.UserHomeDir()
		if data, source, err = sandbox.ReadSettings(settingsFile, "", home); err != nil {
			return nil, source, nil, err
		}
		if profile != "" {
			source += " over built-in profile " + profile
		}
	}
	if _, err := sandbox.ParseSettings(source, data); err != nil {
		return nil, source, nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, source, nil, err
	}
	fsm := filesystem(m)
	deny, _ := fsm["denyRead"].([]any)
	fsm["denyRead"] = append(deny, decoy)
	out, err = json.Marshal(m)
	return out, source, data, err
}

// resolves checks that srt-mcp can build a policy from settings (named
// source for errors), layered over profile if one is given, as a run in
// dir with home dir home would.
func resolves(settings []byte, source, profile, dir, home string) error {
	st, err := sandbox.ParseSettings(source, settings)
	if err != nil {
		return err
	}
	if profile != "" {
		base, _, err := sandbox.LoadSettings("", profile, home)
		if err != nil {
			return err // a *SettingsError naming --profile
		}
		st = sandbox.Layer(base, st)
	}
	_, err = sandbox.Resolve(st, source, dir, home)
	return err
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
