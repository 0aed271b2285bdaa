package sandbox

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestImplicitWriteRefusal(t *testing.T) {
	home := "/home/me"
	for _, tc := range []struct {
		path    string
		refused bool
	}{
		{"/", true},
		{"/home/me", true},
		{"/home", true}, // contains the home
		{"/usr", true},
		{"/usr/local/lib", true},
		{"/etc", true},
		{"/etc/cron.d", true},
		{"/var", true},
		{"/var/spool/cron", true},
		{"/var/lib/docker", true},
		{"/opt", true},
		{"/srv", true},
		{"/root", true},
		{"/boot", true},
		{"/bin", true},
		{"/tmp", true},
		{"/var/tmp", true},
		{"/dev/shm", true},
		{"/proc/self", true},
		{"/home/me/project", false},
		{"/home/me/.config", false}, // its persistence points stay protected
		{"/home/other/project", false},
		{"/opt/app", false},
		{"/srv/site", false},
		{"/var/tmp/build", false},
		{"/tmp/scratch", false},
		{"/work/repo", false},
		{"/var/lib/jenkins", true},                // a service account's home
		{"/var/lib/jenkins/workspace/app", false}, // inside it: a project
		{"/var/lib/other", true},
	} {
		got := implicitWriteRefusal(tc.path, home, "/var/lib/jenkins") != ""
		if got != tc.refused {
			t.Errorf("implicitWriteRefusal(%q) refused=%v, want %v", tc.path, got, tc.refused)
		}
	}
}

// TestWorkingDirectoryRule: a relative allowWrite entry never makes /, the
// home, an ancestor of it or a system directory writable; the same
// directory written out in the settings does.
func TestWorkingDirectoryRule(t *testing.T) {
	root, _ := filepath.EvalSymlinks(t.TempDir())
	home := filepath.Join(root, "home")
	tree(t, root, "home/project/sub/")
	for _, tc := range []struct {
		name, settings, cwd string
		want                []string
		hint                bool
	}{
		{"default in /", `{}`, "/", nil, true},
		{"profile . in /", `{"filesystem": {"allowWrite": ["."]}}`, "/", nil, true},
		{"default in ~", `{}`, home, nil, true},
		{"default in the home's parent", `{}`, root, nil, true},
		{".. from the project to ~", `{"filesystem": {"allowWrite": [".."]}}`, filepath.Join(home, "project"), nil, true},
		{"default in /etc", `{}`, "/etc", nil, true},
		{"default in /usr/lib", `{}`, "/usr/lib", nil, true},
		{"relative glob from ~", `{"filesystem": {"allowWrite": ["*"]}}`, home, nil, true},
		{"default in the project", `{}`, filepath.Join(home, "project"), []string{filepath.Join(home, "project")}, false},
		{"relative subdirectory", `{"filesystem": {"allowWrite": ["sub"]}}`, filepath.Join(home, "project"), []string{filepath.Join(home, "project", "sub")}, false},
		{"~ written out", `{"filesystem": {"allowWrite": ["~"]}}`, "/", []string{home}, false},
		{"/ written out", `{"filesystem": {"allowWrite": ["/"]}}`, "/", []string{"/"}, false},
		{"absolute home written out", `{"filesystem": {"allowWrite": ["` + home + `"]}}`, home, []string{home}, false},
		{"refused . and a named dir", `{"filesystem": {"allowWrite": [".", "~/project"]}}`, "/", []string{filepath.Join(home, "project")}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := resolve(t, tc.settings, tc.cwd, home)
			if strings.Join(p.AllowWrite, ",") != strings.Join(tc.want, ",") {
				t.Errorf("allowWrite = %q, want %q", p.AllowWrite, tc.want)
			}
			var hints int
			for _, n := range p.Notices {
				if strings.Contains(n, "not made writable") {
					hints++
					if strings.Contains(n, "\n") {
						t.Errorf("hint spans lines: %q", n)
					}
				}
			}
			if want := map[bool]int{true: 1, false: 0}[tc.hint]; hints != want {
				t.Errorf("%d hints, want %d: %q", hints, want, p.Notices)
			}
		})
	}
}

func TestProtectedPaths(t *testing.T) {
	root, _ := filepath.EvalSymlinks(t.TempDir())
	home := filepath.Join(root, "home")
	cwd := filepath.Join(home, "project")
	t.Setenv("XDG_STATE_HOME", "")
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(root, "xdg-config"))
	t.Setenv("PATH", filepath.Join(home, "go", "bin")+":/usr/bin")
	tree(t, root, "home/project/srt.json", "home/.bashrc", "home/.local/bin/tool", "home/.claude.json",
		"home/.config/git/config", "home/.local/state/srt-mcp/pins/x.json", "settings-target.json")
	link := filepath.Join(home, "linked.json")
	if err := os.Symlink(filepath.Join(root, "settings-target.json"), link); err != nil {
		t.Fatal(err)
	}
	s, err := ParseSettings("test", []byte(`{"filesystem": {"allowWrite": ["~", "~/.local/state/srt-mcp/traces", "~/.local/bin"]}}`))
	if err != nil {
		t.Fatal(err)
	}
	s.files = []string{filepath.Join(cwd, "srt.json"), link}
	p, err := Resolve(s, "test", cwd, home)
	if err != nil {
		t.Fatal(err)
	}
	rules := map[string]string{}
	for _, pp := range p.Protected {
		rules[pp.Path] = pp.Rule
	}
	for path, why := range map[string]string{
		filepath.Join(cwd, "srt.json"): "the --settings file in use",
		link:                           "a settings file named through a symlink (the link)",
		filepath.Join(root, "settings-target.json"):              "… and its target",
		filepath.Join(home, ".srt-settings.json"):                "srt's user settings, even when missing",
		filepath.Join(home, ".local/state/srt-mcp"):              "srt-mcp's state",
		filepath.Join(home, ".config/srt-mcp"):                   "srt-mcp's config dir",
		filepath.Join(root, "xdg-config/srt-mcp"):                "srt-mcp's XDG config dir",
		filepath.Join(home, ".claude.json"):                      "Claude Code's config",
		filepath.Join(home, ".cursor/mcp.json"):                  "Cursor's config",
		filepath.Join(cwd, ".mcp.json"):                          "the project's client config",
		filepath.Join(home, ".local/bin"):                        "a PATH directory",
		filepath.Join(home, "go/bin"):                            "a PATH directory under the home",
		filepath.Join(home, ".config/systemd"):                   "systemd user units",
		filepath.Join(home, ".config/fish"):                      "fish",
		filepath.Join(home, ".ssh/authorized_keys"):              "ssh logins",
		filepath.Join(home, ".config/git"):                       "git's user config",
		filepath.Join(home, ".config/environment.d"):             "session environment",
		filepath.Join(home, ".inputrc"):                          "readline",
		filepath.Join(home, ".config/autostart"):                 "desktop autostart",
		filepath.Join(home, ".codeium/windsurf/mcp_config.json"): "Windsurf's config",
	} {
		if _, ok := rules[path]; !ok {
			t.Errorf("%s (%s) is not protected", path, why)
		}
	}
	// allowWrite cannot re-open srt-mcp's own files or a persistence point.
	for _, w := range p.AllowWrite {
		if w != home {
			t.Errorf("allowWrite kept %s inside a protected path", w)
		}
	}
	// The mount plan makes the existing ones read-only inside the writable
	// home, and hides the client config and the state.
	access := map[string]Access{}
	for _, m := range p.Mounts() {
		access[m.Path] = m.Access
	}
	for path, want := range map[string]Access{
		home:                                        ReadWrite,
		filepath.Join(cwd, "srt.json"):              ReadOnly,
		filepath.Join(home, ".bashrc"):              ReadOnly,
		filepath.Join(home, ".local/bin"):           ReadOnly,
		filepath.Join(home, ".config/git"):          ReadOnly,
		filepath.Join(home, ".claude.json"):         Hidden,
		filepath.Join(home, ".local/state/srt-mcp"): Hidden,
	} {
		if got, ok := access[path]; !ok || got != want {
			t.Errorf("mount of %s = %v (present %v), want %v", path, got, ok, want)
		}
	}
	if _, ok := access[link]; ok {
		t.Errorf("the symlink itself got a mount; its target should")
	}
}

// TestClientConfigsReadDeniedUnlessReopened: allowRead re-opens a client
// config for reading, never for writing, even inside a writable root.
func TestClientConfigsReadDeniedUnlessReopened(t *testing.T) {
	root, _ := filepath.EvalSymlinks(t.TempDir())
	home := filepath.Join(root, "home")
	tree(t, root, "home/.claude.json", "home/project/")
	p := resolve(t, `{"filesystem": {"allowWrite": ["~"], "allowRead": ["~/.claude.json"]}}`, filepath.Join(home, "project"), home)
	for _, m := range p.Mounts() {
		if m.Path == filepath.Join(home, ".claude.json") && m.Access != ReadOnly {
			t.Errorf("re-opened client config is %v, want read-only", m.Access)
		}
	}
}

func TestSettingsFileNotices(t *testing.T) {
	root, _ := filepath.EvalSymlinks(t.TempDir())
	home := filepath.Join(root, "home")
	tree(t, root, "home/project/", "real.json")
	ww := filepath.Join(root, "real.json")
	os.Chmod(ww, 0o666)
	link := filepath.Join(root, "link.json")
	os.Symlink(ww, link)
	s, _ := ParseSettings("test", []byte(`{}`))
	s.files = []string{link}
	p, err := Resolve(s, "test", filepath.Join(home, "project"), home)
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Join(p.Notices, "\n")
	for _, want := range []string{"reached through a symlink", "world-writable"} {
		if !strings.Contains(all, want) {
			t.Errorf("no notice %q in %q", want, p.Notices)
		}
	}
}

// TestBwrapKeepsPrivateRootsUnderWritableRoot: with allowWrite ["/"], the
// writable bind of / comes before the fresh /dev, /proc and /tmp, so it
// cannot cover them with the host's.
func TestBwrapKeepsPrivateRootsUnderWritableRoot(t *testing.T) {
	p := &Policy{Cwd: "/", AllowWrite: []string{"/"}}
	args := strings.Join(bwrapArgs(p, p.Mounts(), func() int { return 9 }), " ")
	bind := strings.Index(args, "--bind / /")
	if bind < 0 {
		t.Fatalf("no writable bind of /: %s", args)
	}
	for _, m := range []string{"--dev /dev", "--proc /proc", "--tmpfs /tmp"} {
		if i := strings.Index(args, m); i < bind {
			t.Errorf("%s comes before the bind of / (or is missing): %s", m, args)
		}
	}
}

func TestDotDotAndGlobNotices(t *testing.T) {
	root, _ := filepath.EvalSymlinks(t.TempDir())
	home := filepath.Join(root, "home")
	tree(t, root, "home/project/a/", "home/project/b/", "home/other/")
	p := resolve(t, `{"filesystem": {"allowWrite": ["../other", "*"], "denyRead": ["../other/x"]}}`, filepath.Join(home, "project"), home)
	all := strings.Join(p.Notices, "\n")
	for _, want := range []string{
		`filesystem.allowWrite[0] "../other" contains ".."`,
		`filesystem.denyRead[0] "../other/x" contains ".."`,
		`filesystem.allowWrite[1] "*" is a glob`,
	} {
		if !strings.Contains(all, want) {
			t.Errorf("no notice %q in:\n%s", want, all)
		}
	}
}
