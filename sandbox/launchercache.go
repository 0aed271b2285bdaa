package sandbox

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
)

// Launcher caches (npx, uvx, pipx, yarn/pnpm/bun dlx, go run, and the
// browser downloads of playwright and puppeteer) hold code that runs
// later: the next `npx some-server` the user types on the host runs
// whatever ~/.npm/_npx/*/node_modules/some-server/index.js says, and so
// does every other sandboxed server launched with npx (the github one,
// with the user's token and api.github.com reachable). A server that may
// write the real cache, as every npx profile used to grant, plants its
// code there and escapes twice: out of the sandbox and into the others.
//
// So when the policy makes a known launcher cache writable, by naming it
// (a profile's "~/.npm") or by covering it ("~"), srt-mcp binds a private
// directory of that server's own at the cache's path instead, and the real
// cache is not visible inside at all. The private directories live under
// LauncherCacheRoot, which every sandbox has hidden and read-only, so no
// server can reach another's. Which private directory a server gets is
// decided by LauncherKey from what the user configured (the command line
// after --, or --name), never by anything the server reports about itself.
// The private copy persists between that server's runs, so npx -y does not
// download again.
//
// Seatbelt (macOS) cannot put one directory in place of another: there the
// cache stays read-only instead (PlanLauncherCaches says so on stderr).

// launcherCache is a cache some launcher keeps code in.
type launcherCache struct {
	Rel  string // default location, relative to the home directory
	Env  string // a variable that moves it, when set to an absolute path
	Name string // the private directory's name
}

// cacheLocation is a launcher cache where it is for this user.
type cacheLocation struct {
	Path string // absolute
	Name string // the private directory's name
	// Redirect points the launcher at the private copy when the cache does
	// not exist ("VAR=subdir" of the copy).
	Redirect []string
}

// launcherCaches are the known launcher caches. Locations under .cache/
// and .local/share/ follow $XDG_CACHE_HOME and $XDG_DATA_HOME when set.
var launcherCaches = []launcherCache{
	{".npm", "npm_config_cache", "npm"},                    // npm, npx: _npx installs, _cacache tarballs
	{".cache/yarn", "YARN_CACHE_FOLDER", "yarn"},           // yarn 1 (yarn dlx, global add)
	{".yarn/berry", "", "yarn-berry"},                      // yarn 2+ global cache
	{".cache/pnpm", "", "pnpm-cache"},                      // pnpm dlx
	{".local/share/pnpm", "PNPM_HOME", "pnpm"},             // pnpm store and global packages
	{".bun/install/cache", "BUN_INSTALL_CACHE_DIR", "bun"}, // bunx
	{".cache/uv", "UV_CACHE_DIR", "uv"},                    // uvx: its tool environments live here
	{".local/share/uv", "UV_TOOL_DIR", "uv-data"},          // uv tool install, managed Pythons
	{".local/pipx", "PIPX_HOME", "pipx"},                   // pipx before 1.3
	{".local/share/pipx", "", "pipx-data"},                 // pipx 1.3+ (pipx run caches here)
	{".cache/pipx", "", "pipx-cache"},                      // pipx 1.5+ pipx run cache
	{".cache/pip", "PIP_CACHE_DIR", "pip"},                 // wheels pip installs later, on the host too
	{".cache/deno", "DENO_DIR", "deno"},                    // deno run npm:/jsr: packages
	{"go/pkg/mod", "GOMODCACHE", "go-mod"},                 // go run pkg@version
	{".cache/go-build", "GOCACHE", "go-build"},             // compiled objects the host's go links
	{".cache/ms-playwright", "PLAYWRIGHT_BROWSERS_PATH", "ms-playwright"},
	{".cache/puppeteer", "PUPPETEER_CACHE_DIR", "puppeteer"},
	{"Library/Caches/Yarn", "", "yarn"},
	{"Library/Caches/pnpm", "", "pnpm-cache"},
	{"Library/pnpm", "", "pnpm"},
	{"Library/Caches/uv", "", "uv"},
	{"Library/Caches/pip", "", "pip"},
	{"Library/Caches/deno", "", "deno"},
	{"Library/Caches/go-build", "", "go-build"},
	{"Library/Caches/ms-playwright", "", "ms-playwright"},
}

// launcherRedirects are the variables that move a cache whose Env does not
// move all of it, or that has none ("VAR=subdir" of the private copy).
var launcherRedirects = map[string][]string{
	"yarn-berry": {"YARN_GLOBAL_FOLDER=."},
	"uv-data":    {"UV_TOOL_DIR=tools", "UV_PYTHON_INSTALL_DIR=python"},
	"pipx-data":  {"PIPX_HOME=."},
}

// privateCachesSupported: only a bind mount can put a private directory in
// the cache's place.
var privateCachesSupported = runtime.GOOS == "linux"

// LauncherCacheRoot is where the private launcher caches live:
// $XDG_CACHE_HOME/srt-mcp/launchers when XDG_CACHE_HOME is absolute, else
// ~/.cache/srt-mcp/launchers. The cache home's symlinks are resolved (a
// ~/.cache that links elsewhere is common), so that the hidden root and
// the private directories inside it are planned at the same real paths;
// below it, PrepareLauncherCaches accepts no symlink at all.
func LauncherCacheRoot(home string) string {
	dir := filepath.Join(home, ".cache")
	if d := os.Getenv("XDG_CACHE_HOME"); filepath.IsAbs(d) {
		dir = d
	}
	return filepath.Join(realPath(filepath.Clean(dir)), "srt-mcp", "launchers")
}

// launcherCachePaths returns each known cache's absolute location for this
// home and environment (default and, when set, moved by its variable).
func launcherCachePaths(home string, getenv func(string) string) []cacheLocation {
	xdg := func(v, def string) string {
		if d := getenv(v); filepath.IsAbs(d) {
			return d
		}
		return filepath.Join(home, def)
	}
	cacheHome, dataHome := xdg("XDG_CACHE_HOME", ".cache"), xdg("XDG_DATA_HOME", ".local/share")
	var out []cacheLocation
	for _, c := range launcherCaches {
		path := filepath.Join(home, c.Rel)
		switch {
		case strings.HasPrefix(c.Rel, ".cache/"):
			path = filepath.Join(cacheHome, strings.TrimPrefix(c.Rel, ".cache/"))
		case strings.HasPrefix(c.Rel, ".local/share/"):
			path = filepath.Join(dataHome, strings.TrimPrefix(c.Rel, ".local/share/"))
		}
		redirect := launcherRedirects[c.Name]
		if redirect == nil && c.Env != "" {
			redirect = []string{c.Env + "=."}
		}
		out = append(out, cacheLocation{Path: path, Name: c.Name, Redirect: redirect})
		if c.Env != "" {
			if moved := getenv(c.Env); filepath.IsAbs(moved) && filepath.Clean(moved) != path {
				out = append(out, cacheLocation{Path: filepath.Clean(moved), Name: c.Name + "-" + strings.ToLower(c.Env), Redirect: []string{c.Env + "=."}})
			}
		}
	}
	return out
}

// LauncherKey names a server's private caches. It comes from what the user
// configured: --name when given, else the command line (its program
// resolved on PATH, so "npx" and "/usr/bin/npx" are one server). A
// readable part helps the user find the directory; the hash keeps two
// command lines apart however similar they read.
func LauncherKey(argv []string, name string) string {
	var id, label string
	if name != "" {
		id, label = "name\x00"+name, name
	} else {
		norm := append([]string(nil), argv...)
		if len(norm) > 0 {
			if abs, err := exec.LookPath(norm[0]); err == nil {
				if real, err := filepath.EvalSymlinks(abs); err == nil {
					abs = real
				}
				if a, err := filepath.Abs(abs); err == nil {
					norm[0] = a
				}
			}
		}
		id = "argv\x00" + strings.Join(norm, "\x00")
		if len(argv) > 0 {
			label = strings.Join(append([]string{filepath.Base(argv[0])}, argv[1:]...), " ")
		}
	}
	sum := sha256.Sum256([]byte(id))
	return slug(label) + "-" + hex.EncodeToString(sum[:8])
}

// slug keeps letters, digits, '.', '_' and '-', turns runs of anything
// else into one '-', and caps the length.
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range s {
		ok := r < 128 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-')
		if !ok {
			if !dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = true
			continue
		}
		if r == '-' && dash {
			continue
		}
		b.WriteRune(r)
		dash = r == '-'
	}
	out := strings.Trim(b.String(), "-.")
	if len(out) > 48 {
		out = strings.TrimRight(out[:48], "-.")
	}
	if out == "" {
		out = "server"
	}
	return out
}

// PrivateCache is a launcher cache replaced by the server's own copy.
type PrivateCache struct {
	Path   string // where the cache is on the host (symlinks resolved)
	Source string // the private directory, bound at Path and at its own path
	// Env, when set, are the variables ("VAR=dir") that point the launcher
	// at Source because Path does not exist: a bind mount needs an
	// existing mount point, and srt-mcp creates nothing in the user's home.
	Env []string
}

// LauncherEnv is what the server's environment gets for the private
// caches that could not be bound at their usual path ("VAR=dir").
func (p *Policy) LauncherEnv() []string {
	var out []string
	for _, c := range p.Private {
		out = append(out, c.Env...)
	}
	return out
}

// PlanLauncherCaches replaces every writable launcher cache of the policy
// by a private one under LauncherCacheRoot/key. It only plans (the
// directories are made by PrepareLauncherCaches): allowWrite entries at or
// inside a cache are taken out, and Private is filled.
//
// The private directory is always bound at its own path too, so what a
// launcher records there with absolute paths (uv's tool environments)
// stays valid whichever way the next run finds it.
//
// A cache that does not exist yet cannot be bound over (a bind mount needs
// a mount point, and srt-mcp creates nothing in the user's home). When the
// policy names it and its launcher has a variable that moves it
// (npm_config_cache, UV_CACHE_DIR, …), that variable points at the private
// directory instead (LauncherEnv). Otherwise it stays unwritable, with a
// notice. A missing cache that is merely covered by a wider writable root
// ("~") is protected, so the server cannot create the real one: srt-mcp
// does not give servers private caches for launchers nobody asked for.
//
// A cache that holds the server's own program (argv: `uv tool install`
// puts mcp-server-git in ~/.local/share/uv/tools, linked from ~/.local/bin)
// cannot be replaced by a private copy, which would hide the program: it
// becomes read-only instead, with a notice.
func (p *Policy) PlanLauncherCaches(key string, argv ...string) {
	if p.SharedLauncherCaches || !filepath.IsAbs(p.Home) {
		return
	}
	programs := programPaths(argv)
	root := LauncherCacheRoot(p.Home)
	caches := launcherCachePaths(p.Home, os.Getenv)
	for i := range caches {
		caches[i].Path = realPath(caches[i].Path)
	}
	// Outer caches first: a variable can put one cache inside another
	// (npm_config_cache=~/go/pkg/mod/npm), and the outer one must not stay real
	// because the inner one was made private first.
	sort.SliceStable(caches, func(i, j int) bool { return len(caches[i].Path) < len(caches[j].Path) })
	for _, c := range caches {
		path := c.Path
		named, covered := false, false
		for _, w := range p.AllowWrite {
			named = named || under(w, path)
			covered = covered || under(path, w)
		}
		if !named && !covered || p.protected(path) || p.privateAt(path) || p.deniedAt(path) {
			continue
		}
		if prog := firstUnder(programs, path); prog != "" {
			p.Notices = append(p.Notices, fmt.Sprintf("launcher cache %s holds the server's own program (%s): it stays read-only, since a private copy would hide the program", path, prog))
			p.Protect(path, "launcher cache holding the server's program")
			continue
		}
		isDir, ok := exists(path)
		switch {
		case !privateCachesSupported:
			p.Protect(path, "launcher cache (code run later outside the sandbox; on this system it cannot be made private)")
			continue
		case ok && !isDir, !ok && !named:
			p.Protect(path, "launcher cache (code run later outside the sandbox)")
			continue
		case !ok && len(c.Redirect) == 0:
			p.Notices = append(p.Notices, fmt.Sprintf("filesystem.allowWrite: the launcher cache %s does not exist, and srt-mcp creates nothing in your home: it is not writable. Create it on the host (mkdir -p %s); the server then gets a private copy there", path, path))
			p.Protect(path, "launcher cache (code run later outside the sandbox)")
			continue
		}
		kept := p.AllowWrite[:0]
		for _, w := range p.AllowWrite {
			if !under(w, path) {
				kept = append(kept, w)
			}
		}
		p.AllowWrite = kept
		pc := PrivateCache{Path: path, Source: filepath.Join(root, key, c.Name)}
		if !ok {
			for _, r := range c.Redirect {
				name, sub, _ := strings.Cut(r, "=")
				pc.Env = append(pc.Env, name+"="+filepath.Join(pc.Source, sub))
			}
			if covered {
				// The launcher is pointed elsewhere; the real one must
				// not be created under the writable root meanwhile.
				p.Protect(path, "launcher cache (code run later outside the sandbox)")
			}
		}
		p.Private = append(p.Private, pc)
	}
}

// programPaths are the real paths of the server's program (found on PATH)
// and of its arguments that name existing absolute paths (node
// ~/.npm/_npx/…/index.js).
func programPaths(argv []string) []string {
	var out []string
	for i, a := range argv {
		if i == 0 {
			if abs, err := exec.LookPath(a); err == nil {
				a = abs
			}
		}
		if !filepath.IsAbs(a) {
			continue
		}
		if _, err := os.Stat(a); err == nil {
			out = append(out, realPath(filepath.Clean(a)))
		}
	}
	return out
}

func firstUnder(paths []string, dir string) string {
	for _, p := range paths {
		if under(p, dir) {
			return p
		}
	}
	return ""
}

// deniedAt: a denyWrite or denyRead covers path, so it stays read-only
// (or hidden) and needs no private copy (deny wins).
func (p *Policy) deniedAt(path string) bool {
	for _, d := range append(append([]string(nil), p.DenyWrite...), p.DenyRead...) {
		if under(path, d) {
			return true
		}
	}
	return false
}

func (p *Policy) privateAt(path string) bool {
	for _, c := range p.Private {
		if under(path, c.Path) || under(c.Path, path) {
			return true
		}
	}
	return false
}

// PrepareLauncherCaches creates, on the host and before the sandbox is
// built, the launcher root (always: it must exist to be hidden from every
// sandbox, or a server with a writable ~/.cache could seed another
// server's private cache before it is first used) and each private
// directory (mode 0700). It returns the caches whose private directory it
// created now, for a one-time note.
//
// Everything from the root down is checked to be a real directory owned
// by the user: a symlink planted there by an earlier sandboxed server
// (one granted ~/.cache) would choose which host directory becomes
// writable.
func (p *Policy) PrepareLauncherCaches() (created []PrivateCache, err error) {
	if !filepath.IsAbs(p.Home) {
		return nil, nil
	}
	root := LauncherCacheRoot(p.Home)
	base := filepath.Dir(root) // $XDG_CACHE_HOME/srt-mcp
	if err := os.MkdirAll(filepath.Dir(base), 0o700); err != nil {
		return nil, fmt.Errorf("creating %s: %w", filepath.Dir(base), err)
	}
	if _, err := mkdirOwned(base, root); err != nil {
		return nil, err
	}
	for _, c := range p.Private {
		fresh, err := mkdirOwned(base, c.Source)
		if err != nil {
			return nil, err
		}
		if fresh {
			created = append(created, c)
		}
	}
	return created, nil
}

// mkdirOwned creates dir below root one component at a time, refusing any
// component (root included) that is a symlink, not a directory, or not
// owned by the user. It reports whether dir itself was created now.
func mkdirOwned(root, dir string) (created bool, err error) {
	rel, err := filepath.Rel(root, dir)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return false, fmt.Errorf("private launcher cache %s is not under %s", dir, root)
	}
	cur := root
	for _, comp := range append([]string{""}, strings.Split(rel, string(filepath.Separator))...) {
		cur = filepath.Join(cur, comp)
		err := os.Mkdir(cur, 0o700)
		if err != nil && !os.IsExist(err) {
			return false, fmt.Errorf("creating the private launcher cache %s: %w", cur, err)
		}
		created = err == nil
		st, err := os.Lstat(cur)
		if err != nil {
			return false, fmt.Errorf("private launcher cache %s: %w", cur, err)
		}
		if !st.IsDir() {
			return false, fmt.Errorf("private launcher cache %s is not a directory (a symlink?); remove it and start again", cur)
		}
		if uid, ok := fileOwner(st); ok && uid != os.Geteuid() {
			return false, fmt.Errorf("private launcher cache %s belongs to uid %d, not to you; remove it and start again", cur, uid)
		}
	}
	return created, nil
}
