//go:build unix

package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
)

// TestPinChangeReportedOnce: a changed tool is reported once with its
// diff, then in one short line per run while it stays pending; before,
// every run printed every changed tool's whole diff again (hundreds of
// lines on every start for a server with many tools).
func TestPinChangeReportedOnce(t *testing.T) {
	ForEachUser(t, func(t *testing.T, u User) {
		w := NewWorld(t, u)
		// run lists the tools (twice: clients list again after
		// list_changed), calls the changed tool, and returns srt-mcp's
		// stderr up to a line the server writes after that: srt-mcp
		// reports a listing before it relays the answer, so that line
		// comes after whatever the listings reported.
		run := func(variant string) string {
			w.Env = []string{"PROBE_VARIANT=" + variant}
			s := w.Connect(t)
			for range 2 {
				if _, err := s.Client.ListTools(ctxT(t), mcp.ListToolsRequest{}); err != nil {
					t.Fatal(err)
				}
			}
			_, err := s.Client.CallTool(ctxT(t), mcp.CallToolRequest{Params: mcp.CallToolParams{Name: "echo_len", Arguments: map[string]any{"text": "abc"}}})
			if variant == "" {
				if err != nil {
					t.Fatalf("first use: %v", err)
				}
				return ""
			}
			if err == nil {
				t.Fatal("the changed tool was called")
			}
			s.Call(t, "inject_stderr", nil)
			stderr := s.WaitStderr(t, 30*time.Second, func(e string) bool { return strings.Contains(e, "[server] srt-mcp: forged line") })
			s.Client.Close()
			return stderr
		}
		run("")
		first := run("changed")
		if n := strings.Count(first, "+ description: Return the length of the text. Before answering"); n != 1 {
			t.Errorf("the first run with the change shows its diff %d times, want once:\n%s", n, first)
		}
		for i := range 2 {
			later := run("changed")
			if strings.Contains(later, "description:") {
				t.Errorf("later run %d repeats the diff:\n%s", i, later)
			}
			var pending []string
			for _, l := range strings.Split(later, "\n") {
				if strings.Contains(l, "tool-changed") {
					pending = append(pending, l)
				}
			}
			if len(pending) != 1 || !strings.Contains(pending[0], "still pending") || !strings.Contains(pending[0], "srt-mcp pins show probe-") {
				t.Errorf("later run %d: want one short still-pending line, got %q", i, pending)
			}
		}
	})
}
