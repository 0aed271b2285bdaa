package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/srt-mcp/srt-mcp/internal/pins"

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
