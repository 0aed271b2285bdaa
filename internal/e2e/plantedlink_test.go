//go:build unix

package e2e

import (
	"os"
	"path/filepath"
	"testing"
)

// TestEscapePlantedAllowWriteLink: with allowWrite [".", "./cache"] and no
// cache directory yet, a first session plants cache -> another directory
// of the user; a second launch must not make that directory writable.
func TestEscapePlantedAllowWriteLink(t *testing.T) {
	ForEachUser(t, func(t *testing.T, u User) {
		w := NewWorld(t, u)
		victim := w.Mkdir(t, "victim")
		settings := w.Settings(t, `{"filesystem": {"allowWrite": [".", "./cache"]}}`)
		first := w.Connect(t, "--settings", settings)
		if out, status := first.Run(t, "ln", "-s", victim, filepath.Join(w.Project, "cache")); status != 0 {
			t.Fatalf("planting the link: %s", out)
		}
		second := w.Connect(t, "--settings", settings)
		second.MustBlock(t, "write through the planted link", "write_file", map[string]any{"path": filepath.Join(w.Project, "cache", "pwned"), "content": "x"})
		if _, err := os.Stat(filepath.Join(victim, "pwned")); err == nil {
			t.Error("ESCAPE: the planted link's target was written on the host")
		}
	})
}
