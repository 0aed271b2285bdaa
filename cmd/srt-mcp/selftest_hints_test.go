package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/srt-mcp/srt-mcp/internal/testbin"
)

// TestSelftestHintsNameTheCause: with allowWrite ["/"] the rows that fail
// name filesystem.allowWrite and the user's file, no hint blames a setting
// the file does not set, and --json keeps each detail whole (the errno at
// its end included).
func TestSelftestHintsNameTheCause(t *testing.T) {
	f := filepath.Join(testbin.HostTempDir(t), "root.json")
	os.WriteFile(f, []byte(`{"filesystem": {"allowWrite": ["/"]}}`), 0o644)
	res, code := runSelftestBinary(t, "--settings", f)
	if code != 1 || res.Failed == 0 {
		t.Fatalf("exit %d, %d failed: want failures", code, res.Failed)
	}
	for _, r := range res.Rows {
		if r.Result == "FAIL" {
			if want := `filesystem.allowWrite is ["/"] in ` + f; !strings.Contains(r.Hint, want) {
				t.Errorf("%s: hint %q does not name %s", r.Protection, r.Hint, want)
			}
			if strings.Contains(r.Hint, "enableWeakerNestedSandbox") {
				t.Errorf("%s: hint blames a setting the file does not set: %q", r.Protection, r.Hint)
			}
		}
		if r.Protection == "read of a denyRead path" && !strings.HasSuffix(r.Detail, "permission denied") {
			t.Errorf("detail cut in --json: %q", r.Detail)
		}
	}
}

// TestSelftestBadPolicyNamesUsersFile: a policy srt-mcp refuses when it
// resolves it is reported against the user's file, not the workspace copy
// the probe runs with; exit 2.
func TestSelftestBadPolicyNamesUsersFile(t *testing.T) {
	testbin.RequireBwrap(t)
	f := filepath.Join(testbin.HostTempDir(t), "tilde-user.json")
	os.WriteFile(f, []byte(`{"filesystem": {"denyRead": ["~bob/x"]}}`), 0o644)
	cmd := exec.Command(testbin.SrtMCP(t), "selftest", "--settings", f)
	cmd.Env = append(os.Environ(), "HOME="+testbin.HostTempDir(t))
	out, err := cmd.CombinedOutput()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 2 {
		t.Fatalf("exit %v, want 2\n%s", err, out)
	}
	if !strings.Contains(string(out), f+`: filesystem.denyRead[0]: "~bob/x"`) || strings.Contains(string(out), "srt-selftest-settings") {
		t.Errorf("error does not name the user's file:\n%s", out)
	}
}
