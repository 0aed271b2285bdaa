// Package testbin builds srt-mcp and the test MCP servers once per test
// binary, so integration tests run the real executables end to end.
package testbin

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

var (
	once sync.Once
	dir  string
	err  error
)

// Main runs the tests and removes the built binaries afterwards. Test
// packages that use Dir call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	if dir != "" {
		os.RemoveAll(dir)
	}
	os.Exit(code)
}

// Dir builds the binaries (srt-mcp, probe) once per test process and
// returns their directory.
func Dir(t testing.TB) string {
	t.Helper()
	once.Do(func() {
		_, file, _, _ := runtime.Caller(0)
		root := filepath.Join(filepath.Dir(file), "..", "..")
		// Not under /tmp: the probe runs inside the sandbox, where the
		// host's /tmp is replaced by a private, empty one. World-readable:
		// escape tests run the binaries as an unprivileged user too.
		if dir, err = os.MkdirTemp("/var/tmp", "srt-mcp-test-bin-"); err != nil {
			return
		}
		if err = os.Chmod(dir, 0o755); err != nil {
			return
		}
		for name, pkg := range map[string]string{"srt-mcp": "./cmd/srt-mcp", "probe": "./testdata/mcp/probe", "malicious": "./testdata/mcp/malicious"} {
			cmd := exec.Command("go", "build", "-o", filepath.Join(dir, name), pkg)
			cmd.Dir = root
			if out, e := cmd.CombinedOutput(); e != nil {
				err = fmt.Errorf("go build %s: %v\n%s", pkg, e, out)
				return
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// SrtMCP is the path of the built srt-mcp.
func SrtMCP(t testing.TB) string { return filepath.Join(Dir(t), "srt-mcp") }

// Probe is the path of the built probe MCP server.
func Probe(t testing.TB) string { return filepath.Join(Dir(t), "probe") }

// Malicious is the path of the credential-stealing test server.
func Malicious(t testing.TB) string { return filepath.Join(Dir(t), "malicious") }

// HostTempDir returns a fresh directory, removed after the test, that is
// not under /tmp: the sandbox gives servers a private /tmp, so test files
// there would be invisible rather than protected.
func HostTempDir(t testing.TB) string {
	t.Helper()
	cache, err := os.UserCacheDir()
	if err == nil {
		err = os.MkdirAll(cache, 0o755)
	}
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp(cache, "srt-mcp-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		t.Fatal(err)
	}
	return real
}

// RequireBwrap skips the test when bubblewrap is missing, saying how to get
// it; .ci/run installs it, so in CI this never skips.
func RequireBwrap(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("bwrap"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("bubblewrap is not installed; .ci/run should have installed it")
		}
		t.Skip("bubblewrap is not installed (apt install bubblewrap)")
	}
}
