package sandbox

import "path/filepath"

// Files and directories that stay read-only even inside a writable
// directory: writing them lets a sandboxed server run code later, outside the
// sandbox (shell start-up files, git hooks and config, editor tasks, agent
// commands and hooks, MCP client configs that add more servers). They are
// protected by name at any depth (Protection.Rule): on Linux by the seccomp
// broker, which refuses creating, writing, renaming or removing them, on
// macOS by Seatbelt regexes.
var (
	mandatoryFiles = []string{
		".bashrc", ".bash_profile", ".bash_login", ".profile", ".zshrc",
		".zprofile", ".zshenv", ".zlogin", ".gitconfig", ".gitmodules",
		".ripgreprc", ".mcp.json", ".envrc",
		// Read by hook managers that an installed git hook runs on the
		// user's next commit (local hooks are arbitrary commands).
		".pre-commit-config.yaml", "lefthook.yml", ".lefthook.yml", "lefthook-local.yml",
		// Project-local editor and tool configs that run code when the
		// user opens or enters the project.
		".nvim.lua", ".exrc", ".lazy.lua", "mise.toml", ".mise.toml",
	}
	// .devcontainer: devcontainer.json's initializeCommand runs on the host.
	mandatoryDirs = []string{".vscode", ".idea", ".devcontainer"}
	// Entries inside a directory with the given name (a "/" names a
	// deeper entry). The directory itself is protected too: replacing it
	// would replace every entry at once.
	mandatoryInside = map[string][]string{
		// Everything through which git takes configuration or runs code:
		// config and config.worktree (core.fsmonitor, core.hooksPath,
		// aliases …), commondir (redirects config and hooks), hooks,
		// info/attributes (filter and diff drivers), and the per-worktree
		// and per-submodule git directories, which hold all of these again.
		".git":    {"hooks", "config", "config.worktree", "commondir", "info/attributes", "worktrees", "modules"},
		".claude": {"commands", "agents", "settings.json", "settings.local.json"},
		".cursor": {"mcp.json"},
		".gemini": {"settings.json"},
		// Other clients' project-level MCP server lists and tasks.
		".amazonq":  {"mcp.json"},
		".roo":      {"mcp.json"},
		".kiro":     {"settings"},
		".windsurf": {"mcp.json"},
		".codex":    {"config.toml"},
		".zed":      {"settings.json", "tasks.json"},
		".continue": {"config.json", "config.yaml", "mcpServers"},
	}
)

// MandatoryDenyPaths returns the protected paths that exist directly in
// each root (roots are the writable roots and the working directory):
// root/.mcp.json, root/.git/hooks and the like. They get a read-only bind
// mount as a second lock behind the broker, and the kernel then also
// refuses renaming the directories that hold them (EBUSY). There is no
// directory walk: start-up costs the same whatever the size of the tree,
// and protected names at any depth are the broker's job.
func MandatoryDenyPaths(roots []string, allowGitConfig bool) []string {
	rule := func(p string) string { return nameRule(p, allowGitConfig) }
	var out []string
	add := func(p string) {
		if _, ok := exists(p); ok && rule(p) != "" {
			out = append(out, p)
		}
	}
	for _, root := range roots {
		if _, ok := exists(root); !ok {
			continue
		}
		// The root itself may be a protected path or lie inside one.
		if rule(root) != "" {
			out = append(out, root)
			continue
		}
		for _, f := range mandatoryFiles {
			add(filepath.Join(root, f))
		}
		for _, d := range mandatoryDirs {
			add(filepath.Join(root, d))
		}
		for dir, entries := range mandatoryInside {
			if dir == filepath.Base(root) {
				for _, e := range entries {
					add(filepath.Join(root, e))
				}
			}
			for _, e := range entries {
				add(filepath.Join(root, dir, e))
			}
		}
	}
	return dedupe(out)
}
