package sandbox

import (
	"os"
	"path/filepath"
	"strings"
)

// Files and directories that stay read-only even inside a writable
// directory: writing them lets a sandboxed server run code later, outside the
// sandbox (shell start-up files, git hooks and config, editor tasks, agent
// commands and hooks, MCP client configs that add more servers).
var (
	mandatoryFiles = []string{
		".bashrc", ".bash_profile", ".bash_login", ".profile", ".zshrc",
		".zprofile", ".zshenv", ".zlogin", ".gitconfig", ".gitmodules",
		".ripgreprc", ".mcp.json", ".envrc",
	}
	mandatoryDirs = []string{".vscode", ".idea"}
	// Entries inside a directory with the given name.
	mandatoryInside = map[string][]string{
		".git":    {"hooks", "config"},
		".claude": {"commands", "agents", "settings.json", "settings.local.json"},
		".cursor": {"mcp.json"},
		".gemini": {"settings.json"},
	}
)

// MandatoryDenyPaths walks each writable root down to depth levels with Go's
// own directory walk (no ripgrep) and returns the existing paths that must
// stay read-only. A path that does not exist yet cannot be protected by a
// bind mount without creating a placeholder in the user's tree, which
// srt-mcp refuses to do; see the README's limitations.
func MandatoryDenyPaths(roots []string, depth int, allowGitConfig bool) []string {
	var out []string
	add := func(p string) {
		if _, ok := exists(p); ok {
			out = append(out, p)
		}
	}
	inside := func(dir, name string) {
		for _, e := range mandatoryInside[name] {
			if name == ".git" && e == "config" && allowGitConfig {
				continue
			}
			add(filepath.Join(dir, e))
		}
	}
	for _, root := range roots {
		isDir, ok := exists(root)
		if !ok {
			continue
		}
		// The root itself may be a protected path or lie inside one.
		if protectedRoot(root, allowGitConfig) {
			out = append(out, root)
			continue
		}
		if _, special := mandatoryInside[filepath.Base(root)]; special {
			inside(root, filepath.Base(root))
		}
		if !isDir {
			continue
		}
		walk(root, depth, func(path string, d os.DirEntry) bool {
			name := d.Name()
			switch {
			case contains(mandatoryFiles, name), contains(mandatoryDirs, name) && d.IsDir():
				out = append(out, path)
				return false
			case d.IsDir() && mandatoryInside[name] != nil:
				inside(path, name)
				return false // nothing else under .git etc. needs the walk
			}
			return true
		})
	}
	return dedupe(out)
}

// protectedRoot reports whether a writable root is itself, or lies inside, a
// mandatory-deny path (e.g. allowWrite ["./.vscode"] or [".git/hooks"]).
func protectedRoot(root string, allowGitConfig bool) bool {
	comps := strings.Split(root, "/")
	for i, c := range comps {
		if contains(mandatoryDirs, c) || (contains(mandatoryFiles, c) && i == len(comps)-1) {
			return true
		}
		if entries, ok := mandatoryInside[c]; ok && i+1 < len(comps) {
			for _, e := range entries {
				if comps[i+1] == e && !(c == ".git" && e == "config" && allowGitConfig) {
					return true
				}
			}
		}
	}
	return false
}

// walk visits entries below root up to depth levels (depth 1 = the root's
// own entries), without following symlinks. visit returns false to skip a
// directory's contents.
func walk(root string, depth int, visit func(path string, d os.DirEntry) bool) {
	if depth <= 0 {
		return
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		return
	}
	for _, e := range entries {
		p := filepath.Join(root, e.Name())
		if visit(p, e) && e.IsDir() && e.Type()&os.ModeSymlink == 0 {
			walk(p, depth-1, visit)
		}
	}
}
