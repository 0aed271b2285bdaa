package sandbox

import (
	"os"
	"sort"
	"strings"
)

// Access is what a mount makes of a path inside the sandbox.
type Access int

const (
	ReadOnly  Access = iota // visible, not writable
	ReadWrite               // visible and writable
	Hidden                  // replaced by an empty, inaccessible file or directory
)

func (a Access) String() string {
	return [...]string{"read-only", "read-write", "hidden"}[a]
}

// Mount is one step of the filesystem view: Path gets Access. Mounts are
// ordered parents first, so a deeper mount overrides a shallower one.
type Mount struct {
	Path   string
	Access Access
	Dir    bool
	Rule   string // the setting that asked for it, for messages and traces
	// Source, when set, is the host directory bound at Path instead of
	// Path itself (a private launcher cache, launchercache.go).
	Source string
}

// Private locations the backend replaces wholesale: paths beneath them are
// invisible in the sandbox unless a writable root re-binds them.
var privateRoots = []string{"/tmp", "/dev", "/proc"}

// Mounts computes the filesystem view. The whole filesystem starts
// read-only; on top come, parents first: writable roots, read-only denials
// (denyWrite and the mandatory paths), hidden paths (denyRead), and explicit
// re-openings (allowRead). Deny wins: a writable root inside a denied or
// hidden path is dropped rather than allowed to punch a hole in it, and only
// allowRead re-opens a hidden region.
func (p *Policy) Mounts() []Mount {
	type cand struct {
		Mount
		rank int // at the same path, the higher rank wins
	}
	byPath := map[string]cand{}
	put := func(path string, a Access, rule string, rank int) {
		isDir, ok := exists(path)
		if !ok {
			return
		}
		if c, dup := byPath[path]; dup && c.rank >= rank {
			return
		}
		byPath[path] = cand{Mount{Path: path, Access: a, Dir: isDir, Rule: rule}, rank}
	}
	for _, w := range p.AllowWrite {
		put(w, ReadWrite, "filesystem.allowWrite", 1)
	}
	putPrivate := func(path, source string) {
		put(path, ReadWrite, "private launcher cache", 1)
		if m, ok := byPath[path]; ok && m.Rule == "private launcher cache" {
			m.Source = source
			byPath[path] = m
		}
	}
	for _, c := range p.Private {
		putPrivate(c.Source, c.Source)
		if len(c.Env) == 0 {
			putPrivate(c.Path, c.Source)
		}
	}
	for _, d := range p.DenyWrite {
		put(d, ReadOnly, "filesystem.denyWrite", 2)
	}
	for _, m := range MandatoryDenyPaths(p.mandatoryRoots(), p.AllowGitConfig) {
		put(m, ReadOnly, "mandatory deny", 2)
	}
	for _, pp := range p.Protected {
		// A symlink is skipped: a bind mount follows it, and its target
		// is in the list on its own.
		if st, err := os.Lstat(pp.Path); err == nil && st.Mode()&os.ModeSymlink == 0 {
			put(pp.Path, ReadOnly, pp.Rule, 2)
		}
	}
	for _, d := range p.DenyRead {
		put(d, Hidden, "filesystem.denyRead", 3)
	}
	for _, r := range p.AllowRead {
		a := ReadOnly
		if p.writableRoot(r) && !p.protected(r) {
			a = ReadWrite
		}
		put(r, a, "filesystem.allowRead", 4)
	}
	paths := make([]string, 0, len(byPath))
	for path := range byPath {
		paths = append(paths, path)
	}
	sort.Slice(paths, func(i, j int) bool {
		di, dj := strings.Count(paths[i], "/"), strings.Count(paths[j], "/")
		if di != dj {
			return di < dj
		}
		return paths[i] < paths[j]
	})

	var out []Mount
	for _, path := range paths {
		c := byPath[path]
		if under(path, "/dev") || under(path, "/proc") {
			continue // the sandbox has its own /dev and /proc
		}
		if insidePrivateCache(out, path) {
			// The host's files there are not what the sandbox sees: the
			// server's own copy is bound over them.
			continue
		}
		parent, private := effective(out, path)
		reopen := c.Rule == "filesystem.allowRead"
		var keep bool
		switch {
		case c.Source != "":
			// A private copy replaces the real directory whatever the
			// parent is, unless a denial covers it (deny wins). At its own
			// path it lies in the hidden launcher root, which it pierces
			// for this server alone.
			keep = path == c.Source || !deniedAbove(out, path)
		case reopen:
			keep = parent == Hidden
		case c.Access == ReadWrite:
			// Deny wins: a writable root inside a denial is dropped.
			keep = !deniedAbove(out, path) && (private || parent == ReadOnly)
		case c.Access == ReadOnly:
			keep = parent == ReadWrite && !private
		case c.Access == Hidden:
			keep = parent != Hidden && !private
		}
		if keep {
			out = append(out, c.Mount)
		}
	}
	return out
}

// effective returns the access at path given the mounts so far, and whether
// the path lies in a private root (tmpfs /tmp, /dev, /proc) not re-bound.
func effective(mounts []Mount, path string) (Access, bool) {
	acc, depth := ReadOnly, -1
	for _, m := range mounts {
		if under(path, m.Path) && len(m.Path) > depth {
			acc, depth = m.Access, len(m.Path)
		}
	}
	for _, r := range privateRoots {
		if under(path, r) && len(r) > depth {
			return ReadWrite, true
		}
	}
	return acc, false
}

// insidePrivateCache reports whether path lies strictly inside a private
// launcher cache already in mounts.
func insidePrivateCache(mounts []Mount, path string) bool {
	for _, m := range mounts {
		if m.Source != "" && path != m.Path && under(path, m.Path) {
			return true
		}
	}
	return false
}

// deniedAbove reports whether a read-only denial (not the base read-only
// root) covers path.
func deniedAbove(mounts []Mount, path string) bool {
	for _, m := range mounts {
		if m.Access != ReadWrite && under(path, m.Path) {
			return true
		}
	}
	return false
}

// mandatoryRoots are where existing protected entries get a read-only
// bind (no walk, only direct entries): every writable root, and the working
// directory and home directory whenever a writable root covers them.
func (p *Policy) mandatoryRoots() []string {
	roots := append([]string(nil), p.AllowWrite...)
	for _, d := range []string{p.Cwd, p.Home} {
		if d != "" && p.writableRoot(d) {
			roots = append(roots, d)
		}
	}
	return dedupe(roots)
}

func (p *Policy) writableRoot(path string) bool {
	for _, w := range p.AllowWrite {
		if under(path, w) {
			return true
		}
	}
	return false
}
