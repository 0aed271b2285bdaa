//go:build unix

package e2e

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
)

// TestAnsweredCallsLeaveInFlight: a violation is attributed only to the
// calls in flight when it happened. A tools/list answered before a
// write_file must not be blamed for the write's violation (it used to stay
// "in flight" for good, marking every later violation ambiguous).
func TestAnsweredCallsLeaveInFlight(t *testing.T) {
	ForEachUser(t, func(t *testing.T, u User) {
		for _, settings := range []string{`{}`, `{"mcp": {"pin": false}}`} {
			t.Run(settings, func(t *testing.T) { answeredCallLeaves(t, u, settings) })
		}
	})
}

func answeredCallLeaves(t *testing.T, u User, settings string) {
	{
		w := NewWorld(t, u)
		s := w.Connect(t, "--settings", w.Settings(t, settings))
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := s.Client.ListTools(ctx, mcp.ListToolsRequest{}); err != nil {
			t.Fatal(err)
		}
		s.MustBlock(t, "write outside allowWrite", "write_file", map[string]any{"path": filepath.Join(w.Home, "outside.txt"), "content": "x"})
		stderr := waitStderr(t, s, func(e string) bool { return strings.Contains(e, "outside.txt") })
		for _, l := range strings.Split(stderr, "\n") {
			if !strings.Contains(l, "outside.txt") {
				continue
			}
			if strings.Contains(l, "tools/list") || !strings.Contains(l, "(tools/call write_file)") {
				t.Errorf("the violation is not attributed to exactly the write_file call: %q", l)
			}
		}
	}
}
