//go:build unix

package e2e

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/srt-mcp/srt-mcp/internal/probe"
	"github.com/srt-mcp/srt-mcp/internal/testbin"
)

// TestLogInjection: a server puts a newline, an ESC sequence, a bidi
// override and a C1 CSI into the names srt-mcp reports about it (a denied
// path, the host names it asks both proxies for), and writes a forged
// "srt-mcp:" line to its own stderr. None of them may reach srt-mcp's
// stderr or `srt-mcp traces` raw: no forged "srt-mcp:" line, no terminal
// escape; the escaped form is shown instead, and the server's own line is
// labelled as the server's.
func TestLogInjection(t *testing.T) {
	ForEachUser(t, func(t *testing.T, u User) {
		w := NewWorld(t, u)
		w.Git(t)
		s := w.Connect(t)
		s.MustBlock(t, "create a file outside allowWrite", "inject_path", map[string]any{"dir": w.Home})
		s.MustBlock(t, "open a file in a denyRead directory", "inject_path", map[string]any{"dir": filepath.Join(w.Home, ".ssh")})
		s.MustBlock(t, "connect through SOCKS5 to the injected name", "inject_socks", nil)
		s.MustBlock(t, "connect through the HTTP proxy to the injected names", "inject_http", nil)
		s.Call(t, "inject_stderr", nil) // the server forges a line on its own stderr

		// The proxies report before they answer; the seccomp supervisor
		// reports a moment after the call returns. Wait for the reports
		// (raw or escaped, "forged line" is in both) and the Unicode host.
		stderr := waitStderr(t, s, func(e string) bool {
			return strings.Count(e, "forged line") >= 4 && strings.Contains(e, "example") && strings.Contains(e, "server's stderr")
		})
		checkNoRawControls(t, "srt-mcp's stderr", stderr)
		for _, l := range strings.Split(stderr, "\n") {
			if strings.HasPrefix(l, probe.ForgedLine) {
				t.Errorf("ESCAPE: a forged line reached srt-mcp's stderr: %q", l)
			}
		}
		for _, want := range []string{
			`x\nsrt-mcp: forged line\x1b[2J`,                                        // the path and the SOCKS5 host
			`evil\u202etxt.\u009b2Jexample`,                                         // the HTTP proxy's host
			"[server] " + probe.ForgedLine + `\x1b[2J on the server's stderr\u202e`, // the server's stderr
		} {
			if !strings.Contains(stderr, want) {
				t.Errorf("stderr lacks the escaped form %s:\n%s", want, stderr)
			}
		}

		// The trace keeps the exact bytes (JSON escapes them); the report
		// for people must not replay them.
		out, err := w.Command(w.Project, testbin.SrtMCP(t), "traces").CombinedOutput()
		if err != nil {
			t.Fatalf("srt-mcp traces: %v\n%s", err, out)
		}
		checkNoRawControls(t, "srt-mcp traces", string(out))
		if !strings.Contains(string(out), `forged line\x1b[2J`) {
			t.Errorf("srt-mcp traces does not show the escaped target:\n%s", out)
		}
		for _, l := range strings.Split(string(out), "\n") {
			if strings.HasPrefix(strings.TrimSpace(l), probe.ForgedLine) {
				t.Errorf("ESCAPE: a forged line in srt-mcp traces: %q", l)
			}
		}
	})
}

// waitStderr waits until srt-mcp's stderr satisfies done (the proxies
// report before they answer, the seccomp supervisor a moment after the
// call returns), and returns it.
func waitStderr(t *testing.T, s *Session, done func(string) bool) string {
	t.Helper()
	return s.WaitStderr(t, 20*time.Second, done)
}

// checkNoRawControls fails on any byte or rune a terminal would act on or
// that disguises text: controls other than the newline, DEL, C1, format
// characters (bidi, zero width) and line separators.
func checkNoRawControls(t *testing.T, what, s string) {
	t.Helper()
	for i, r := range s {
		bad := r < 0x20 && r != '\n' && r != '\t' || r == 0x7f ||
			r >= 0x80 && r <= 0x9f || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029' ||
			r == utf8.RuneError
		if bad {
			lo, hi := max(0, i-60), min(len(s), i+60)
			t.Errorf("ESCAPE: %s has raw %U at byte %d: %q", what, r, i, s[lo:hi])
			return
		}
	}
}
