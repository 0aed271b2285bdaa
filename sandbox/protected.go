package sandbox

import (
	"os"
	"os/user"
	"path/filepath"
	"strconv"
)

// This file lists the paths a sandboxed server must never change, whatever
// filesystem.allowWrite says (Policy.Protected), and the MCP client configs
// it must not read. A server that can write one of them escapes without
// touching the kernel: it rewrites the policy of its own next launch, or
// plants code that the user's shell, desktop session, git or ssh runs
// later, outside the sandbox.
//
// Existing entries are made read-only by the mount plan (Mounts). Entries
// that do not exist yet cannot be covered by a bind mount without creating
// a placeholder in the user's home; refusing their creation is the seccomp
// broker's job, which reads the same list.

// StateDir is srt-mcp's state directory: tool pins, traces and the key
// that argument digests are made with. $XDG_STATE_HOME/srt-mcp when
// XDG_STATE_HOME is absolute (the XDG base directory rule), else
// ~/.local/state/srt-mcp.
func StateDir(home string) string {
	if d := os.Getenv("XDG_STATE_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, "srt-mcp")
	}
	return filepath.Join(home, ".local", "state", "srt-mcp")
}

// configDirs are where srt-mcp's own settings files are kept by
// convention (the README's examples use ~/.config/srt-mcp/NAME.json).
func configDirs(home string) []string {
	dirs := []string{filepath.Join(home, ".config", "srt-mcp")}
	if d := os.Getenv("XDG_CONFIG_HOME"); filepath.IsAbs(d) {
		dirs = append(dirs, filepath.Join(d, "srt-mcp"))
	}
	return dirs
}

// ClientConfigFiles are the per-user MCP client configuration files that
// `srt-mcp verify` knows (internal/clientconfig.Locations; a test keeps
// the two lists in step). Each holds the command line and the env, tokens
// included, of every MCP server the user configured: a server has no
// business reading another server's tokens, so they are read-denied, and
// writing one would add an unsandboxed server to the client, so they are
// protected.
func ClientConfigFiles(home string) []string {
	files := []string{
		".claude.json",        // Claude Code: user and per-project servers
		".claude.json.backup", // Claude Code's copy of the same
		"Library/Application Support/Claude/claude_desktop_config.json",
		".config/Claude/claude_desktop_config.json",
		".cursor/mcp.json",
		".config/Code/User/mcp.json",
		"Library/Application Support/Code/User/mcp.json",
		".codeium/windsurf/mcp_config.json",
		".gemini/settings.json",
		".config/zed/settings.json",
		".codex/config.toml",
	}
	out := make([]string, 0, len(files)+1)
	for _, f := range files {
		out = append(out, filepath.Join(home, f))
	}
	if codexHome := os.Getenv("CODEX_HOME"); filepath.IsAbs(codexHome) {
		out = append(out, filepath.Join(codexHome, "config.toml"))
	}
	return out
}

// ProjectClientConfigFiles are the MCP client configs that live in the
// project the server works in. They stay readable (they are part of the
// project, usually committed, and a server working on the project may
// read it), but never writable: a new entry there is an unsandboxed server
// the next time the client opens the project.
func ProjectClientConfigFiles(cwd string) []string {
	var out []string
	for _, f := range []string{".mcp.json", ".cursor/mcp.json", ".vscode/mcp.json", ".gemini/settings.json", ".zed/settings.json"} {
		out = append(out, filepath.Join(cwd, f))
	}
	return out
}

// PersistencePaths are the places under the home through which a write
// gets code run later, outside the sandbox, by the user's login, shell,
// desktop session, git, ssh or an interpreter. Relative to the home. They
// stay read-only whenever a writable root covers them, even allowWrite
// ["~"] or ["/"] written on purpose. Most entries follow firejail's
// published list of start-up files and autostart locations
// (etc/inc/disable-common.inc in github.com/netblue30/firejail: "Startup
// files", "X11 session autostart", "Remote access", "Initialization files
// that allow arbitrary command execution", "Make directories commonly
// found in $PATH read-only", "systemd").
//
// Per-user cron and at jobs are not files under the home (they live in
// /var/spool, written only through the setuid crontab and at, which
// no_new_privs makes powerless inside the sandbox), so they need no entry.
var PersistencePaths = []string{
	// Shell start-up files of every common shell: bash, sh/dash/ksh
	// (.profile, ENV), zsh, fish, nushell, tcsh/csh, ksh, mksh, and
	// readline's .inputrc (a key binding can type and run a command).
	".bashrc", ".bash_profile", ".bash_login", ".bash_logout", ".bash_aliases",
	".profile", ".profile.d", ".zshrc", ".zshenv", ".zprofile", ".zlogin", ".zlogout",
	".zsh.d", ".oh-my-zsh", ".config/fish", ".local/share/fish/vendor_conf.d",
	".config/nushell", ".cshrc", ".tcshrc", ".login", ".logout", ".kshrc",
	".mkshrc", ".inputrc",
	// Session environment: read by systemd, pam_env and display managers.
	".config/environment.d", ".pam_environment",
	// X11 and desktop session start-up.
	".xprofile", ".xinitrc", ".xsession", ".xsessionrc", ".Xsession", ".xserverrc",
	".config/autostart", ".config/autostart-scripts", ".local/share/autostart",
	".local/share/applications",
	// systemd user units (started at login, or on a timer).
	".config/systemd", ".local/share/systemd",
	// Directories on a typical PATH: a program written there shadows a
	// system one the next time the user types its name.
	".local/bin", "bin", ".bin", ".cargo/bin", ".cargo/env",
	// Python's user site: a .pth file there runs on every python start.
	".local/lib",
	// git's user configuration (core.fsmonitor, core.pager, aliases,
	// hooksPath all run programs); .gitconfig is also a mandatory name.
	".config/git", ".gitconfig",
	// ssh: who may log in, and what runs on connect. The directory is
	// read-denied as a credential store, but allowRead may re-open it.
	".ssh/authorized_keys", ".ssh/authorized_keys2", ".ssh/config", ".ssh/config.d",
	".ssh/rc", ".ssh/environment", ".rhosts", ".shosts",
	// Editors and terminal multiplexers that run configuration as code.
	".vimrc", ".vim", ".exrc", ".gvimrc", ".config/nvim", ".emacs", ".emacs.d",
	".tmux.conf", ".config/tmux",
	// Package managers' user configuration: build wrappers and runners
	// (cargo), index URLs (pip) make the next install run other code.
	".cargo/config.toml", ".cargo/config", ".config/pip", ".pip", ".pydistutils.cfg",
	// Editor/agent settings that run tasks or add servers.
	".config/Code/User", ".claude", ".cursor", ".gemini", ".codeium", ".codex",
	".config/zed",
}

// protect fills p.Protected from srt-mcp's own files, the MCP client
// configs and the persistence points, and read-denies the client configs
// and srt-mcp's state.
func (p *Policy) protect(settingsFiles []string) {
	for _, f := range settingsFiles {
		p.Protect(f, "srt-mcp settings in use")
	}
	if exe, err := os.Executable(); err == nil {
		p.Protect(exe, "srt-mcp executable")
	}
	for _, f := range ProjectClientConfigFiles(p.Cwd) {
		p.Protect(f, "MCP client config")
	}
	if !filepath.IsAbs(p.Home) {
		return // no home: nothing below is meaningful (and a relative join would land in the project)
	}
	p.Protect(filepath.Join(p.Home, UserSettingsFile), "srt settings ~/"+UserSettingsFile)
	p.Protect(StateDir(p.Home), "srt-mcp state (pins, traces, digest key)")
	p.Protect(LauncherCacheRoot(p.Home), "srt-mcp private launcher caches")
	for _, d := range configDirs(p.Home) {
		p.Protect(d, "srt-mcp configuration")
	}
	for _, home := range p.homes() {
		for _, f := range ClientConfigFiles(home) {
			p.Protect(f, "MCP client config")
		}
		for _, rel := range PersistencePaths {
			p.Protect(filepath.Join(home, rel), "persistence point ~/"+rel)
		}
	}
	// Every directory of the user's PATH is a persistence point for the
	// same reason as ~/.local/bin, inside the home or not: a project's
	// .venv/bin or node_modules/.bin on PATH (an activated venv, direnv)
	// would let a server plant a git, node or bwrap that the user, or
	// srt-mcp's next launch, runs outside the sandbox. Only the ones a
	// writable root covers change the mount plan.
	for _, d := range filepath.SplitList(os.Getenv("PATH")) {
		if filepath.IsAbs(d) && filepath.Clean(d) != "/" {
			p.Protect(d, "directory on PATH")
		}
	}
}

// Protect adds path (made absolute against the working directory; both
// the name as given and its symlink-resolved target) to Protected, and
// takes back any writable root at or inside it: allowWrite cannot re-open
// srt-mcp's own files or a persistence point.
func (p *Policy) Protect(path, rule string) {
	if !filepath.IsAbs(path) {
		path = filepath.Join(p.Cwd, path)
	}
	path = filepath.Clean(path)
	names := []string{path}
	if real := p.realPath(path); real != path {
		// The link itself matters too: re-pointing it changes what the
		// next launch reads.
		names = append(names, real)
	}
	for _, n := range names {
		if p.protected(n) {
			continue
		}
		p.Protected = append(p.Protected, ProtectedPath{Path: n, Rule: rule})
		kept := p.AllowWrite[:0]
		for _, w := range p.AllowWrite {
			if under(w, n) {
				p.Notices = append(p.Notices, "filesystem.allowWrite "+w+" stays read-only: it is "+rule+" ("+n+")")
				continue
			}
			kept = append(kept, w)
		}
		p.AllowWrite = kept
	}
}

// protected reports whether path is, or lies inside, a protected path.
func (p *Policy) protected(path string) bool {
	for _, pp := range p.Protected {
		if under(path, pp.Path) {
			return true
		}
	}
	return false
}

// homes are the home directories whose credentials and persistence points
// are protected: $HOME, and the account's home from the password database
// when $HOME says something else. $HOME is only an environment variable:
// an MCP client entry's env, sudo -E or a service's HOME=/ would otherwise
// leave the real home's ~/.ssh readable and its ~/.bashrc writable.
func (p *Policy) homes() []string {
	if p.homeList != nil {
		return p.homeList
	}
	p.homeList = []string{p.Home}
	if pw := passwdHome(); pw != "" && filepath.IsAbs(pw) && pw != "/" {
		if real := p.realPath(pw); real != p.realPath(p.Home) {
			p.homeList = append(p.homeList, real)
		}
	}
	return p.homeList
}

// passwdHome is the current user's home directory in the password
// database, or "".
func passwdHome() string {
	u, err := user.LookupId(strconv.Itoa(os.Getuid()))
	if err != nil {
		return ""
	}
	return u.HomeDir
}
