package shim

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestDigestKey: the key is created once and reused; when it cannot be
// saved the caller learns why and still gets a working key for the run.
func TestDigestKey(t *testing.T) {
	state := t.TempDir()
	t.Setenv("XDG_STATE_HOME", state)
	first, err := digestKey()
	if err != nil {
		t.Fatal(err)
	}
	second, err := digestKey()
	if err != nil {
		t.Fatal(err)
	}
	h1, h2 := first(), second()
	h1.Write([]byte("x"))
	h2.Write([]byte("x"))
	if !bytes.Equal(h1.Sum(nil), h2.Sum(nil)) {
		t.Error("the saved key was not reused")
	}

	blocked := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocked, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("XDG_STATE_HOME", blocked) // srt-mcp/ cannot be created under a file
	runOnly, err := digestKey()
	if err == nil {
		t.Fatal("an unsavable key was not reported")
	}
	if runOnly == nil || len(runOnly().Sum(nil)) != 32 {
		t.Error("no working key for the run")
	}
}
