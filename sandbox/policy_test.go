package sandbox

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/srt-mcp/srt-mcp/internal/testbin"
)

// tree creates files (ending without /) and directories (ending with /)
// below root.
func tree(t *testing.T, root string, paths ...string) {
	t.Helper()
	for _, p := range paths {
		full := filepath.Join(root, p)
		if strings.HasSuffix(p, "/") {
			if err := os.MkdirAll(full, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func resolve(t *testing.T, settings, cwd, home string) *Policy {
	t.Helper()
	s, err := ParseSettings("test", []byte(settings))
	if err != nil {
		t.Fatal(err)
	}
	p, err := Resolve(s, "test", cwd, home)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestResolvePaths(t *testing.T) {
	root, _ := filepath.EvalSymlinks(t.TempDir())
	home := filepath.Join(root, "home")
	cwd := filepath.Join(home, "proj")
	tree(t, root, "home/proj/", "real-secrets/key", "home/data/")
	if err := os.Symlink(filepath.Join(root, "real-secrets"), filepath.Join(home, "secrets")); err != nil {
		t.Fatal(err)
	}
	p := resolve(t, `{"filesystem": {
		"allowWrite": [".", "~/data", "out"],
		"denyRead": ["~/secrets", "../elsewhere"],
		"denyWrite": ["~"]}}`, cwd, home)

	if diff := cmp.Diff([]string{cwd, filepath.Join(home, "data"), filepath.Join(cwd, "out")}, p.AllowWrite,
		cmpSorted); diff != "" {
		t.Errorf("allowWrite (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{home}, p.DenyWrite); diff != "" {
		t.Errorf("denyWrite (-want +got):\n%s", diff)
	}
	// The symlink is resolved: the rule lands on the real directory, so a
	// second name for it cannot be used to read it.
	for _, want := range []string{filepath.Join(root, "real-secrets"), filepath.Join(home, "elsewhere"), filepath.Join(home, ".ssh"), filepath.Join(home, ".aws")} {
		if !containsPath(p.DenyRead, want) {
			t.Errorf("denyRead lacks %s: %v", want, p.DenyRead)
		}
	}
	if !strings.Contains(strings.Join(p.Notices, "\n"), "secrets resolves to "+filepath.Join(root, "real-secrets")) {
		t.Errorf("no notice about the resolved symlink: %v", p.Notices)
	}
}

var cmpSorted = cmp.Transformer("sort", func(in []string) []string {
	out := append([]string(nil), in...)
	sortStrings(out)
	return out
})

func sortStrings(s []string) {
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
}

func containsPath(list []string, p string) bool {
	for _, e := range list {
		if e == p {
			return true
		}
	}
	return false
}

func TestResolveDefaultsWriteToWorkingDirectory(t *testing.T) {
	root, _ := filepath.EvalSymlinks(t.TempDir())
	// Not the home directory itself: "." never makes the home writable
	// (TestWorkingDirectoryRule).
	home, cwd := filepath.Join(root, "home"), filepath.Join(root, "proj")
	tree(t, root, "home/", "proj/")
	p := resolve(t, `{}`, cwd, home)
	if diff := cmp.Diff([]string{cwd}, p.AllowWrite); diff != "" {
		t.Errorf("allowWrite (-want +got):\n%s", diff)
	}
	if p.MandatoryDenySearchDepth != DefaultMandatoryDenySearchDepth {
		t.Errorf("depth %d", p.MandatoryDenySearchDepth)
	}
	// An explicit empty list means nothing is writable.
	p = resolve(t, `{"filesystem": {"allowWrite": []}}`, root, root)
	if len(p.AllowWrite) != 0 {
		t.Errorf("allowWrite %v, want none", p.AllowWrite)
	}
}

func TestResolveRejectsTildeUser(t *testing.T) {
	s, _ := ParseSettings("test", []byte(`{"filesystem": {"denyRead": ["~bob/.ssh"]}}`))
	_, err := Resolve(s, "test", t.TempDir(), "/home/x")
	if err == nil || !strings.Contains(err.Error(), "filesystem.denyRead[0]") {
		t.Fatalf("err = %v", err)
	}
}

func TestGlobExpansion(t *testing.T) {
	root, _ := filepath.EvalSymlinks(t.TempDir())
	tree(t, root, "a/.env", "a/b/.env", "a/b/c/.env", "a/b/keep", "x.pem", "y.pem")
	p := resolve(t, `{"filesystem": {"denyRead": ["**/.env", "*.pem"]}}`, root, "/nonexistent-home")
	for _, want := range []string{"a/.env", "a/b/.env", "a/b/c/.env", "x.pem", "y.pem"} {
		if !containsPath(p.DenyRead, filepath.Join(root, want)) {
			t.Errorf("denyRead lacks %s: %v", want, p.DenyRead)
		}
	}
	if containsPath(p.DenyRead, filepath.Join(root, "a/b/keep")) {
		t.Error("glob matched a/b/keep")
	}
}

func TestMandatoryDenyPaths(t *testing.T) {
	root, _ := filepath.EvalSymlinks(t.TempDir())
	tree(t, root,
		"proj/.git/hooks/", "proj/.git/config", "proj/.git/objects/", "proj/.git/commondir",
		"proj/.mcp.json", "proj/.vscode/", "proj/.claude/commands/", "proj/.claude/notes.md",
		"proj/sub/.bashrc", "proj/sub/deep/er/.gitconfig", "proj/src/main.go")
	got := MandatoryDenyPaths([]string{filepath.Join(root, "proj")}, false)
	var rel []string
	for _, g := range got {
		r, _ := filepath.Rel(root, g)
		rel = append(rel, r)
	}
	// Only direct entries of the root: deeper ones are the broker's job
	// (no directory walk at start-up).
	want := []string{"proj/.claude/commands", "proj/.git/commondir", "proj/.git/config", "proj/.git/hooks", "proj/.mcp.json", "proj/.vscode"}
	if diff := cmp.Diff(want, rel); diff != "" {
		t.Errorf("mandatory paths (-want +got):\n%s", diff)
	}
	got = MandatoryDenyPaths([]string{filepath.Join(root, "proj")}, true)
	if containsPath(got, filepath.Join(root, "proj/.git/config")) {
		t.Errorf("allowGitConfig: %v", got)
	}
	// A writable root that is itself protected stays read-only.
	got = MandatoryDenyPaths([]string{filepath.Join(root, "proj/.vscode")}, false)
	if diff := cmp.Diff([]string{filepath.Join(root, "proj/.vscode")}, got); diff != "" {
		t.Errorf("protected root (-want +got):\n%s", diff)
	}
}

func TestMountsDenyWins(t *testing.T) {
	root := testbin.HostTempDir(t)
	tree(t, root, "home/.ssh/id_rsa", "home/proj/.git/hooks/", "home/proj/.env", "home/proj/secret/inner/",
		"home/proj/ro/w/", "home/other/")
	home := filepath.Join(root, "home")
	p := resolve(t, `{"filesystem": {
		"allowWrite": ["~/proj", "~/.ssh", "~/proj/ro/w"],
		"denyWrite": ["~/proj/ro"],
		"denyRead": ["~/proj/.env", "~/proj/secret"],
		"allowRead": ["~/proj/secret/inner"]}}`, filepath.Join(home, "proj"), home)
	var got []string
	for _, m := range p.Mounts() {
		r, _ := filepath.Rel(root, m.Path)
		if strings.HasPrefix(r, "..") {
			continue // the account's real home (homes()), outside the test tree
		}
		got = append(got, r+" "+m.Access.String())
	}
	want := []string{
		"home/.ssh hidden", // allowWrite on a credential store loses
		"home/proj read-write",
		"home/proj/.env hidden",
		"home/proj/ro read-only", // and ro/w inside it stays read-only
		"home/proj/secret hidden",
		"home/proj/.git/hooks read-only",    // parents first: ordered by depth
		"home/proj/secret/inner read-write", // re-opened, and writable since inside ~/proj
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mounts (-want +got):\n%s", diff)
	}
}

func TestMountsUnderPrivateTmp(t *testing.T) {
	// Paths below /tmp are invisible (a private tmpfs) unless a writable
	// root brings them back, so only rules inside such a root matter.
	dir, err := os.MkdirTemp("/tmp", "srt-mcp-plan-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	dir, _ = filepath.EvalSymlinks(dir)
	tree(t, dir, "proj/.mcp.json", "other/secret")
	p := resolve(t, `{"filesystem": {"denyRead": ["../other/secret", ".mcp.json"]}}`, filepath.Join(dir, "proj"), "/nonexistent-home")
	var got []string
	for _, m := range p.Mounts() {
		r, _ := filepath.Rel(dir, m.Path)
		if strings.HasPrefix(r, "..") {
			continue // the account's real home (homes()), outside the test tree
		}
		got = append(got, r+" "+m.Access.String())
	}
	want := []string{"proj read-write", "proj/.mcp.json hidden"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mounts (-want +got):\n%s", diff)
	}
}

func TestIgnoreMatches(t *testing.T) {
	ignore := map[string][]string{"*": {"/usr/lib", "telemetry.example"}, "npx": {"/home/u/.npm/"}}
	for _, tc := range []struct {
		command, target string
		want            bool
	}{
		{"node server.js", "/usr/lib/x", true},
		{"node server.js", "/usr/lib", true},
		{"node server.js", "/usr/libexec/x", false},
		{"node server.js", "telemetry.example:443", true},
		{"node server.js", "telemetry.example.evil:443", false},
		{"npx -y pkg", "/home/u/.npm/_cacache/x", true},
		{"node server.js", "/home/u/.npm/_cacache/x", false},
	} {
		if got := IgnoreMatches(ignore, tc.command, tc.target); got != tc.want {
			t.Errorf("IgnoreMatches(%q, %q) = %v", tc.command, tc.target, got)
		}
	}
}

func TestMandatoryPathsFoundUnderABroadRoot(t *testing.T) {
	root := testbin.HostTempDir(t)
	tree(t, root, "a/b/c/proj/.git/hooks/", "a/b/c/proj/.mcp.json", "a/b/c/.bashrc")
	home := filepath.Join(root, "a/b/c")
	p := resolve(t, `{"filesystem": {"allowWrite": ["/"]}}`, filepath.Join(home, "proj"), home)
	var ro []string
	for _, m := range p.Mounts() {
		if m.Access == ReadOnly && under(m.Path, root) { // "/" finds the host's own too
			r, _ := filepath.Rel(root, m.Path)
			ro = append(ro, r)
		}
	}
	want := []string{"a/b/c/.bashrc", "a/b/c/proj/.mcp.json", "a/b/c/proj/.git/hooks"}
	if diff := cmp.Diff(want, ro); diff != "" {
		t.Errorf("read-only mounts with allowWrite / (-want +got):\n%s", diff)
	}
}

// TestPlantedSymlinkDoesNotChooseAllowWrite: a link inside the writable
// project (planted by an earlier run) must not decide what a later launch
// makes writable; a link outside any writable root is followed as before.
func TestPlantedSymlinkDoesNotChooseAllowWrite(t *testing.T) {
	root := t.TempDir()
	home := filepath.Join(root, "home")
	project := filepath.Join(home, "project")
	elsewhere := filepath.Join(root, "data")
	victim := filepath.Join(root, "victim") // e.g. another project of the user
	for _, d := range []string{project, elsewhere, victim} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(victim, filepath.Join(project, "cache")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(elsewhere, filepath.Join(root, "data-link")); err != nil {
		t.Fatal(err)
	}
	s, err := ParseSettings("s.json", []byte(`{"filesystem": {"allowWrite": [".", "./cache", "`+filepath.Join(root, "data-link")+`"]}}`))
	if err != nil {
		t.Fatal(err)
	}
	p, err := Resolve(s, "s.json", project, home)
	if err != nil {
		t.Fatal(err)
	}
	realProject, _ := filepath.EvalSymlinks(project)
	realVictim, _ := filepath.EvalSymlinks(victim)
	realElsewhere, _ := filepath.EvalSymlinks(elsewhere)
	if containsPath(p.AllowWrite, realVictim) {
		t.Errorf("allowWrite %v makes the link's target writable through the planted link", p.AllowWrite)
	}
	if !containsPath(p.AllowWrite, realProject) || !containsPath(p.AllowWrite, realElsewhere) {
		t.Errorf("allowWrite %v lost the project or the link outside writable roots", p.AllowWrite)
	}
	if !strings.Contains(strings.Join(p.Notices, "\n"), "could have planted it") {
		t.Errorf("no notice about the planted link: %q", p.Notices)
	}
}
