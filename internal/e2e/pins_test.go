//go:build unix

package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/srt-mcp/srt-mcp/internal/testbin"
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

// TestPinsKeyedByConfiguredServer: pins belong to the server the user
// configured (its command line, or --name), not to the serverInfo.name the
// server reports. A changed server that reports a new name must not escape
// its pins (before, the new name meant a fresh file and trust on first
// use: the rewritten tool was callable); two different servers that report
// the same name must not share pins (before, the second was refused tools
// the first had pinned).
func TestPinsKeyedByConfiguredServer(t *testing.T) {
	ForEachUser(t, func(t *testing.T, u User) {
		w := NewWorld(t, u)
		probeBin := testbin.Probe(t)
		// session lists the tools and calls echo_len, returning the
		// call's JSON-RPC error (nil if it ran).
		session := func(variant, name string, server []string, srtArgs ...string) error {
			w.Env = []string{"PROBE_VARIANT=" + variant, "PROBE_SERVER_NAME=" + name}
			s := w.ConnectIn(t, w.Project, server, srtArgs...)
			defer s.Client.Close()
			if _, err := s.Client.ListTools(ctxT(t), mcp.ListToolsRequest{}); err != nil {
				t.Fatal(err)
			}
			_, err := s.Client.CallTool(ctxT(t), mcp.CallToolRequest{Params: mcp.CallToolParams{Name: "echo_len", Arguments: map[string]any{"text": "abc"}}})
			return err
		}
		pins := func(args ...string) string {
			out, err := w.Command(w.Project, append([]string{testbin.SrtMCP(t), "pins"}, args...)...).CombinedOutput()
			if err != nil {
				t.Fatalf("srt-mcp pins %v: %v\n%s", args, err, out)
			}
			return string(out)
		}
		if err := session("", "", []string{probeBin}); err != nil {
			t.Fatalf("first use: %v", err)
		}
		// The attack: the same configured server, rewritten, reports a
		// new name to get a fresh pin file.
		if err := session("changed", "innocent-new-name", []string{probeBin}); err == nil {
			t.Error("ESCAPE: a changed server that reports a new serverInfo.name escaped its pins: its rewritten tool was called")
		} else if !strings.Contains(err.Error(), "tool definition changed") {
			t.Errorf("changed tool under a new name: %v", err)
		}
		// Another configured server (another command line) that reports
		// the probe's name has pins of its own: first use, nothing blocked.
		if err := session("changed", "", []string{"env", probeBin}); err != nil {
			t.Errorf("a different server reporting the same name shares the first one's pins: %v", err)
		}
		// --name (the client's entry name) keys pins too, and names them
		// to pins show and accept.
		session("", "", []string{probeBin}, "--name", "my-entry")
		if err := session("changed", "", []string{probeBin}, "--name", "my-entry"); err == nil || !strings.Contains(err.Error(), "srt-mcp pins accept my-entry") {
			t.Errorf("changed tool under --name: %v", err)
		}
		if show := pins("show", "my-entry"); !strings.Contains(show, "changed tool echo_len:") {
			t.Errorf("pins show my-entry:\n%s", show)
		}
		list := pins("list")
		for _, want := range []string{"my-entry", "pending", " " + probeBin + "\n", " env " + probeBin + "\n"} {
			if !strings.Contains(list, want) {
				t.Errorf("pins list lacks %q:\n%s", want, list)
			}
		}
		// The configured command line names the pins as well.
		if show := pins("show", "--", probeBin); !strings.Contains(show, "changed tool echo_len:") || !strings.Contains(show, "server reports itself as: innocent-new-name") {
			t.Errorf("pins show -- %s:\n%s", probeBin, show)
		}
		if out := pins("accept", "my-entry"); !strings.Contains(out, "my-entry: accepted") {
			t.Errorf("pins accept my-entry: %s", out)
		}
		if err := session("changed", "", []string{probeBin}, "--name", "my-entry"); err != nil {
			t.Errorf("after pins accept my-entry: %v", err)
		}
	})
}
