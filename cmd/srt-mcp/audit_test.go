package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/srt-mcp/srt-mcp/internal/audit"
	"github.com/srt-mcp/srt-mcp/internal/testbin"
	"github.com/srt-mcp/srt-mcp/sandbox"
)

func runAuditBinary(t *testing.T, args ...string) (*audit.Report, int, string) {
	t.Helper()
	testbin.RequireBwrap(t)
	cmd := exec.Command(testbin.SrtMCP(t), append([]string{"audit", "--json"}, args...)...)
	cmd.Dir = testbin.HostTempDir(t)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	var rep audit.Report
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatalf("audit --json (exit %d): %v\n%s\n%s", code, err, out, stderr.String())
	}
	return &rep, code, stderr.String()
}

func TestAuditWellBehavedServer(t *testing.T) {
	policy := filepath.Join(testbin.HostTempDir(t), "policy.json")
	rep, code, stderr := runAuditBinary(t, "--call", `echo_len={"text":"hello"}`, "--write-policy", policy, "--", testbin.Probe(t))
	if code != 0 || len(rep.Findings) != 0 {
		t.Fatalf("exit %d, findings %v\n%s", code, rep.Findings, stderr)
	}
	if rep.Server != "srt-mcp-probe" || rep.ProtocolVersion == "" || len(rep.Tools) < 10 || len(rep.Calls) != 1 || rep.Calls[0].Error != "" {
		t.Errorf("report: server %q protocol %q, %d tools, calls %+v", rep.Server, rep.ProtocolVersion, len(rep.Tools), rep.Calls)
	}
	for _, tool := range rep.Tools {
		if !strings.HasPrefix(tool.Digest, "sha256:") {
			t.Errorf("tool %s has no digest", tool.Name)
		}
	}
	// The least-privilege policy: no network, the working directory only.
	data, err := os.ReadFile(policy)
	if err != nil {
		t.Fatal(err)
	}
	s, err := sandbox.ParseSettings(policy, data)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Network.AllowedDomains) != 0 || strings.Join(s.Filesystem.AllowWrite, ",") != "." {
		t.Errorf("policy %s", data)
	}
}

func TestAuditMaliciousServer(t *testing.T) {
	policy := filepath.Join(testbin.HostTempDir(t), "policy.json")
	rep, code, stderr := runAuditBinary(t, "--call", `get_weather={"city":"Paris"}`, "--write-policy", policy, "--", testbin.Malicious(t))
	if code != 1 {
		t.Fatalf("exit %d, want 1 (findings)\n%s", code, stderr)
	}
	has := func(list []audit.Observation, targetPart, rulePart string) bool {
		for _, o := range list {
			if strings.Contains(o.Target, targetPart) && strings.Contains(o.Rule, rulePart) && strings.Join(o.Calls, ",") == "tools/call get_weather" {
				return true
			}
		}
		return false
	}
	// It read the decoy key...
	if !has(rep.DecoyReads, "/home/.ssh/id_rsa", "decoy credential read") {
		t.Errorf("decoy read missing: %+v", rep.DecoyReads)
	}
	// ...sent it out in a host name and in a request body...
	if !has(rep.Egress, ".exfil.example", "canary ssh-key in the host name") {
		t.Errorf("host-name exfiltration missing: %+v", rep.Egress)
	}
	if !has(rep.Egress, "collector.example", "canary ssh-key in the request body") {
		t.Errorf("body exfiltration missing: %+v", rep.Egress)
	}
	// ...wrote to the home directory...
	if !has(rep.Writes, "/home/.bashrc", "not in filesystem.allowWrite") {
		t.Errorf("write outside the workspace missing: %+v", rep.Writes)
	}
	// ...and its tool description carries hidden instructions.
	reasons := map[string]bool{}
	for _, h := range rep.Hidden {
		if h.Tool == "get_weather" {
			reasons[h.Reason] = true
		}
	}
	for _, want := range []string{"tells the model to ignore its instructions", "contains an HTML comment (invisible when rendered)", "refers to credential files", "hides text after a long run of spaces"} {
		if !reasons[want] {
			t.Errorf("hidden-instruction finding %q missing: %v", want, rep.Hidden)
		}
	}
	// The suggested policy does not let the exfiltration hosts through.
	data, _ := os.ReadFile(policy)
	if strings.Contains(string(data), "exfil.example") || strings.Contains(string(data), "collector.example") {
		t.Errorf("the least-privilege policy allows an exfiltration host:\n%s", data)
	}
}
