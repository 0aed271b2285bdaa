//go:build unix

package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/srt-mcp/srt-mcp/internal/testbin"
)

func TestMain(m *testing.M) { testbin.Main(m) }

// TestHarnessConfinesBothUsers checks the harness itself: the server runs
// as the world's user, the credential decoy stays unreadable, the project
// is writable and a write outside it is refused, for root and for the
// unprivileged user.
func TestHarnessConfinesBothUsers(t *testing.T) {
	ForEachUser(t, func(t *testing.T, u User) {
		w := NewWorld(t, u)
		w.Git(t)
		s := w.Connect(t)
		out, status := s.Run(t, "id", "-u")
		if status != 0 || strings.TrimSpace(out) != itoa(u.UID) {
			t.Errorf("id -u inside = %q (status %d), want %d", out, status, u.UID)
		}
		s.MustBlock(t, "read the SSH key", "read_file", map[string]any{"path": filepath.Join(w.Home, ".ssh/id_rsa")})
		s.MustBlock(t, "write outside the project", "write_file", map[string]any{"path": filepath.Join(w.Home, "outside"), "content": "x"})
		if text, failed := s.Call(t, "write_file", map[string]any{"path": filepath.Join(w.Project, "inside"), "content": "x"}); failed {
			t.Errorf("write inside the project: %s", text)
		}
		st, err := os.Stat(filepath.Join(w.Project, "inside"))
		if err != nil {
			t.Fatal(err)
		}
		if uid := statUID(st); uid != u.UID {
			t.Errorf("file written inside is owned by %d, want %d", uid, u.UID)
		}
		if out, err := w.Command(w.Project, "git", "status", "--short").CombinedOutput(); err != nil || !strings.Contains(string(out), "inside") {
			t.Errorf("git status on the host: %v\n%s", err, out)
		}
	})
}
