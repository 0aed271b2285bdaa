package audit

import (
	"strings"
	"testing"
)

// TestMarkdownEscapesServerText: the server's name, tool names and
// descriptions and the targets it tried are its words; none may add a line
// to the report or reach the terminal raw, and a pipe stays escaped once
// for Markdown.
func TestMarkdownEscapesServerText(t *testing.T) {
	r := &Report{
		Server:  "evil\n# srt-mcp audit: clean",
		Tools:   []Tool{{Name: "t\x1b[2J", Digest: "d", Description: "a|b \u202eexe"}},
		Network: []Observation{{Target: "x\ny:443", Op: "connect", Decision: "deny", Rule: "r|s"}},
	}
	md := r.Markdown()
	for _, want := range []string{`evil\n# srt-mcp audit: clean`, `t\x1b[2J`, `a\|b \u202eexe`, `x\ny:443`, `r\|s`} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %s:\n%s", want, md)
		}
	}
	for _, l := range strings.Split(md, "\n") {
		if strings.HasPrefix(l, "# srt-mcp audit: clean") {
			t.Errorf("a forged heading: %q", l)
		}
	}
	if strings.ContainsAny(md, "\x1b\u202e") {
		t.Error("raw control characters in the report")
	}
}
