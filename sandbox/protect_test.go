package sandbox

import (
	"os"
	"path/filepath"
	"testing"
)

func TestProtectionRule(t *testing.T) {
	pr := &Protection{Paths: []ProtectedPath{{Path: "/home/u/.config/git", Rule: "persistence point"}, {Path: "/home/u/.srt-settings.json", Rule: "srt-mcp settings"}}}
	cases := []struct {
		path      string
		protected bool // Rule: create, write, chmod, remove, rename
		move      bool // MoveRule: rename away, remove, replace, link or symlink over
	}{
		{"/p/README.md", false, false},
		{"/p/src/config", false, false},
		{"/p/.git", true, true},
		{"/p/a/b/c/d/e/.git", true, true}, // any depth
		{"/p/.git/config", true, true},
		{"/p/.git/config.worktree", true, true},
		{"/p/.git/commondir", true, true},
		{"/p/.git/hooks", true, true},
		{"/p/.git/hooks/pre-commit", true, true},
		{"/p/.git/info", true, true}, // holds attributes
		{"/p/.git/info/attributes", true, true},
		{"/p/.git/info/exclude", false, false},
		{"/p/.git/worktrees/w/config.worktree", true, true},
		{"/p/.git/worktrees/w/gitdir", true, true},
		{"/p/.git/modules/m/hooks/post-checkout", true, true},
		{"/p/.git/objects/ab/cdef", false, false}, // git add/commit inside keep working
		{"/p/.git/index", false, false},
		{"/p/.git/refs/heads/main", false, false},
		{"/p/.git/HEAD", false, false},
		{"/p/.gitmodules", true, true},
		{"/p/x/.mcp.json", true, true},
		{"/p/.mcp.json.bak", false, false},
		{"/p/.vscode", true, true},
		{"/p/n/.vscode/tasks.json", true, true},
		{"/p/.claude", true, true},
		{"/p/.claude/settings.json", true, true},
		{"/p/.claude/commands/x.md", true, true},
		{"/p/.claude/notes.md", false, false},
		{"/home/u/.bashrc", true, true},
		{"/home/u/.config/git", true, true},
		{"/home/u/.config/git/config", true, true},
		{"/home/u/.config", false, true}, // an ancestor of a protected path
		{"/home/u", false, true},
		{"/home/u/.config/other", false, false},
		{"/home/u/.srt-settings.json", true, true},
		{"/home/u/.srt-settings.json.tmp", false, false},
	}
	for _, c := range cases {
		if got := pr.Rule(c.path) != ""; got != c.protected {
			t.Errorf("Rule(%s) protected = %v, want %v (%q)", c.path, got, c.protected, pr.Rule(c.path))
		}
		if got := pr.MoveRule(c.path) != ""; got != c.move {
			t.Errorf("MoveRule(%s) = %v, want %v", c.path, got, c.move)
		}
	}
	allow := &Protection{AllowGitConfig: true}
	if r := allow.Rule("/p/.git/config"); r != "" {
		t.Errorf("allowGitConfig: .git/config still protected: %s", r)
	}
	if allow.Rule("/p/.git/hooks/pre-commit") == "" || allow.Rule("/p/.git/commondir") == "" {
		t.Error("allowGitConfig must not open hooks or commondir")
	}
}

func TestProtectUserSettingsWhenHomeIsWritable(t *testing.T) {
	home := t.TempDir()
	s, err := ParseSettings("s.json", []byte(`{"filesystem": {"allowWrite": ["~"]}}`))
	if err != nil {
		t.Fatal(err)
	}
	p, err := Resolve(s, "s.json", home, home)
	if err != nil {
		t.Fatal(err)
	}
	settings := filepath.Join(realPath(home), UserSettingsFile)
	if r := p.Protection().Rule(settings); r == "" {
		t.Errorf("%s is not protected with a writable home: %+v", settings, p.Protected)
	}
	if r := p.Protection().MoveRule(realPath(home)); r == "" {
		t.Error("the home directory (an ancestor of the settings) may be renamed")
	}
}

func TestProtectGitPrograms(t *testing.T) {
	root, _ := filepath.EvalSymlinks(t.TempDir())
	proj := filepath.Join(root, "proj")
	tree(t, root, "proj/.git/", "proj/sub/", "proj/.husky/pre-commit")
	os.WriteFile(filepath.Join(proj, ".git", "config"), []byte(`[core]
	hooksPath = .husky
	fsmonitor = "./tools/fsm.sh --fast"
	pager = less
[filter "lfs"]
	clean = git-lfs clean -- %f
	smudge = /usr/local/bin/smudge
[diff "img"]
	textconv = scripts/conv
`), 0o644)
	// The server starts in a subdirectory; the whole project is writable.
	s, _ := ParseSettings("s.json", []byte(`{"filesystem": {"allowWrite": [".."]}}`))
	p, err := Resolve(s, "s.json", filepath.Join(proj, "sub"), filepath.Join(root, "home"))
	if err != nil {
		t.Fatal(err)
	}
	pr := p.Protection()
	for _, want := range []string{".husky/pre-commit", "tools/fsm.sh", "scripts/conv"} {
		if pr.Rule(filepath.Join(proj, want)) == "" {
			t.Errorf("%s is not protected: %+v", want, p.Protected)
		}
	}
	if pr.Rule(filepath.Join(proj, "tools/other.sh")) != "" {
		t.Error("tools/other.sh protected")
	}
}
