package pins

import (
	"encoding/json"
	"strings"

	"github.com/srt-mcp/srt-mcp/internal/textdiff"
)

// ToolDiff renders what changed in a tool, for people.
func ToolDiff(name string, old, cur ToolDef, known bool) string {
	render := func(d ToolDef) string {
		var schema any
		json.Unmarshal(d.InputSchema, &schema)
		s, _ := json.MarshalIndent(schema, "", "  ")
		// A multi-line description keeps its lines, indented, so that no
		// line of the server's text can start a line of its own (a forged
		// "srt-mcp:" line in pins show, or a diff marker).
		return "description: " + strings.ReplaceAll(d.Description, "\n", "\n  ") + "\ninputSchema: " + string(s) + "\n"
	}
	if !known {
		return "+ new tool " + name + "\n" + render(cur)
	}
	return lineDiff(render(old), render(cur))
}

// lineDiff marks removed and added lines.
func lineDiff(a, b string) string {
	var out strings.Builder
	for _, l := range textdiff.Lines(a, b) {
		if l.Op == ' ' {
			out.WriteString("  " + l.Text + "\n")
		} else {
			out.WriteString(string(l.Op) + " " + l.Text + "\n")
		}
	}
	return out.String()
}
