package sandbox

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

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
