//go:build unix

package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestNpxPrivateCacheFirstRunAndReuse: on a fresh machine (no ~/.npm), a
// server launched with npx -y under its profile starts, its packages land
// in its private cache (npm_config_cache points there) and no ~/.npm is
// created, and its second start runs from that cache with npm offline (no
// download).
func TestNpxPrivateCacheFirstRunAndReuse(t *testing.T) {
	if testing.Short() {
		t.Skip("downloads a server from the npm registry")
	}
	if _, err := exec.LookPath("npx"); err != nil {
		t.Skip("npx is not installed")
	}
	if out, err := exec.Command("npm", "view", "@modelcontextprotocol/server-memory", "version").CombinedOutput(); err != nil {
		t.Skipf("the npm registry is unreachable from this machine: %v\n%s", err, out)
	}
	w := newWorld(t)
	w.extraEnv = append(w.extraEnv, "XDG_CACHE_HOME="+filepath.Join(w.home, ".cache"), "npm_config_update_notifier=false")
	server := []string{"npx", "-y", "@modelcontextprotocol/server-memory@2025.9.25"}
	c, info := start(t, w, server, "--profile", "memory")
	if _, err := c.ListTools(ctxT(t), mcpListTools()); err != nil {
		t.Fatalf("%s: tools/list: %v", info.Name, err)
	}
	c.Close()

	installed, _ := filepath.Glob(filepath.Join(w.home, ".cache/srt-mcp/launchers/*/npm/_npx/*/node_modules/@modelcontextprotocol/server-memory/package.json"))
	if len(installed) != 1 {
		t.Fatalf("the server is not installed in one private npm cache: %v", installed)
	}
	if _, err := os.Lstat(filepath.Join(w.home, ".npm")); err == nil {
		t.Error("the real ~/.npm was created")
	}

	// The same server again, with npm told not to touch the network: it
	// starts only if its private cache was kept.
	w.extraEnv = append(w.extraEnv, "npm_config_offline=true")
	c, info = start(t, w, server, "--profile", "memory")
	if _, err := c.ListTools(ctxT(t), mcpListTools()); err != nil {
		t.Fatalf("second start, offline: %s: tools/list: %v", info.Name, err)
	}
}
