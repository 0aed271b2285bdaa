package sandbox

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestCommandError(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "server.js")
	if err := os.WriteFile(plain, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, want string }{
		{dir, "is a directory, not a program"},
		{plain, "cannot be executed inside the sandbox: permission denied (chmod +x it"},
		{filepath.Join(dir, "missing"), "not found inside the sandbox"},
		{"srt-mcp-no-such-program", "not found inside the sandbox (is it on PATH"},
	} {
		_, err := exec.LookPath(tc.name)
		if err == nil {
			t.Fatalf("%s: LookPath succeeded", tc.name)
		}
		if got := commandError(tc.name, err).Error(); !strings.Contains(got, tc.want) {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
}
