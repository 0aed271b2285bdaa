package clientconfig

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/srt-mcp/srt-mcp/sandbox"
	"github.com/tailscale/hujson"
)

// fixtures are real-world shaped configs of every supported client, with
// the comments, trailing commas and unrelated keys that --fix must keep.
var fixtures = map[string]string{
	".mcp.json": `{
  "mcpServers": {
    "github": {
      "command": "npx",
      "args": ["-y", "@modelcontextprotocol/server-github"],
      "env": {"GITHUB_TOKEN": "${GITHUB_TOKEN}"}
    },
    "wrapped": {"command": "srt-mcp", "args": ["--settings", "ok.json", "--", "mcp-server-memory"]},
    "weak": {"command": "srt-mcp", "args": ["--settings", "weak.json", "--", "mcp-server-memory"]},
    "broken": {"command": "srt-mcp", "args": ["--settings", "missing.json", "--", "x"]},
    "typo": {"command": "srt-mcp", "args": ["--settings", "typo.json", "--", "x"]},
    "learning": {"command": "srt-mcp", "args": ["--learn", "--", "x"]},
    "srt": {"command": "srt", "args": ["--settings", "ok.json", "mcp-server-git"]},
    "remote": {"type": "http", "url": "https://mcp.example.com/mcp"}
  }
}
`,
	".claude.json": `{
  "numStartups": 12,
  "mcpServers": {"memory": {"type": "stdio", "command": "mcp-server-memory", "args": [], "env": {}}},
  "projects": {
    "/home/me/proj": {
      "allowedTools": [],
      "mcpServers": {"fs": {"command": "node", "args": ["/opt/fs/index.js", "/home/me/proj"], "cwd": "/home/me/proj"}}
    }
  }
}
`,
	"claude_desktop_config.json": `{"mcpServers": {"sqlite": {"command": "uvx", "args": ["mcp-server-sqlite", "--db-path", "/tmp/t.db"]}}, "globalShortcut": "Ctrl+Space"}`,
	"cursor-mcp.json":            `{"mcpServers": {"brave": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-brave-search"], "env": {"BRAVE_API_KEY": "k"}}}}`,
	"vscode-mcp.json": `{
  // VS Code: JSON with comments, key "servers"
  "inputs": [{"type": "promptString", "id": "token", "password": true}],
  "servers": {
    /* the GitHub server */
    "github": {
      "type": "stdio",
      "command": "github-mcp-server",
      "args": ["stdio", "--read-only"], // trailing comma next
    },
    "remote": {"type": "sse", "url": "https://x.example/sse"},
  },
}
`,
	"mcp_config.json": `{"mcpServers": {"fetch": {"command": "uvx", "args": ["mcp-server-fetch"]}, "cloud": {"serverUrl": "https://mcp.example/sse"}}}`,
	"gemini-settings.json": `{
  "theme": "Default",
  "mcpServers": {
    "everything": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-everything"], "cwd": "./work", "timeout": 30000},
    "api": {"httpUrl": "https://api.example/mcp"}
  }
}
`,
	"zed-settings.json": `// Zed settings
{
  "theme": "One Dark",
  "context_servers": {
    // old form: command object
    "postgres": {"command": {"path": "npx", "args": ["-y", "@modelcontextprotocol/server-postgres", "postgresql://localhost/db"], "env": {}}, "settings": {}},
    // new form
    "git": {"source": "custom", "command": "uvx", "args": ["mcp-server-git"]},
  },
}
`,
	"config.toml": `# Codex configuration
model = "o4-mini"

[mcp_servers.github]
# the github server
command = "npx"
args = [
  "-y",
  "@modelcontextprotocol/server-github",
]
env = { "GITHUB_TOKEN" = "t" }

[mcp_servers."my server"]
command = "/usr/local/bin/my-server"

[profiles.fast]
model = "gpt-4.1"
`,
}

func writeFixtures(t *testing.T) (dir, home string) {
	t.Helper()
	dir = t.TempDir()
	home = filepath.Join(dir, "home")
	os.MkdirAll(home, 0o755)
	for name, content := range fixtures {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for name, content := range map[string]string{
		"ok.json":   `{"filesystem": {"allowWrite": ["."]}}`,
		"weak.json": `{"enableWeakerNestedSandbox": true, "filesystem": {"allowWrite": ["~"]}}`,
		"typo.json": `{"filesystem": {"alowWrite": ["."]}}`,
	} {
		os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644)
	}
	return dir, home
}

func loadAll(t *testing.T, dir, home string) map[string]string {
	t.Helper()
	got := map[string]string{}
	for name := range fixtures {
		f, err := Load(filepath.Join(dir, name), "")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, s := range f.Servers {
			classify(s, home)
			got[name+" "+s.Name] = s.Client + " " + s.Status
		}
	}
	return got
}

func TestClassifyEveryFormat(t *testing.T) {
	dir, home := writeFixtures(t)
	want := map[string]string{
		".mcp.json github":                  "Claude Code unsandboxed",
		".mcp.json wrapped":                 "Claude Code sandboxed",
		".mcp.json weak":                    "Claude Code weak",
		".mcp.json broken":                  "Claude Code broken",
		".mcp.json typo":                    "Claude Code broken",
		".mcp.json learning":                "Claude Code weak",
		".mcp.json srt":                     "Claude Code sandboxed",
		".mcp.json remote":                  "Claude Code remote",
		".claude.json memory":               "Claude Code unsandboxed",
		".claude.json fs":                   "Claude Code unsandboxed",
		"claude_desktop_config.json sqlite": "Claude Desktop unsandboxed",
		"cursor-mcp.json brave":             "MCP client unsandboxed",
		"vscode-mcp.json github":            "VS Code unsandboxed",
		"vscode-mcp.json remote":            "VS Code remote",
		"mcp_config.json fetch":             "Windsurf unsandboxed",
		"mcp_config.json cloud":             "Windsurf remote",
		"gemini-settings.json everything":   "MCP client unsandboxed",
		"gemini-settings.json api":          "MCP client remote",
		"zed-settings.json postgres":        "Zed unsandboxed",
		"zed-settings.json git":             "Zed unsandboxed",
		"config.toml github":                "Codex unsandboxed",
		"config.toml my server":             "Codex unsandboxed",
	}
	if diff := cmp.Diff(want, loadAll(t, dir, home)); diff != "" {
		t.Errorf("classification (-want +got):\n%s", diff)
	}
	// The details say why.
	f, _ := Load(filepath.Join(dir, ".mcp.json"), "")
	for _, s := range f.Servers {
		classify(s, home)
		switch s.Name {
		case "typo":
			if !strings.Contains(s.Detail, `filesystem.alowWrite: unknown key (did you mean "allowWrite"?)`) {
				t.Errorf("typo detail: %s", s.Detail)
			}
		case "weak":
			if !strings.Contains(s.Detail, "enableWeakerNestedSandbox") || !strings.Contains(s.Detail, `allowWrite "~"`) {
				t.Errorf("weak detail: %s", s.Detail)
			}
		case "github":
			if s.Detail != "npx -y @modelcontextprotocol/server-github" {
				t.Errorf("github detail: %s", s.Detail)
			}
		}
	}
}

func TestRewriteKeepsEverythingElse(t *testing.T) {
	dir, home := writeFixtures(t)
	for name := range fixtures {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name)
			f, err := Load(path, "")
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range f.Servers {
				classify(s, home)
			}
			out, fixed, err := f.rewrite("srt-mcp", func(*Server) string { return "" })
			if err != nil {
				t.Fatal(err)
			}
			if len(fixed) == 0 {
				t.Fatal("nothing rewritten")
			}
			// Comments survive.
			for _, line := range strings.Split(string(f.Data), "\n") {
				if c := commentOf(line); c != "" && !strings.Contains(string(out), c) {
					t.Errorf("comment %q lost", c)
				}
			}
			g, err := parse(path, f.Client, out)
			if err != nil {
				t.Fatalf("rewritten file does not parse: %v\n%s", err, out)
			}
			for i, s := range g.Servers {
				classify(s, home)
				before := f.Servers[i]
				switch {
				case before.Status == Unsandboxed:
					if s.Status != Sandboxed || s.Command != "srt-mcp" || !strings.HasSuffix(strings.Join(s.Args, " "), "-- "+before.Command+" "+strings.Join(before.Args, " ")) && len(before.Args) > 0 {
						t.Errorf("%s not wrapped: %s %v (%s)", s.Name, s.Command, s.Args, s.Status)
					}
					if s.Cwd != before.Cwd {
						t.Errorf("%s: cwd %q became %q", s.Name, before.Cwd, s.Cwd)
					}
				default:
					if s.Command != before.Command || s.Status != before.Status {
						t.Errorf("%s changed: %s %s -> %s %s", s.Name, before.Command, before.Status, s.Command, s.Status)
					}
				}
			}
			if f.Format == "json" {
				// Unrelated keys (env, inputs, theme, ...) are untouched.
				if diff := cmp.Diff(withoutCommands(t, f.Data), withoutCommands(t, out)); diff != "" {
					t.Errorf("other content changed (-before +after):\n%s", diff)
				}
			} else if !strings.Contains(string(out), `env = { "GITHUB_TOKEN" = "t" }`) || !strings.Contains(string(out), "[profiles.fast]") {
				t.Errorf("TOML lost content:\n%s", out)
			}
			// Running it again changes nothing.
			g.Data = out
			again, fixedAgain, err := g.rewrite("srt-mcp", func(*Server) string { return "" })
			if err != nil || len(fixedAgain) != 0 || string(again) != string(out) {
				t.Errorf("second rewrite changed %d entries (%v)", len(fixedAgain), err)
			}
		})
	}
}

func commentOf(line string) string {
	for _, m := range []string{"//", "/*", "#"} {
		if i := strings.Index(line, m); i >= 0 && !strings.Contains(line[:i], `"`) {
			return strings.TrimSpace(line[i:])
		}
	}
	return ""
}

// withoutCommands returns the standardised JSON with every server's command
// and args removed, for comparing everything else.
func withoutCommands(t *testing.T, data []byte) any {
	std, err := hujson.Standardize(append([]byte(nil), data...))
	if err != nil {
		t.Fatal(err)
	}
	var v any
	json.Unmarshal(std, &v)
	var strip func(any)
	strip = func(x any) {
		switch m := x.(type) {
		case map[string]any:
			if _, ok := m["command"]; ok {
				delete(m, "command")
				delete(m, "args")
			}
			for _, c := range m {
				strip(c)
			}
		case []any:
			for _, c := range m {
				strip(c)
			}
		}
	}
	strip(v)
	return v
}

func TestRewriteRefusesUnparseableAndOddTOML(t *testing.T) {
	if _, err := parse("x.json", "", []byte(`{"mcpServers": {`)); err == nil {
		t.Error("parsed a broken JSON file")
	}
	f, err := parse("c.toml", "Codex", []byte("mcp_servers.gh = { command = \"npx\", args = [\"-y\", \"x\"] }\n"))
	if err != nil {
		t.Fatal(err)
	}
	classify(f.Servers[0], "/home/me")
	if _, _, err := f.rewrite("srt-mcp", func(*Server) string { return "" }); err == nil || !strings.Contains(err.Error(), "only that form is rewritten") {
		t.Errorf("inline-table TOML: %v", err)
	}
}

func TestWriteAtomicKeepsBackup(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mcp.json")
	os.WriteFile(path, []byte("old"), 0o640)
	backup, err := writeAtomic(path, []byte("old"), []byte("new"))
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(backup); string(b) != "old" {
		t.Errorf("backup holds %q", b)
	}
	if b, _ := os.ReadFile(path); string(b) != "new" {
		t.Errorf("file holds %q", b)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want 0640 kept", st.Mode().Perm())
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 2 {
		t.Errorf("left %d files behind", len(entries))
	}
}

func TestDiff(t *testing.T) {
	d := unifiedDiff("f", []byte("a\nb\nc\nd\n"), []byte("a\nB\nc\nd\n"))
	want := "--- f\n+++ f\n@@ -1,4 +1,4 @@\n a\n-b\n+B\n c\n d\n"
	if d != want {
		t.Errorf("diff:\n%s\nwant:\n%s", d, want)
	}
}

// TestDiffApplies: the dry run's diff is one patch(1) applies to the file,
// giving what --fix would write.
func TestDiffApplies(t *testing.T) {
	if _, err := exec.LookPath("patch"); err != nil {
		t.Skip("no patch(1)")
	}
	long := strings.Repeat("line\n", 20)
	for _, tc := range []struct{ name, a, b string }{
		{"one line, no newline", `{"mcpServers": {"x": {"command": "npx"}}}`, `{"mcpServers": {"x": {"command": "srt-mcp", "args": ["--", "npx"]}}}`},
		{"change in the middle", long + "a\nb\n" + long, long + "a\nB\nC\n" + long},
		{"two hunks", "x\n" + long + "y\n", "X\n" + long + "Y\n"},
		{"insert at the start", "a\nb\n", "new\na\nb\n"},
		{"newline added", "a\nb", "a\nb\n"},
		{"newline removed", "a\nb\n", "a\nc"},
	} {
		dir := t.TempDir()
		file := filepath.Join(dir, "mcp.json")
		if err := os.WriteFile(file, []byte(tc.a), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("patch", "--batch", "--quiet", "mcp.json")
		cmd.Dir = dir
		cmd.Stdin = strings.NewReader(unifiedDiff("mcp.json", []byte(tc.a), []byte(tc.b)))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("%s: patch: %v\n%s\n%s", tc.name, err, out, unifiedDiff("mcp.json", []byte(tc.a), []byte(tc.b)))
			continue
		}
		if got, _ := os.ReadFile(file); string(got) != tc.b {
			t.Errorf("%s: patched file is %q, want %q", tc.name, got, tc.b)
		}
	}
}

// TestLocationsAreProtected keeps verify's list and the sandbox's list in
// step: every client config verify knows is protected from writes (and,
// per user, hidden) inside the sandbox.
func TestLocationsAreProtected(t *testing.T) {
	home, cwd := "/home/me", "/home/me/project"
	t.Setenv("CODEX_HOME", "/home/me/codex")
	known := map[string]bool{}
	for _, f := range sandbox.ClientConfigFiles(home) {
		known[f] = true
	}
	for _, f := range sandbox.ProjectClientConfigFiles(cwd) {
		known[f] = true
	}
	for _, c := range Locations(home, cwd, "") {
		if !known[c.Path] {
			t.Errorf("%s config %s is not in sandbox.ClientConfigFiles or ProjectClientConfigFiles", c.Client, c.Path)
		}
	}
}
