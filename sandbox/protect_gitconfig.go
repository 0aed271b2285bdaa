package sandbox

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
)

// protectGitPrograms protects the files that the git configuration of the
// working directory's repository (and the user's global configuration)
// names as programs or hook directories, when they lie in a writable root:
// a project whose config says core.hooksPath = .husky runs .husky/pre-commit
// on the host's next commit, so a server that may write the project must
// not write .husky. The config files themselves are protected by name
// (.git/config) or by the policy (~/.gitconfig).
//
// Best effort: a small reader of git's config syntax (sections, key =
// value, quotes), no include.path. It runs once at start-up and reads at
// most three small files.
func (p *Policy) protectGitPrograms() {
	repo := findRepoRoot(p.Cwd)
	var files, hookDirs []string
	if repo != "" {
		files = append(files, filepath.Join(repo, ".git", "config"))
		hookDirs = append(hookDirs, filepath.Join(repo, ".git", "hooks"))
	}
	if p.Home != "" {
		files = append(files, filepath.Join(p.Home, ".gitconfig"), filepath.Join(p.Home, ".config", "git", "config"))
	}
	for _, f := range files {
		for _, prog := range gitProgramPaths(f) {
			base := repo
			if base == "" {
				base = p.Cwd
			}
			if strings.HasPrefix(prog, "~/") {
				prog = filepath.Join(p.Home, prog[2:])
			} else if !filepath.IsAbs(prog) {
				prog = filepath.Join(base, prog)
			}
			prog = realPath(filepath.Clean(prog))
			if !p.writableRoot(prog) {
				continue
			}
			p.Protected = append(p.Protected, ProtectedPath{Path: prog, Rule: "named by git config " + f})
			if filepath.Base(prog) == "_" {
				// husky 9: core.hooksPath = .husky/_, whose hooks run the
				// user's scripts in .husky/ (an outside review planted
				// .husky/pre-commit and the host's commit ran it).
				p.Protected = append(p.Protected, ProtectedPath{Path: filepath.Dir(prog), Rule: "hook scripts run by " + prog})
			}
			hookDirs = append(hookDirs, prog)
		}
	}
	// A hook that is a symlink runs its target: a versioned scripts/
	// pre-commit linked from .git/hooks is as much a hook as the link.
	for _, dir := range hookDirs {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if e.Type()&os.ModeSymlink == 0 {
				continue
			}
			target := realPath(filepath.Join(dir, e.Name()))
			if p.writableRoot(target) {
				p.Protected = append(p.Protected, ProtectedPath{Path: target, Rule: "target of the hook " + filepath.Join(dir, e.Name())})
			}
		}
	}
}

// findRepoRoot returns the directory holding .git at or above dir, or "".
func findRepoRoot(dir string) string {
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Lstat(filepath.Join(d, ".git")); err == nil {
			return d
		}
		if d == "/" || d == "." {
			return ""
		}
	}
}

// isGitProgramKey: the key's value runs a program (the first word of the value) or, for
// core.hookspath, name the hook directory.
func isGitProgramKey(key string) bool {
	switch key {
	case "core.hookspath", "core.fsmonitor", "core.sshcommand", "core.pager", "core.editor",
		"diff.external", "sequence.editor", "credential.helper", "gpg.program":
		return true
	}
	for _, suffix := range []string{".clean", ".smudge", ".process", ".textconv", ".driver", ".command"} {
		if strings.HasSuffix(key, suffix) && strings.Count(key, ".") >= 2 {
			return true
		}
	}
	return false
}

// gitProgramPaths returns the path-like programs a git config file names.
func gitProgramPaths(file string) []string {
	f, err := os.Open(file)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	section := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if line[0] == '[' {
			end := strings.IndexByte(line, ']')
			if end < 0 {
				continue
			}
			head := strings.TrimSpace(line[1:end])
			name, sub, _ := strings.Cut(head, " ")
			section = strings.ToLower(name)
			if sub = strings.Trim(strings.TrimSpace(sub), `"`); sub != "" {
				section += "." + sub
			}
			line = strings.TrimSpace(line[end+1:])
			if line == "" {
				continue
			}
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		key := section + "." + strings.ToLower(strings.TrimSpace(k))
		if !isGitProgramKey(key) {
			continue
		}
		v = strings.TrimSpace(v)
		v = strings.TrimPrefix(v, "!")
		v = strings.Trim(v, `"`)
		word := strings.Fields(v)
		if key == "core.hookspath" && v != "" {
			out = append(out, v) // a directory, even without a slash
			continue
		}
		if len(word) == 0 || !strings.Contains(word[0], "/") {
			continue // a program found on PATH, or a shell snippet
		}
		out = append(out, word[0])
	}
	return out
}
