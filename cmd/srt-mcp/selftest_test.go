package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/srt-mcp/srt-mcp/internal/testbin"
)

type selftestOut struct {
	Rows   []selftestRow
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
	"renaming a protected path's parent (.git)", "creating a missing protected file (.git/hooks/pre-commit, .mcp.json)",
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
	for _, p := range []string{"write outside allowWrite", "unix socket to a host socket", "visibility of host processes"} {
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
