//go:build unix

package e2e

import (
	"os"
	"path/filepath"
	"testing"
)

// TestEscapePathDirectoryPlant: with a project directory on PATH (an
// activated venv, direnv's PATH_add), a server wrote .venv/bin/bwrap and
// the next launch of srt-mcp ran it on the host, unsandboxed (found by an
// outside review). PATH directories are protected, and srt-mcp looks up
// bwrap in absolute PATH entries only.
func TestEscapePathDirectoryPlant(t *testing.T) {
	ForEachUser(t, func(t *testing.T, u User) {
		w := NewWorld(t, u)
		// A project outside the home (the home's PATH directories were
		// protected already).
		venvBin := w.Mkdir(t, "work/.venv/bin")
		settings := w.Settings(t, `{"filesystem": {"allowWrite": [".", "`+filepath.Join(w.Root, "work")+`"]}}`)
		marker := filepath.Join(w.Root, "fake-bwrap-ran")
		fake := "#!/bin/sh\ntouch " + marker + "\nexec /usr/bin/bwrap \"$@\"\n"
		w.Env = append(w.Env, "PATH="+venvBin+":"+os.Getenv("PATH"))
		s := w.Connect(t, "--settings", settings)
		s.MustBlock(t, "plant bwrap in a PATH directory", "write_file", map[string]any{"path": filepath.Join(venvBin, "bwrap"), "content": fake})
		s.MustBlock(t, "plant git in a PATH directory", "write_file", map[string]any{"path": filepath.Join(venvBin, "git"), "content": fake})
		// A relative PATH entry names the start directory: a bwrap there
		// (left by anyone) must not be run either.
		w.Write(t, "home/project/bwrap", fake)
		if err := os.Chmod(filepath.Join(w.Project, "bwrap"), 0o755); err != nil {
			t.Fatal(err)
		}
		w.Env = append(w.Env, "PATH=.:"+os.Getenv("PATH"))
		w.Connect(t, "--settings", settings)
		if _, err := os.Stat(marker); err == nil {
			t.Error("ESCAPE: a planted bwrap ran on the host")
		}
	})
}
