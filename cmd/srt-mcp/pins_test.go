package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/srt-mcp/srt-mcp/internal/pins"
	"github.com/srt-mcp/srt-mcp/sandbox"

	"github.com/srt-mcp/srt-mcp/internal/statedir"
)

// TestPinsShowEscapes: tool names and descriptions in a pin file are the
// server's words; `pins show` must not let them add lines or drive the
// terminal.
func TestPinsShowEscapes(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	evil := "read\nsrt-mcp: forged\x1b[2J \u202eexe"
	f := pins.PinFile{
		Server:   "srv",
		Accepted: &pins.PinSet{Tools: map[string]pins.ToolDef{"t": {Digest: "d1", Description: "old"}}},
		Pending: &pins.PinSet{Tools: map[string]pins.ToolDef{
			"t":                 {Digest: "d2", Description: evil},
			"new\x1b]0;title\a": {Digest: "d3", Description: evil},
		}},
		Updated: "now",
	}
	data, _ := json.Marshal(f)
	dir := statedir.Pins()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "srv.json"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut strings.Builder
	if code := runPins([]string{"show", "srv"}, &out, &errOut); code != 0 {
		t.Fatalf("pins show: %d %s", code, errOut.String())
	}
	s := out.String()
	if strings.ContainsAny(s, "\x1b\a\u202e") {
		t.Errorf("raw control characters in pins show:\n%q", s)
	}
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, "srt-mcp: forged") {
			t.Errorf("a forged line: %q", l)
		}
	}
	if !strings.Contains(s, `  srt-mcp: forged\x1b[2J \u202eexe`) {
		t.Errorf("the escaped description is missing:\n%s", s)
	}
}

// TestResolvePins: which pin file `pins show|accept SERVER` means.
func TestResolvePins(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	dir := statedir.Pins()
	write := func(f pins.PinFile) {
		t.Helper()
		if f.Key != "" {
			if err := pins.Save(dir, &f); err != nil {
				t.Fatal(err)
			}
			return
		}
		data, _ := json.Marshal(f) // a legacy file, named after the reported name
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f.Server+".json"), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	acc := &pins.PinSet{Tools: map[string]pins.ToolDef{}}
	named := sandbox.LauncherKey(nil, "my-entry")
	byArgv := sandbox.LauncherKey([]string{"/opt/srv", "--flag"}, "")
	write(pins.PinFile{Key: named, Name: "my-entry", Server: "shared", Accepted: acc})
	write(pins.PinFile{Key: byArgv, Command: []string{"/opt/srv", "--flag"}, Server: "shared", Accepted: acc})
	write(pins.PinFile{Key: sandbox.LauncherKey([]string{"/opt/one"}, ""), Server: "only-one", Accepted: acc})
	write(pins.PinFile{Server: "legacy-name", Accepted: acc})
	for _, c := range []struct {
		args    []string
		wantKey string // "" for a legacy file
		wantErr string
	}{
		{[]string{"my-entry"}, named, ""},
		{[]string{byArgv}, byArgv, ""},
		{[]string{"--", "/opt/srv", "--flag"}, byArgv, ""},
		{[]string{"only-one"}, sandbox.LauncherKey([]string{"/opt/one"}, ""), ""},
		{[]string{"shared"}, "", "2 configured servers report the name"},
		{[]string{"legacy-name"}, "", ""},
		{[]string{"nobody"}, "", "no pins recorded"},
		{[]string{"--", "/opt/other"}, "", "no pins recorded"},
	} {
		p, err := resolvePins(dir, c.args)
		switch {
		case c.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("%q: %v, want an error %q", c.args, err, c.wantErr)
			}
		case err != nil:
			t.Errorf("%q: %v", c.args, err)
		case p.Key != c.wantKey:
			t.Errorf("%q: key %q, want %q", c.args, p.Key, c.wantKey)
		}
	}
	// A legacy file is shown but never accepted.
	var out, errOut strings.Builder
	if code := runPins([]string{"accept", "legacy-name"}, &out, &errOut); code == 0 || !strings.Contains(errOut.String(), "older srt-mcp") {
		t.Errorf("accepting a legacy file: %d %s", code, errOut.String())
	}
}
