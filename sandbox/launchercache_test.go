package sandbox

import (
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/srt-mcp/srt-mcp/internal/testbin"
)

func TestLauncherCachePaths(t *testing.T) {
	find := func(list []cacheLocation, name string) []string {
		var out []string
		for _, c := range list {
			if strings.Contains(c.Path, "/Library/") {
				continue
			}
			if c.Name == name || strings.HasPrefix(c.Name, name+"-") && strings.Contains(c.Name, "_") {
				out = append(out, c.Path)
			}
		}
		return out
	}
	for _, tc := range []struct {
		name string
		env  map[string]string
		want map[string][]string // private name -> locations
	}{
		{"defaults", nil, map[string][]string{
			"npm": {"/h/.npm"}, "uv": {"/h/.cache/uv"}, "uv-data": {"/h/.local/share/uv"},
			"pipx": {"/h/.local/pipx"}, "pip": {"/h/.cache/pip"}, "go-mod": {"/h/go/pkg/mod"},
		}},
		{"XDG directories move the .cache and .local/share ones", map[string]string{"XDG_CACHE_HOME": "/x/cache", "XDG_DATA_HOME": "/x/data"}, map[string][]string{
			"npm": {"/h/.npm"}, "uv": {"/x/cache/uv"}, "uv-data": {"/x/data/uv"}, "pip": {"/x/cache/pip"},
		}},
		{"a launcher's own variable adds its location", map[string]string{"npm_config_cache": "/data/npm", "UV_CACHE_DIR": "/data/uv/"}, map[string][]string{
			"npm": {"/h/.npm", "/data/npm"}, "uv": {"/h/.cache/uv", "/data/uv"},
		}},
		{"relative values are ignored", map[string]string{"XDG_CACHE_HOME": "rel", "npm_config_cache": "rel/npm"}, map[string][]string{
			"npm": {"/h/.npm"}, "uv": {"/h/.cache/uv"},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			list := launcherCachePaths("/h", func(k string) string { return tc.env[k] })
			for name, want := range tc.want {
				if diff := cmp.Diff(want, find(list, name)); diff != "" {
					t.Errorf("%s (-want +got):\n%s", name, diff)
				}
			}
		})
	}
}

func TestLauncherKey(t *testing.T) {
	npx := []string{"npx", "-y", "@modelcontextprotocol/server-github"}
	key := LauncherKey(npx, "")
	if !strings.HasPrefix(key, "npx-y-modelcontextprotocol-server-github-") {
		t.Errorf("key %q does not read as its command line", key)
	}
	for _, tc := range []struct {
		name       string
		argv       []string
		serverName string
		same       bool
	}{
		{"the same command line", []string{"npx", "-y", "@modelcontextprotocol/server-github"}, "", true},
		{"the program by its full path", []string{mustLookPath(t, "npx"), "-y", "@modelcontextprotocol/server-github"}, "", true},
		{"another package", []string{"npx", "-y", "@modelcontextprotocol/server-memory"}, "", false},
		{"another argument", []string{"npx", "-y", "@modelcontextprotocol/server-github", "x"}, "", false},
		{"arguments split differently", []string{"npx", "-y @modelcontextprotocol/server-github"}, "", false},
		{"--name names its own", npx, "github", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := LauncherKey(tc.argv, tc.serverName)
			if (got == key) != tc.same {
				t.Errorf("LauncherKey(%q, %q) = %q, key of %q = %q; same = %v", tc.argv, tc.serverName, got, npx, key, tc.same)
			}
			if strings.ContainsAny(got, "/ \x00") || len(got) > 70 {
				t.Errorf("key %q is not a short file name", got)
			}
		})
	}
	if LauncherKey(nil, "github") != LauncherKey([]string{"anything"}, "github") {
		t.Error("with --name, the command line must not change the key")
	}
	if LauncherKey(nil, "a/b") == LauncherKey(nil, "a b") {
		t.Error("names that slug alike must still get different keys")
	}
}

func mustLookPath(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s is not on PATH", name)
	}
	return p
}

func TestPlanLauncherCaches(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", "")
	t.Setenv("XDG_DATA_HOME", "")
	t.Setenv("npm_config_cache", "")
	root := testbin.HostTempDir(t)
	home := filepath.Join(root, "home")
	tree(t, root, "home/.npm/_npx/", "home/.cache/uv/", "home/proj/", "home/.cache/pip")
	launchers := filepath.Join(home, ".cache/srt-mcp/launchers/k")
	for _, tc := range []struct {
		name         string
		settings     string
		wantPrivate  []string // path -> source name, "path=source"
		wantWrite    []string
		wantProtects []string
	}{
		{"a profile's ~/.npm", `{"filesystem": {"allowWrite": [".", "~/.npm"]}}`,
			[]string{".npm=npm"}, []string{"proj"}, nil},
		{"a directory inside the cache makes the whole cache private", `{"filesystem": {"allowWrite": ["~/.npm/_npx"]}}`,
			[]string{".npm=npm"}, nil, nil},
		{"a missing cache that is named is moved by its variable", `{"filesystem": {"allowWrite": ["~/.bun/install/cache"]}}`,
			[]string{".bun/install/cache=bun via BUN_INSTALL_CACHE_DIR=."}, nil, nil},
		{"uv's data directory is moved piece by piece", `{"filesystem": {"allowWrite": ["~/.local/share/uv"]}}`,
			[]string{".local/share/uv=uv-data via UV_TOOL_DIR=tools via UV_PYTHON_INSTALL_DIR=python"}, nil, nil},
		{"a missing cache with no variable stays unwritable", `{"filesystem": {"allowWrite": [".", "~/.cache/pnpm"]}}`,
			nil, []string{"proj"}, []string{".cache/pnpm"}},
		{"the home covers existing caches; a missing one is protected", `{"filesystem": {"allowWrite": ["~"]}}`,
			[]string{".cache/uv=uv", ".npm=npm"}, []string{""}, []string{".bun/install/cache", ".cache/pip", "go/pkg/mod"}},
		{"a cache not writable stays as it is", `{"filesystem": {"allowWrite": ["."]}}`,
			nil, []string{"proj"}, nil},
		{"denyWrite wins", `{"filesystem": {"allowWrite": ["~/.npm"], "denyWrite": ["~/.npm"]}}`,
			nil, []string{".npm"}, nil}, // kept, and made read-only by the mount plan
		{"sharedLauncherCaches keeps the real one", `{"filesystem": {"allowWrite": ["~/.npm"]}, "srtMcp": {"sharedLauncherCaches": true}}`,
			nil, []string{".npm"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := resolve(t, tc.settings, filepath.Join(home, "proj"), home)
			p.PlanLauncherCaches("k")
			var private, write []string
			for _, c := range p.Private {
				rel, _ := filepath.Rel(home, c.Path)
				src, _ := filepath.Rel(launchers, c.Source)
				for _, kv := range c.Env {
					name, dir, _ := strings.Cut(kv, "=")
					rel, _ := filepath.Rel(c.Source, dir)
					src += " via " + name + "=" + rel
				}
				private = append(private, rel+"="+src)
			}
			for _, w := range p.AllowWrite {
				rel, _ := filepath.Rel(home, w)
				if rel == "." {
					rel = ""
				}
				write = append(write, rel)
			}
			sort.Strings(private)
			if diff := cmp.Diff(tc.wantPrivate, private); diff != "" {
				t.Errorf("private caches (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantWrite, write); diff != "" {
				t.Errorf("allowWrite after planning (-want +got):\n%s", diff)
			}
			for _, rel := range tc.wantProtects {
				if !p.protected(filepath.Join(home, rel)) {
					t.Errorf("missing cache %s under a writable root is not protected", rel)
				}
			}
		})
	}
}

// TestPlanLauncherCachesNested: npm's cache moved inside Go's module
// cache (npm comes first in the table); granting the outer one must not
// leave it real because the inner one was made private first.
func TestPlanLauncherCachesNested(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", "")
	root := testbin.HostTempDir(t)
	home := filepath.Join(root, "home")
	tree(t, root, "home/go/pkg/mod/npm/", "home/proj/")
	t.Setenv("npm_config_cache", filepath.Join(home, "go/pkg/mod/npm"))
	p := resolve(t, `{"filesystem": {"allowWrite": ["~/go/pkg/mod"]}}`, filepath.Join(home, "proj"), home)
	p.PlanLauncherCaches("k")
	if len(p.Private) != 1 || p.Private[0].Path != filepath.Join(home, "go/pkg/mod") || len(p.AllowWrite) != 0 {
		t.Errorf("private %+v, allowWrite %v; want only ~/go/pkg/mod private and nothing real writable", p.Private, p.AllowWrite)
	}
}

// TestMountsBindPrivateCache: the private copy is bound at the cache's
// path even under a writable home, the host's files inside the cache
// bring no mounts of their own, the launcher root is hidden, and a
// denial above the cache still wins.
func TestMountsBindPrivateCache(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", "")
	root := testbin.HostTempDir(t)
	home := filepath.Join(root, "home")
	tree(t, root, "home/.npm/_npx/a/.git/hooks/", "home/proj/", "home/.cache/srt-mcp/launchers/k/npm/")
	mounts := func(settings string) []string {
		p := resolve(t, settings, filepath.Join(home, "proj"), home)
		p.PlanLauncherCaches("k")
		var got []string
		for _, m := range p.Mounts() {
			rel, _ := filepath.Rel(home, m.Path)
			if rel != "." && !strings.HasPrefix(rel, ".npm") && !strings.HasPrefix(rel, ".cache/srt-mcp") && !strings.HasPrefix(rel, "proj") {
				continue // persistence points and credential stores: tested elsewhere
			}
			s := rel + " " + m.Access.String()
			if m.Source != "" {
				src, _ := filepath.Rel(home, m.Source)
				s += " from " + src
			}
			got = append(got, s)
		}
		return got
	}
	// Under a writable home, the mandatory walk finds .npm/_npx/a/.git/hooks
	// on the host; inside the private copy it means nothing.
	if diff := cmp.Diff([]string{
		". read-write",
		".npm read-write from .cache/srt-mcp/launchers/k/npm",
		".cache/srt-mcp/launchers hidden",
		".cache/srt-mcp/launchers/k/npm read-write from .cache/srt-mcp/launchers/k/npm",
	}, mounts(`{"filesystem": {"allowWrite": ["~"]}}`)); diff != "" {
		t.Errorf("writable home (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{
		".npm read-write from .cache/srt-mcp/launchers/k/npm",
		"proj read-write",
		".cache/srt-mcp/launchers hidden",
		".cache/srt-mcp/launchers/k/npm read-write from .cache/srt-mcp/launchers/k/npm",
	}, mounts(`{"filesystem": {"allowWrite": [".", "~/.npm"]}}`)); diff != "" {
		t.Errorf("npx profile (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{
		".cache/srt-mcp/launchers hidden",
	}, mounts(`{"filesystem": {"allowWrite": ["~/.npm"], "denyWrite": ["~/.npm"]}}`)); diff != "" {
		t.Errorf("denyWrite on the cache (-want +got):\n%s", diff)
	}
	p := resolve(t, `{"filesystem": {"allowWrite": ["~/.npm"]}}`, filepath.Join(home, "proj"), home)
	p.PlanLauncherCaches("k")
	args := strings.Join(bwrapArgs(p, p.Mounts(), func() int { return 9 }), " ")
	if want := "--bind " + filepath.Join(home, ".cache/srt-mcp/launchers/k/npm") + " " + filepath.Join(home, ".npm"); !strings.Contains(args, want) {
		t.Errorf("bwrap arguments lack %q:\n%s", want, args)
	}
	// The hidden root lets this server reach its own copy, and no more.
	if want := "--perms 0711 --tmpfs " + filepath.Join(home, ".cache/srt-mcp/launchers"); !strings.Contains(args, want) {
		t.Errorf("bwrap arguments lack %q:\n%s", want, args)
	}
	if strings.Contains(args, "--bind "+filepath.Join(home, ".npm")) {
		t.Errorf("bwrap binds the real ~/.npm writable:\n%s", args)
	}
}

func TestPrepareLauncherCaches(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", "")
	t.Setenv("npm_config_cache", "")
	root := testbin.HostTempDir(t)
	home := filepath.Join(root, "home")
	tree(t, root, "home/proj/")
	// A fresh machine: no ~/.npm.
	p := resolve(t, `{"filesystem": {"allowWrite": ["~/.npm"]}}`, filepath.Join(home, "proj"), home)
	p.PlanLauncherCaches("k")
	fresh, err := p.PrepareLauncherCaches()
	if err != nil {
		t.Fatal(err)
	}
	if len(fresh) != 1 {
		t.Fatalf("first run: %d private caches created, want 1", len(fresh))
	}
	private := filepath.Join(home, ".cache/srt-mcp/launchers/k/npm")
	st, err := os.Stat(private)
	if err != nil || !st.IsDir() {
		t.Fatalf("%s was not created: %v", private, err)
	}
	if st.Mode().Perm() != 0o700 {
		t.Errorf("%s has mode %v, want 0700", private, st.Mode().Perm())
	}
	if _, err := os.Lstat(filepath.Join(home, ".npm")); err == nil {
		t.Error("the real ~/.npm was created")
	}
	if diff := cmp.Diff([]string{"npm_config_cache=" + private}, p.LauncherEnv()); diff != "" {
		t.Errorf("environment (-want +got):\n%s", diff)
	}
	if fresh, err = p.PrepareLauncherCaches(); err != nil || len(fresh) != 0 {
		t.Errorf("second run: created %v, %v; want nothing new", fresh, err)
	}

	// A symlink planted where the private caches live (by a server that
	// could write ~/.cache before srt-mcp first ran) is refused.
	victim := filepath.Join(root, "victim")
	tree(t, root, "victim/")
	os.RemoveAll(filepath.Join(home, ".cache/srt-mcp/launchers/k"))
	if err := os.Symlink(victim, filepath.Join(home, ".cache/srt-mcp/launchers/k")); err != nil {
		t.Fatal(err)
	}
	if _, err := p.PrepareLauncherCaches(); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("planted symlink: err = %v, want a refusal", err)
	}
	if _, err := os.Stat(filepath.Join(victim, "npm")); err == nil {
		t.Error("the private cache was created through the planted symlink")
	}
}

func TestParseSharedLauncherCaches(t *testing.T) {
	s, err := ParseSettings("s.json", []byte(`{"srtMcp": {"sharedLauncherCaches": true}}`))
	if err != nil || !s.SrtMCP.SharedLauncherCaches {
		t.Fatalf("got %+v, %v", s, err)
	}
	if _, err := ParseSettings("s.json", []byte(`{"srtMcp": {"sharedLauncherCaches": "yes"}}`)); err == nil || !strings.Contains(err.Error(), "srtMcp.sharedLauncherCaches") {
		t.Errorf("a string value: err = %v", err)
	}
	if _, err := ParseSettings("s.json", []byte(`{"srtMcp": {"sharedLauncherCache": true}}`)); err == nil || !strings.Contains(err.Error(), "sharedLauncherCaches") {
		t.Errorf("a misspelt key: err = %v", err)
	}
	base, _ := ParseSettings("p", []byte(`{"srtMcp": {"sharedLauncherCaches": true}}`))
	over, _ := ParseSettings("f", []byte(`{"srtMcp": {"sharedLauncherCaches": false}}`))
	if Layer(base, over).SrtMCP.SharedLauncherCaches {
		t.Error("a file's false does not override the profile's true")
	}
}

// TestPrivateCacheUnderLinkedCacheHome: ~/.cache links elsewhere; the
// hidden root and the private copy are planned at the real path, so the
// copy is bound inside the hidden root (which stays traversable for it).
func TestPrivateCacheUnderLinkedCacheHome(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", "")
	root := testbin.HostTempDir(t)
	home := filepath.Join(root, "home")
	tree(t, root, "home/proj/", "home/.npm/", "elsewhere/cache/")
	if err := os.Symlink(filepath.Join(root, "elsewhere/cache"), filepath.Join(home, ".cache")); err != nil {
		t.Fatal(err)
	}
	p := resolve(t, `{"filesystem": {"allowWrite": ["~/.npm"]}}`, filepath.Join(home, "proj"), home)
	p.PlanLauncherCaches("k")
	if _, err := p.PrepareLauncherCaches(); err != nil {
		t.Fatal(err)
	}
	hidden := filepath.Join(root, "elsewhere/cache/srt-mcp/launchers")
	private := filepath.Join(hidden, "k", "npm")
	if len(p.Private) != 1 || p.Private[0].Source != private {
		t.Fatalf("private %+v, want the copy at %s", p.Private, private)
	}
	args := strings.Join(bwrapArgs(p, p.Mounts(), func() int { return 9 }), " ")
	for _, want := range []string{"--perms 0711 --tmpfs " + hidden, "--bind " + private + " " + private, "--bind " + private + " " + filepath.Join(home, ".npm")} {
		if !strings.Contains(args, want) {
			t.Errorf("bwrap arguments lack %q:\n%s", want, args)
		}
	}
}

// TestLauncherCachesReadOnlyWithoutBindMounts: where a private copy cannot
// be bound (Seatbelt), a writable launcher cache becomes read-only.
func TestLauncherCachesReadOnlyWithoutBindMounts(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", "")
	defer func(v bool) { privateCachesSupported = v }(privateCachesSupported)
	privateCachesSupported = false
	root := testbin.HostTempDir(t)
	home := filepath.Join(root, "home")
	tree(t, root, "home/proj/", "home/.npm/")
	p := resolve(t, `{"filesystem": {"allowWrite": [".", "~/.npm"]}}`, filepath.Join(home, "proj"), home)
	p.PlanLauncherCaches("k")
	if len(p.Private) != 0 || !p.protected(filepath.Join(home, ".npm")) || containsPath(p.AllowWrite, filepath.Join(home, ".npm")) {
		t.Errorf("private %v, allowWrite %v: want ~/.npm protected and not writable", p.Private, p.AllowWrite)
	}
	if !strings.Contains(SeatbeltProfile(p, SeatbeltOptions{Tag: "t"}), "(deny file-write* (subpath \""+filepath.Join(home, ".npm")+"\")") {
		t.Error("the Seatbelt profile does not deny writes to ~/.npm")
	}
}

// TestLauncherCacheHoldingTheProgram: a server installed with uv tool
// install runs from ~/.local/share/uv/tools; a private copy of that cache
// would hide it, so the cache becomes read-only instead.
func TestLauncherCacheHoldingTheProgram(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", "")
	t.Setenv("XDG_DATA_HOME", "")
	root := testbin.HostTempDir(t)
	home := filepath.Join(root, "home")
	tree(t, root, "home/proj/", "home/.cache/uv/", "home/.local/share/uv/tools/mcp-server-git/bin/mcp-server-git")
	program := filepath.Join(home, ".local/share/uv/tools/mcp-server-git/bin/mcp-server-git")
	link := filepath.Join(root, "bin", "mcp-server-git")
	os.MkdirAll(filepath.Dir(link), 0o755)
	if err := os.Symlink(program, link); err != nil {
		t.Fatal(err)
	}
	for _, argv := range [][]string{{program}, {link, "--repository", "."}, {"/usr/bin/env", program}} {
		p := resolve(t, `{"filesystem": {"allowWrite": [".", "~/.cache/uv", "~/.local/share/uv"]}}`, filepath.Join(home, "proj"), home)
		p.PlanLauncherCaches("k", argv...)
		var private []string
		for _, c := range p.Private {
			private = append(private, c.Path)
		}
		if diff := cmp.Diff([]string{filepath.Join(home, ".cache/uv")}, private); diff != "" {
			t.Errorf("%q: private caches (-want +got):\n%s", argv, diff)
		}
		if !p.protected(filepath.Join(home, ".local/share/uv")) || containsPath(p.AllowWrite, filepath.Join(home, ".local/share/uv")) {
			t.Errorf("%q: the cache holding the program is not read-only (allowWrite %v)", argv, p.AllowWrite)
		}
	}
}
