package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/srt-mcp/srt-mcp/internal/selftest"
	"github.com/srt-mcp/srt-mcp/internal/testbin"
)

type selftestOut struct {
	Rows   []selftest.Row
	Passed int
	Failed int
}

func runSelftestBinary(t *testing.T, args ...string) (selftestOut, int) {
	t.Helper()
	testbin.RequireBwrap(t)
	cmd := exec.Command(testbin.SrtMCP(t), append([]string{"selftest", "--json"}, args...)...)
	cmd.Env = append(os.Environ(), "HOME="+testbin.HostTempDir(t))
	out, err := cmd.Output()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	var res selftestOut
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("selftest --json: %v\n%s", err, out)
	}
	return res, code
}

func results(res selftestOut) map[string]string {
	m := map[string]string{}
	for _, r := range res.Rows {
		m[r.Protection] = r.Result
	}
	return m
}

var allProtections = []string{
	"read of a denyRead path", "write outside allowWrite",
	"write to a mandatory deny file (.mcp.json) in an allowed directory", "new file under .git/hooks",
	"direct TCP connect bypassing the proxy", "request to an unlisted domain via the proxy", "DNS lookup",
	"unix socket to a host socket", "visibility of host processes", "signal to a host process",
	"ptrace of a host process", "terminal injection (TIOCSTI)", "privilege gain via setuid",
	"rewriting the settings file in use", "reading an MCP client config (~/.claude.json)",
	"working-directory rule (server started in / or ~)", "writable home / persistence points (~/.bashrc, ~/.local/bin)",
	"resource limits (processes, memory, /tmp size)",
	"ptrace of a process in the sandbox (PID 1 and a sibling)", "foreign socket families (vsock, packet, netlink audit)", "kernel keyrings",
	"rewriting a package in the npm cache (~/.npm writable)",
	"renaming a protected path's parent (.git)", "creating a missing protected file (.git/hooks/pre-commit, .mcp.json)",
	"writing host kernel settings (/proc/sys, sysrq-trigger)",
}

func TestSelftestDefaultPolicyHolds(t *testing.T) {
	res, code := runSelftestBinary(t)
	want := map[string]string{}
	for _, p := range allProtections {
		want[p] = "PASS"
	}
	if diff := cmp.Diff(want, results(res)); diff != "" || code != 0 {
		t.Errorf("exit %d; rows (-want +got):\n%s", code, diff)
	}
}

func TestSelftestCatchesAWeakPolicy(t *testing.T) {
	weak := filepath.Join(testbin.HostTempDir(t), "weak.json")
	os.WriteFile(weak, []byte(`{"network": {"allowAllUnixSockets": true}, "filesystem": {"allowWrite": ["/"]}, "enableWeakerNestedSandbox": true}`), 0o644)
	res, code := runSelftestBinary(t, "--settings", weak)
	want := map[string]string{}
	for _, p := range allProtections {
		want[p] = "PASS"
	}
	for _, p := range []string{"write outside allowWrite", "unix socket to a host socket", "visibility of host processes",
		"working-directory rule (server started in / or ~)"} {
		want[p] = "FAIL"
	}
	if diff := cmp.Diff(want, results(res)); diff != "" || code != 1 {
		t.Errorf("exit %d; rows (-want +got):\n%s", code, diff)
	}
	for _, r := range res.Rows {
		if r.Result == "FAIL" && r.Hint == "" {
			t.Errorf("%s failed without saying what weakens it", r.Protection)
		}
	}
}

func TestSelftestHonoursProfile(t *testing.T) {
	testbin.RequireBwrap(t)
	cmd := exec.Command(testbin.SrtMCP(t), "selftest", "--json", "--profile", "memory")
	cmd.Env = append(os.Environ(), "HOME="+testbin.HostTempDir(t))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("selftest --profile memory: %v\n%s", err, out)
	}
	var res struct {
		Settings string
		Failed   int
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatal(err)
	}
	if res.Settings != "built-in profile memory" || res.Failed != 0 {
		t.Errorf("settings %q, %d failed", res.Settings, res.Failed)
	}
	if code := exec.Command(testbin.SrtMCP(t), "selftest", "--profile", "no-such-profile").Run(); code == nil {
		t.Errorf("an unknown profile did not fail")
	}
}

// TestSelftestCatchesAllowPtrace: srtMcp.allowPtrace lets the server trace
// the sibling it orphaned, and the row says so.
func TestSelftestCatchesAllowPtrace(t *testing.T) {
	settings := filepath.Join(testbin.HostTempDir(t), "ptrace.json")
	os.WriteFile(settings, []byte(`{"filesystem": {"allowWrite": ["."]}, "srtMcp": {"allowPtrace": true}}`), 0o644)
	res, code := runSelftestBinary(t, "--settings", settings)
	const row = "ptrace of a process in the sandbox (PID 1 and a sibling)"
	if got := results(res)[row]; got != "FAIL" || code != 1 {
		t.Errorf("exit %d, %q = %s, want FAIL", code, row, got)
	}
	for _, r := range res.Rows {
		if r.Protection == row && !strings.Contains(r.Hint, "srtMcp.allowPtrace") {
			t.Errorf("hint %q does not name srtMcp.allowPtrace", r.Hint)
		}
		if r.Protection != row && r.Result != "PASS" {
			t.Errorf("%s: %s (%s)", r.Protection, r.Result, r.Detail)
		}
	}
}

func TestSelftestCatchesSharedLauncherCaches(t *testing.T) {
	shared := filepath.Join(testbin.HostTempDir(t), "shared.json")
	os.WriteFile(shared, []byte(`{"srtMcp": {"sharedLauncherCaches": true}}`), 0o644)
	res, code := runSelftestBinary(t, "--settings", shared)
	for _, r := range res.Rows {
		if r.Protection == "rewriting a package in the npm cache (~/.npm writable)" {
			if r.Result != "FAIL" || code != 1 || !strings.Contains(r.Hint, "srtMcp.sharedLauncherCaches") {
				t.Errorf("exit %d, row %+v; want a FAIL naming srtMcp.sharedLauncherCaches", code, r)
			}
			return
		}
	}
	t.Error("no launcher cache row")
}
