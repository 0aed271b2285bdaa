//go:build unix

package e2e

import (
	"strings"
	"testing"
)

// TestEscapeDevTmpfsFill: bwrap's /dev is a tmpfs of half the RAM; a
// server filled it (and so host memory) past its memory limit, which for
// an unprivileged user counts heap only (found by an outside review). /dev
// is read-only now, /dev/shm is sized like /tmp, and the device nodes
// still work.
func TestEscapeDevTmpfsFill(t *testing.T) {
	ForEachUser(t, func(t *testing.T, u User) {
		w := NewWorld(t, u)
		settings := w.Settings(t, `{"srtMcp": {"limits": {"tmpMB": 16}}}`)
		s := w.Connect(t, "--settings", settings)
		if out, status := s.Run(t, "dd", "if=/dev/zero", "of=/dev/big", "bs=1M", "count=32"); status == 0 {
			t.Errorf("ESCAPE: wrote 32 MiB into /dev: %s", out)
		}
		out, status := s.Run(t, "dd", "if=/dev/zero", "of=/dev/shm/big", "bs=1M", "count=32")
		if status == 0 || !strings.Contains(out, "No space left") {
			t.Errorf("ESCAPE: wrote 32 MiB into /dev/shm past tmpMB 16 (status %d): %s", status, out)
		}
		if out, status := s.Run(t, "sh", "-c", "echo x > /dev/null && head -c 4 /dev/urandom | wc -c && : > /dev/shm/small"); status != 0 || strings.TrimSpace(out) != "4" {
			t.Errorf("device nodes or /dev/shm broken (status %d): %s", status, out)
		}
	})
}
