//go:build unix

package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestProfilesRunTheirServers runs each npm-installable reference server
// under its built-in profile, launched the usual way (npx -y), through
// srt-mcp with a real client: initialize and tools/list must work with
// nothing but what the profile allows. The uvx-based profiles (git, fetch,
// sqlite) need uv and the Python package index, which this test does not
// assume.
func TestProfilesRunTheirServers(t *testing.T) {
	if testing.Short() {
		t.Skip("downloads servers from the npm registry")
	}
	if _, err := exec.LookPath("npx"); err != nil {
		t.Skip("npx is not installed")
	}
	if out, err := exec.Command("npm", "view", "@modelcontextprotocol/server-everything", "version").CombinedOutput(); err != nil {
		t.Skipf("the npm registry is unreachable from this machine: %v\n%s", err, out)
	}
	cases := []struct {
		profile string
		server  []string
		env     []string
	}{
		{"filesystem", []string{"npx", "-y", "@modelcontextprotocol/server-filesystem@2026.8.31", "."}, nil},
		{"memory", []string{"npx", "-y", "@modelcontextprotocol/server-memory@2026.8.31"}, nil},
		{"everything", []string{"npx", "-y", "@modelcontextprotocol/server-everything@2026.8.31"}, nil},
		{"github", []string{"npx", "-y", "@modelcontextprotocol/server-github@2025.4.8"}, []string{"GITHUB_PERSONAL_ACCESS_TOKEN=test-token"}},
		{"brave-search", []string{"npx", "-y", "@modelcontextprotocol/server-brave-search@0.6.2"}, []string{"BRAVE_API_KEY=test-key"}},
		{"slack", []string{"npx", "-y", "@modelcontextprotocol/server-slack@2025.4.25"}, []string{"SLACK_BOT_TOKEN=xoxb-test", "SLACK_TEAM_ID=T0"}},
		{"postgres", []string{"npx", "-y", "@modelcontextprotocol/server-postgres@0.6.2", "postgresql://localhost/db"}, nil},
		{"playwright", []string{"npx", "-y", "@playwright/mcp@0.0.83"}, nil},
		// The browser download needs a host this machine cannot reach; the
		// server lists its tools without a browser.
		{"puppeteer", []string{"npx", "-y", "@modelcontextprotocol/server-puppeteer@2025.5.12"}, []string{"PUPPETEER_SKIP_DOWNLOAD=1"}},
	}
	for _, tc := range cases {
		t.Run(tc.profile, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			if err := os.MkdirAll(filepath.Join(w.home, ".npm"), 0o755); err != nil {
				t.Fatal(err)
			}
			for _, kv := range tc.env {
				w.extraEnv = append(w.extraEnv, kv)
			}
			c, info := start(t, w, tc.server, "--profile", tc.profile)
			tools, err := c.ListTools(ctxT(t), mcpListTools())
			if err != nil || len(tools.Tools) == 0 {
				t.Fatalf("%s: tools/list: %v", info.Name, err)
			}
			t.Logf("%s under --profile %s: %d tools", info.Name, tc.profile, len(tools.Tools))
		})
	}
}
