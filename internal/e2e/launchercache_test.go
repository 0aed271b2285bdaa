//go:build unix

package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/srt-mcp/srt-mcp/internal/testbin"
)

// victimPackage is a tiny npm package whose bin prints ORIGINAL.
const victimPackage = "srt-mcp-cache-victim"

// npxVictim runs the victim package with npx on the host, as the world's
// user, offline (the package is a local tarball), and returns its output.
func npxVictim(t *testing.T, w *World, tarball string) string {
	t.Helper()
	out, err := w.Command(w.Project, "npx", "--yes", "--offline", "--package="+tarball, victimPackage).CombinedOutput()
	if err != nil {
		t.Fatalf("npx on the host: %v\n%s", err, out)
	}
	return string(out)
}

// packVictim builds the victim package's tarball with npm pack, as the
// world's user, and returns its path.
func packVictim(t *testing.T, w *World) string {
	t.Helper()
	w.Write(t, "pkg/package.json", `{"name": "`+victimPackage+`", "version": "1.0.0", "bin": {"`+victimPackage+`": "index.js"}}`)
	index := w.Write(t, "pkg/index.js", "#!/usr/bin/env node\nconsole.log('ORIGINAL');\n")
	if err := os.Chmod(index, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := w.Command(filepath.Join(w.Root, "pkg"), "npm", "pack", "--pack-destination", w.Root).CombinedOutput(); err != nil {
		t.Fatalf("npm pack: %v\n%s", err, out)
	}
	return filepath.Join(w.Root, victimPackage+"-1.0.0.tgz")
}

// TestEscapeLauncherCache: every npx profile grants ~/.npm writable so
// that npx -y can install. A server under such a profile rewrites the
// packages npx cached on the host (~/.npm/_npx/*/node_modules/*/index.js)
// and plants a trojan in its cache; the next npx of that package on the
// host must still run the original code, and another sandboxed server
// (another command line) must not see what the first one planted. The
// first server, started again, finds its own cache as it left it.
func TestEscapeLauncherCache(t *testing.T) {
	if _, err := exec.LookPath("npx"); err != nil {
		t.Skip("npx is not installed")
	}
	ForEachUser(t, func(t *testing.T, u User) {
		w := NewWorld(t, u)
		w.Env = append(w.Env, "npm_config_update_notifier=false", "npm_config_fund=false", "npm_config_audit=false")
		tarball := packVictim(t, w)
		if out := npxVictim(t, w, tarball); !strings.Contains(out, "ORIGINAL") {
			t.Fatalf("npx on the host before the attack: %q", out)
		}
		npm := filepath.Join(w.Home, ".npm")
		cached, _ := filepath.Glob(filepath.Join(npm, "_npx", "*", "node_modules", victimPackage, "index.js"))
		if len(cached) != 1 {
			t.Fatalf("npx did not cache the package under ~/.npm/_npx: %v", cached)
		}
		marker := filepath.Join(w.Home, "trojan-ran")
		planted := filepath.Join(npm, "_npx", "planted", "node_modules", victimPackage, "index.js")

		attacker := w.Connect(t, "--profile", "github")
		text, _ := attacker.Call(t, "trojan_launcher_cache", map[string]any{
			"dirs":   []string{filepath.Join(npm, "_npx"), filepath.Join(npm, "_cacache")},
			"marker": marker,
			// The host's own cache directory for the package, in case
			// the sandbox shows the real cache read-only.
			"plant": []string{cached[0], planted},
		})
		t.Logf("inside the sandbox: %s", text)
		if !strings.Contains(attacker.Stderr(), "is private to this server") {
			t.Errorf("no note that ~/.npm is private on the first run:\n%s", attacker.Stderr())
		}
		if out, status := attacker.Run(t, "cat", planted); status != 0 || !strings.Contains(out, "TROJAN") {
			t.Fatalf("the server cannot use its own npm cache (status %d): %s\n%s", status, out, attacker.Stderr())
		}

		if out := npxVictim(t, w, tarball); !strings.Contains(out, "ORIGINAL") || strings.Contains(out, "TROJAN") {
			t.Errorf("ESCAPE: npx on the host ran the sandboxed server's code: %q", out)
		}
		if _, err := os.Stat(marker); err == nil {
			t.Error("ESCAPE: the trojan ran on the host (marker file written)")
		}
		if _, err := os.Stat(planted); err == nil {
			t.Error("ESCAPE: the file planted in the npm cache is in the host's ~/.npm")
		}

		// Another server, under the same profile: its own cache.
		other := w.ConnectIn(t, w.Project, []string{"/usr/bin/env", testbin.Probe(t)}, "--profile", "github")
		if out, status := other.Run(t, "cat", planted); status == 0 || strings.Contains(out, "TROJAN") {
			t.Errorf("ESCAPE: another sandboxed server sees the first one's planted package: %s", out)
		}
		if out, status := other.Run(t, "cat", cached[0]); strings.Contains(out, "TROJAN") {
			t.Errorf("ESCAPE: another sandboxed server runs the rewritten package (status %d): %s", status, out)
		}

		// The first server's cache is kept between its runs.
		again := w.Connect(t, "--profile", "github")
		if out, status := again.Run(t, "cat", planted); status != 0 || !strings.Contains(out, "TROJAN") {
			t.Errorf("the server's private cache was not kept for its next run (status %d): %s", status, out)
		}
		if strings.Contains(again.Stderr(), "is private to this server") {
			t.Errorf("the note that ~/.npm is private is repeated on the next run:\n%s", again.Stderr())
		}
	})
}

// TestEscapeLauncherCacheWritableHome: with the whole home writable on
// purpose, the npm cache npx filled on the host is still out of reach
// (the server gets a private one), and so are the other servers' private
// caches where srt-mcp keeps them.
func TestEscapeLauncherCacheWritableHome(t *testing.T) {
	if _, err := exec.LookPath("npx"); err != nil {
		t.Skip("npx is not installed")
	}
	ForEachUser(t, func(t *testing.T, u User) {
		w := NewWorld(t, u)
		w.Env = append(w.Env, "npm_config_update_notifier=false", "npm_config_fund=false", "npm_config_audit=false")
		tarball := packVictim(t, w)
		npxVictim(t, w, tarball)
		npm := filepath.Join(w.Home, ".npm")
		cached, _ := filepath.Glob(filepath.Join(npm, "_npx", "*", "node_modules", victimPackage, "index.js"))
		if len(cached) != 1 {
			t.Fatalf("npx did not cache the package under ~/.npm/_npx: %v", cached)
		}
		// Another server's private cache, made by a run under an npx profile.
		w.Connect(t, "--profile", "memory")
		launchers := filepath.Join(w.Home, ".cache", "srt-mcp", "launchers")
		others, _ := filepath.Glob(filepath.Join(launchers, "*", "npm"))
		if len(others) != 1 {
			t.Fatalf("no private npm cache was made for the first server: %v", others)
		}

		marker := filepath.Join(w.Home, "trojan-ran")
		settings := w.Settings(t, `{"filesystem": {"allowWrite": ["~"]}}`)
		// --name: its own tool pins (and so its own private caches).
		attacker := w.Connect(t, "--name", "attacker", "--settings", settings)
		text, _ := attacker.Call(t, "trojan_launcher_cache", map[string]any{
			"dirs":   []string{filepath.Join(npm, "_npx")},
			"marker": marker,
			"plant":  []string{cached[0], filepath.Join(others[0], "_npx", "seeded", "index.js")},
		})
		t.Logf("inside the sandbox: %s", text)
		if out, status := attacker.Run(t, "mkdir", "-p", filepath.Join(launchers, "seeded-key", "npm")); status == 0 {
			t.Errorf("ESCAPE: a server created a private cache for another server: %s", out)
		}
		if out := npxVictim(t, w, tarball); !strings.Contains(out, "ORIGINAL") || strings.Contains(out, "TROJAN") {
			t.Errorf("ESCAPE: npx on the host ran the sandboxed server's code: %q", out)
		}
		if _, err := os.Stat(marker); err == nil {
			t.Error("ESCAPE: the trojan ran on the host (marker file written)")
		}
		if _, err := os.Stat(filepath.Join(others[0], "_npx", "seeded")); err == nil {
			t.Error("ESCAPE: a server wrote into another server's private cache")
		}
	})
}
