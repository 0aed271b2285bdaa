//go:build unix

package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/srt-mcp/srt-mcp/internal/testbin"
)

// Benchmarks for the protected paths (docs/performance.md, "Protected
// paths"). SRT_MCP_BASELINE may name another srt-mcp binary (for example
// one built from the commit before the seccomp broker) to add its rows.

// baseline returns the binary of the extra rows, or "".
func baseline() string { return os.Getenv("SRT_MCP_BASELINE") }

// BenchmarkStartupTreeSize measures spawn to initialize response of the
// probe through srt-mcp, started in a tiny project and in one with a
// generated node_modules of 200,000 files (2,000 packages of 100 files in
// pkg/lib, all within the depth the old start-up walk read). Start-up must
// not grow with the tree.
func BenchmarkStartupTreeSize(b *testing.B) {
	for _, size := range []struct {
		name        string
		pkgs, files int
	}{{"tiny", 0, 0}, {"200k-files", 2000, 100}} {
		bins := map[string]string{"srt-mcp": ""}
		if baseline() != "" {
			bins["baseline"] = baseline()
		}
		for _, name := range []string{"srt-mcp", "baseline"} {
			bin, ok := bins[name]
			if !ok {
				continue
			}
			b.Run(size.name+"/"+name, func(b *testing.B) {
				testbin.RequireBwrap(b)
				if bin == "" {
					bin = testbin.SrtMCP(b)
				}
				dir := benchTree(b, size.pkgs, size.files)
				var firstByte []time.Duration
				for b.Loop() {
					cmd := exec.Command(bin, "--", testbin.Probe(b))
					cmd.Dir = dir
					cmd.Env = isolatedEnv(b)
					in, _ := cmd.StdinPipe()
					out, _ := cmd.StdoutPipe()
					start := time.Now()
					if err := cmd.Start(); err != nil {
						b.Fatal(err)
					}
					io.WriteString(in, initialize+"\n")
					line, err := bufio.NewReader(out).ReadBytes('\n')
					if err != nil || !bytes.Contains(line, []byte(`"serverInfo"`)) {
						b.Fatalf("initialize: %q %v", line, err)
					}
					firstByte = append(firstByte, time.Since(start))
					in.Close()
					if err := cmd.Wait(); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(median(firstByte).Microseconds())/1000, "init-p50-ms")
			})
		}
	}
}

// benchTree returns a project directory with pkgs packages of files files
// each under node_modules, and a .git at the top. It is generated once
// under /var/tmp and reused (generating 200,000 files takes a while).
func benchTree(b *testing.B, pkgs, files int) string {
	b.Helper()
	dir := filepath.Join("/var/tmp", fmt.Sprintf("srt-mcp-bench-tree-%d-%d", pkgs, files))
	done := filepath.Join(dir, ".complete")
	if _, err := os.Stat(done); err == nil {
		return dir
	}
	os.RemoveAll(dir)
	for _, d := range []string{".git/hooks", "src"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			b.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(dir, ".git", "config"), []byte("[core]\n"), 0o644)
	for p := 0; p < pkgs; p++ {
		lib := filepath.Join(dir, "node_modules", "pkg"+strconv.Itoa(p), "lib")
		if err := os.MkdirAll(lib, 0o755); err != nil {
			b.Fatal(err)
		}
		for f := 0; f < files; f++ {
			if err := os.WriteFile(filepath.Join(lib, strconv.Itoa(f)+".js"), nil, 0o644); err != nil {
				b.Fatal(err)
			}
		}
	}
	os.WriteFile(done, nil, 0o644)
	return dir
}

// BenchmarkNpmInstall measures file-creation-heavy work inside the sandbox,
// where every create, write-open, rename and chmod goes through the
// seccomp broker: `npm install --prefer-offline` of a small real project (express
// and lodash, about 70 packages and 1,700 files) from a warmed npm cache
// into a fresh directory. "direct" runs npm alone, "srt-mcp" in the
// sandbox (broker on, observation on, as by default), "srt-mcp-noobserve"
// with --observe=false (broker only), and "baseline" with SRT_MCP_BASELINE
// (e.g. the build before the broker: observation only, no broker).
func BenchmarkNpmInstall(b *testing.B) {
	if _, err := exec.LookPath("npm"); err != nil {
		b.Skip("npm is not installed")
	}
	root := testbin.HostTempDir(b)
	cache := filepath.Join(root, "npm-cache")
	tmpl := filepath.Join(root, "template")
	os.MkdirAll(tmpl, 0o755)
	pkg := `{"name":"bench","version":"1.0.0","private":true,"dependencies":{"express":"4.21.2","lodash":"4.17.21"}}`
	os.WriteFile(filepath.Join(tmpl, "package.json"), []byte(pkg), 0o644)
	npm := []string{"npm", "install", "--no-audit", "--no-fund", "--ignore-scripts", "--cache", cache}
	warm := exec.Command(npm[0], npm[1:]...)
	warm.Dir = tmpl
	if out, err := warm.CombinedOutput(); err != nil {
		b.Skipf("cannot install the benchmark project from the npm registry (unreachable?): %v\n%s", err, out)
	}
	os.RemoveAll(filepath.Join(tmpl, "node_modules"))
	// Tarballs come from the warmed cache; package metadata may still be
	// asked of the registry, which inside the sandbox goes through the
	// proxy: its host is taken from npm's own configuration.
	offline := append(append([]string(nil), npm...), "--prefer-offline")
	regOut, err := exec.Command("npm", "config", "get", "registry").Output()
	reg, err2 := url.Parse(strings.TrimSpace(string(regOut)))
	if err != nil || err2 != nil || reg.Hostname() == "" {
		b.Skipf("npm config get registry: %v %v", err, err2)
	}
	settings := filepath.Join(root, "settings.json")
	os.WriteFile(settings, []byte(fmt.Sprintf(`{"network": {"allowedDomains": [%q]}, "filesystem": {"allowWrite": [".", %q]}}`, reg.Hostname(), cache)), 0o644)
	modes := []string{"direct", "srt-mcp", "srt-mcp-noobserve"}
	if baseline() != "" {
		modes = append(modes, "baseline")
	}
	for _, mode := range modes {
		b.Run(mode, func(b *testing.B) {
			i := 0
			for b.Loop() {
				b.StopTimer()
				i++
				dir := filepath.Join(root, mode+strconv.Itoa(i))
				os.MkdirAll(dir, 0o755)
				for _, f := range []string{"package.json", "package-lock.json"} {
					data, _ := os.ReadFile(filepath.Join(tmpl, f))
					os.WriteFile(filepath.Join(dir, f), data, 0o644)
				}
				var cmd *exec.Cmd
				switch mode {
				case "direct":
					cmd = exec.Command(offline[0], offline[1:]...)
				case "srt-mcp":
					cmd = exec.Command(testbin.SrtMCP(b), append([]string{"--settings", settings, "--"}, offline...)...)
				case "srt-mcp-noobserve":
					cmd = exec.Command(testbin.SrtMCP(b), append([]string{"--settings", settings, "--observe=false", "--"}, offline...)...)
				case "baseline":
					cmd = exec.Command(baseline(), append([]string{"--settings", settings, "--"}, offline...)...)
				}
				cmd.Dir = dir
				cmd.Env = append(isolatedEnv(b), "npm_config_update_notifier=false")
				// srt-mcp ends the server when its stdin closes: keep it open.
				stdin, _ := cmd.StdinPipe()
				var out bytes.Buffer
				cmd.Stdout, cmd.Stderr = &out, &out
				b.StartTimer()
				err := cmd.Run()
				b.StopTimer()
				stdin.Close()
				if err != nil {
					b.Fatalf("%s: %v\n%s", mode, err, out.String())
				}
				if _, err := os.Stat(filepath.Join(dir, "node_modules", "express", "package.json")); err != nil {
					b.Fatalf("%s: express not installed: %v", mode, err)
				}
				os.RemoveAll(dir)
				b.StartTimer()
			}
		})
	}
}
