//go:build unix

package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEscapeProtectedReview: routes an outside review of the broker found
// (each performed as the review did, then checked on the host):
//   - a bare repository built outside .git: HEAD is refused by name, so
//     two sandboxes racing a config in next to it cannot win;
//   - husky 9 (core.hooksPath = .husky/_): the scripts in .husky/ that its
//     hooks run;
//   - a hook that is a symlink to a versioned script: the script;
//   - .pre-commit-config.yaml, which the pre-commit framework's installed
//     hook reads and runs.
//
// And the private /tmp is not the user's tree: git init there works.
func TestEscapeProtectedReview(t *testing.T) {
	ForEachUser(t, func(t *testing.T, u User) {
		w := NewWorld(t, u)
		w.Write(t, "home/project/scripts/pre-commit", "#!/bin/sh\nexit 0\n")
		w.Write(t, "home/project/.husky/_/h", "#!/bin/sh\n")
		w.Write(t, "home/project/.husky/pre-commit", "npm test\n")
		w.Git(t)
		if out, err := w.Command(w.Project, "git", "config", "core.hooksPath", ".husky/_").CombinedOutput(); err != nil {
			t.Fatalf("git config: %v\n%s", err, out)
		}
		if err := os.Symlink("../../scripts/pre-commit", filepath.Join(w.Project, ".git/hooks/pre-commit")); err != nil {
			t.Fatal(err)
		}
		os.Lchown(filepath.Join(w.Project, ".git/hooks/pre-commit"), u.UID, u.GID)
		s := w.Connect(t)
		for _, c := range []struct{ what, path string }{
			{"HEAD of a bare repository outside .git", "src/HEAD"},
			{"husky 9's script that its hook runs", ".husky/pre-commit"},
			{"the target of a symlinked hook", "scripts/pre-commit"},
			{".pre-commit-config.yaml", ".pre-commit-config.yaml"},
			{"a nested .pre-commit-config.yaml", "sub/.pre-commit-config.yaml"},
			{"a devcontainer (initializeCommand runs on the host)", ".devcontainer/devcontainer.json"},
			{"another client's project MCP servers", ".amazonq/mcp.json"},
			{"neovim's project config", ".nvim.lua"},
		} {
			out, status := s.Run(t, "sh", "-c", "mkdir -p \"$(dirname \"$1\")\" && echo 'touch PWNED' > \"$1\"", "sh", filepath.Join(w.Project, c.path))
			if status == 0 {
				t.Errorf("ESCAPE: wrote %s (%s): %s", c.what, c.path, out)
			}
		}
		if b, _ := os.ReadFile(filepath.Join(w.Project, ".husky/pre-commit")); string(b) != "npm test\n" {
			t.Errorf("ESCAPE: .husky/pre-commit is now %q", b)
		}
		// The private /tmp vanishes with the sandbox: no name is protected.
		if out, status := s.Run(t, "sh", "-c", "cd /tmp && git init -q repo && mkdir repo/.vscode && echo ok"); status != 0 || !strings.Contains(out, "ok") {
			t.Errorf("git init in the private /tmp failed (status %d): %s", status, out)
		}
	})
}
