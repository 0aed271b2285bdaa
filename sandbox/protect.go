package sandbox

import (
	"path/filepath"
	"strings"
)

// Protection decides which paths a sandboxed server may never create,
// write, remove, rename or re-point, wherever they are and whether or not
// they exist yet. It is a pure function of the path (absolute, clean,
// symlinks resolved); the Linux broker adds the one rule that needs the
// filesystem (a directory holding HEAD is a git directory, see
// gitDirNames), and the macOS profile renders the same names as regexes.
//
// Two kinds of entry:
//   - names, matched on the components of any path (mandatoryFiles,
//     mandatoryDirs, mandatoryInside): protection moves with the name, so
//     renaming a directory above .git carries a still-protected .git along,
//     and only the pattern's own directories (.git, .git/hooks, .claude …)
//     must not be renamed;
//   - absolute paths (Policy.Protected): srt-mcp's own files, MCP client
//     configs, persistence points. These are tied to a place, so every
//     ancestor of one must not be renamed, removed or replaced either.
type Protection struct {
	AllowGitConfig bool
	Paths          []ProtectedPath
	// HostProc: the sandbox sees the host's /proc (enableWeakerNestedSandbox),
	// so /proc/self is the caller's PID in our namespace, not its own.
	HostProc bool
	// Carved are directories inside protected paths that stay the
	// server's own: its private launcher caches, under the protected
	// launchers root.
	Carved []string
	// Writable are the policy's writable roots. Below /tmp and /dev/shm
	// outside them, the sandbox has private tmpfs mounts that vanish with
	// it: nothing there is read by the host later, so no name is protected
	// (git clone and npm install there work as usual).
	Writable []string
}

// Protection returns the policy's protection rules.
func (p *Policy) Protection() *Protection {
	pr := &Protection{AllowGitConfig: p.AllowGitConfig, Paths: p.Protected, HostProc: p.WeakerNestedSandbox, Writable: p.AllowWrite}
	for _, c := range p.Private {
		pr.Carved = append(pr.Carved, c.Source)
	}
	return pr
}

// Rule says why path may not be created, opened for writing, truncated,
// chmod'ed, removed or renamed, or "" when it may.
func (pr *Protection) Rule(path string) string {
	if pr.private(path) {
		return ""
	}
	for _, pp := range pr.Paths {
		if under(path, pp.Path) && !underAny(path, pr.Carved) {
			return pp.Rule + ": " + pp.Path
		}
	}
	return nameRule(path, pr.AllowGitConfig)
}

// private reports whether path lies in one of the sandbox's own tmpfs
// mounts (/tmp, /dev/shm) and not in a host directory bound there.
func (pr *Protection) private(path string) bool {
	for _, tmpfs := range []string{"/tmp", "/dev/shm"} {
		if !under(path, tmpfs) {
			continue
		}
		for _, w := range pr.Writable {
			if under(w, tmpfs) && under(path, w) {
				return false // a host directory bound into the tmpfs
			}
		}
		return true
	}
	return false
}

func underAny(path string, dirs []string) bool {
	for _, d := range dirs {
		if under(path, d) {
			return true
		}
	}
	return false
}

// MoveRule says why the entry at path may not be renamed away, removed,
// replaced, or created as a link or symlink (anything that changes what the
// name points to): the protected paths themselves, and every ancestor of an
// absolute protected path, whose renaming would carry the protected file
// to an unprotected place and free its name for a replacement.
func (pr *Protection) MoveRule(path string) string {
	if r := pr.Rule(path); r != "" {
		return r
	}
	for _, pp := range pr.Paths {
		if under(pp.Path, path) {
			return pp.Rule + " (an ancestor of " + pp.Path + ")"
		}
	}
	return ""
}

// gitDirEntries are the entries of a git directory through which git takes
// configuration or runs code. In a directory named .git they are protected
// by name (mandatoryInside); in any other directory they are protected
// when it also holds HEAD (a bare repository, .git/worktrees/X,
// .git/modules/X, or one the server built to be discovered by a user's git).
var gitDirEntries = []string{"config", "config.worktree", "commondir", "hooks"}

// nameRule applies the mandatory names to the components of path.
func nameRule(path string, allowGitConfig bool) string {
	comps := strings.Split(strings.TrimPrefix(filepath.Clean(path), "/"), "/")
	last := len(comps) - 1
	for i, c := range comps {
		if contains(mandatoryDirs, c) {
			return "mandatory deny: " + c + " (anywhere)"
		}
		if i == last && contains(mandatoryFiles, c) {
			return "mandatory deny: " + c + " (anywhere)"
		}
		entries, ok := mandatoryInside[c]
		if !ok {
			continue
		}
		if i == last {
			// The directory itself: replacing it (mv .git .git-old, then a
			// new .git) would bring in a config of the server's making.
			return "mandatory deny: " + c + " (anywhere)"
		}
		next := comps[i+1]
		for _, e := range entries {
			parts := strings.Split(e, "/")
			if len(parts) > last-i {
				// A prefix of the entry: .git/info for .git/info/attributes.
				if strings.Join(comps[i+1:], "/") == strings.Join(parts[:last-i], "/") {
					return "mandatory deny: " + c + "/" + e + " (anywhere)"
				}
				continue
			}
			if next != parts[0] || strings.Join(comps[i+1:i+1+len(parts)], "/") != e {
				continue
			}
			if c == ".git" && e == "config" && allowGitConfig && i+1 == last {
				continue
			}
			return "mandatory deny: " + c + "/" + e + " (anywhere)"
		}
	}
	return ""
}
