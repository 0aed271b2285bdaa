package sandbox

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/srt-mcp/srt-mcp/configs"
)

// TestReadSettingsSources: the precedence LoadSettings uses, and that only
// a missing ~/.srt-settings.json falls back to the default: one that
// exists but cannot be read is an error naming it.
func TestReadSettingsSources(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "s.json")
	os.WriteFile(file, []byte(`{"a": 1}`), 0o644)
	withUser := filepath.Join(dir, "with-user")
	os.MkdirAll(withUser, 0o755)
	os.WriteFile(filepath.Join(withUser, UserSettingsFile), []byte(`{"u": 1}`), 0o644)
	unreadable := filepath.Join(dir, "unreadable")
	os.MkdirAll(filepath.Join(unreadable, UserSettingsFile), 0o755) // a directory
	empty := filepath.Join(dir, "empty")
	def, _ := configs.Get(configs.Default)
	memory, _ := configs.Get("memory")

	for _, tc := range []struct {
		name, file, profile, home string
		data, source, err         string
	}{
		{name: "file", file: file, home: withUser, data: `{"a": 1}`, source: file},
		{name: "user file", home: withUser, data: `{"u": 1}`, source: filepath.Join(withUser, UserSettingsFile)},
		{name: "no user file: default", home: empty, data: string(def), source: "built-in profile " + configs.Default},
		{name: "profile over user file", profile: "memory", home: withUser, data: string(memory), source: "built-in profile memory"},
		{name: "unreadable user file", home: unreadable, source: filepath.Join(unreadable, UserSettingsFile), err: "cannot read settings"},
		{name: "missing file", file: filepath.Join(dir, "nope.json"), home: withUser, source: filepath.Join(dir, "nope.json"), err: "cannot read settings"},
		{name: "unknown profile", profile: "nope", home: empty, source: "built-in profile nope", err: "no built-in profile"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data, source, err := ReadSettings(tc.file, tc.profile, tc.home)
			if string(data) != tc.data || source != tc.source {
				t.Errorf("got %q from %q, want %q from %q", data, source, tc.data, tc.source)
			}
			var se *SettingsError
			if tc.err == "" && err != nil || tc.err != "" && (!errors.As(err, &se) || !strings.Contains(err.Error(), tc.err)) {
				t.Errorf("err = %v, want a SettingsError containing %q", err, tc.err)
			}
		})
	}
}
