//go:build unix

package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// npmServer installs an MCP server package from the npm registry into a
// per-user cache (reused across runs) and returns the path of its bin entry.
// Tests that need it are skipped, saying why, when npm or the registry is
// unreachable.
func npmServer(t testing.TB, pkg, bin string) string {
	t.Helper()
	if _, err := exec.LookPath("npm"); err != nil {
		t.Skip("npm is not installed: skipping the interop test with a real Node MCP server")
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		t.Skip(err)
	}
	prefix := filepath.Join(cache, "srt-mcp-npm")
	path := filepath.Join(prefix, "node_modules", ".bin", bin)
	if _, err := os.Stat(path); err == nil {
		return path
	}
	cmd := exec.Command("npm", "install", "--no-audit", "--no-fund", "--prefix", prefix, pkg)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("cannot install %s from the npm registry (unreachable?): %v\n%s", pkg, err, out)
	}
	return path
}

// TestRealNodeServer runs the reference filesystem MCP server (Node.js)
// under srt-mcp. The server itself is told it may use the whole home
// directory; the sandbox still keeps it out of ~/.ssh and makes everything
// outside the project read-only.
func TestRealNodeServer(t *testing.T) {
	server := npmServer(t, "@modelcontextprotocol/server-filesystem@2025.8.21", "mcp-server-filesystem")
	w := newWorld(t)
	c := connectServer(t, w, []string{server, w.home})
	tools, err := c.ListTools(ctxT(t), mcpListTools())
	if err != nil || len(tools.Tools) == 0 {
		t.Fatalf("tools/list: %v, %d tools", err, len(tools.Tools))
	}
	if got := mustSucceed(t, c, "read the project README", "read_text_file", map[string]any{"path": filepath.Join(w.project, "README.md")}); got != "hello" {
		t.Errorf("README = %q", got)
	}
	mustFail(t, c, "read ~/.ssh/id_rsa", "read_text_file", map[string]any{"path": filepath.Join(w.home, ".ssh/id_rsa")}, "EACCES")
	mustSucceed(t, c, "write in the project", "write_file", map[string]any{"path": filepath.Join(w.project, "from-node.txt"), "content": "ok"})
	mustFail(t, c, "write in home", "write_file", map[string]any{"path": filepath.Join(w.home, "evil.txt"), "content": "x"}, "EROFS")
	if _, err := os.Stat(filepath.Join(w.home, "evil.txt")); err == nil {
		t.Error("the server wrote outside the project")
	}
}

// TestNpxThroughTheProxy launches a server the way most MCP configs do,
// with npx -y, so npm itself has to fetch the package through srt-mcp's
// proxy: the registry is the only allowed domain, and the npm cache the
// only writable place besides the project.
func TestNpxThroughTheProxy(t *testing.T) {
	if _, err := exec.LookPath("npx"); err != nil {
		t.Skip("npx is not installed")
	}
	if out, err := exec.Command("npm", "view", "@modelcontextprotocol/server-memory", "version").CombinedOutput(); err != nil {
		t.Skipf("the npm registry is unreachable from this machine: %v\n%s", err, out)
	}
	w := newWorld(t)
	if err := os.MkdirAll(filepath.Join(w.home, ".npm"), 0o755); err != nil {
		t.Fatal(err)
	}
	s := w.settings(t, `{"network": {"allowedDomains": ["registry.npmjs.org"]}, "filesystem": {"allowWrite": [".", "~/.npm"]}}`)
	c, info := start(t, w, []string{"npx", "-y", "@modelcontextprotocol/server-memory@2025.9.25"}, "--settings", s)
	if info.Name != "memory-server" {
		t.Errorf("server %q, want memory-server", info.Name)
	}
	tools, err := c.ListTools(ctxT(t), mcpListTools())
	if err != nil || len(tools.Tools) == 0 {
		t.Fatalf("tools/list: %v", err)
	}
}
