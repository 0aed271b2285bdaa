//go:build unix

package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/srt-mcp/srt-mcp/internal/testbin"

	"github.com/srt-mcp/srt-mcp/internal/trace"
)

// callTool sends one tools/call with the given id and waits for its reply,
// so exactly one request is in flight while the probe acts.
func callTool(t *testing.T, r *rawShim, id, tool string, args map[string]any) {
	t.Helper()
	params, _ := json.Marshal(map[string]any{"name": tool, "arguments": args})
	r.send(t, fmt.Sprintf(`{"jsonrpc":"2.0","id":%q,"method":"tools/call","params":%s}`, id, params))
	if rep := r.recv(t); string(rep.ID) != fmt.Sprintf("%q", id) {
		t.Fatalf("reply for %s, want %s", rep.ID, id)
	}
}

// traceSession runs the probe under srt-mcp with a trace directory and
// returns the records written, after the server has exited.
func traceSession(t *testing.T, w *world, extra []string, calls func(r *rawShim)) ([]trace.Record, string, string) {
	t.Helper()
	testbin.RequireBwrap(t)
	dir := filepath.Join(w.root, "traces")
	args := append(append([]string{"--trace-dir", dir}, extra...), "--", testbin.Probe(t))
	r := startRawShim(t, w.project, w.env(), args...)
	initRaw(t, r)
	calls(r)
	r.stdin.Close()
	if code := r.exitCode(t); code != 0 {
		t.Fatalf("exit %d: %s", code, r.stderr.String())
	}
	recs, bad, err := trace.Read(dir, "")
	if err != nil || bad != 0 {
		t.Fatalf("reading traces: %v (%d bad lines)", err, bad)
	}
	return recs, dir, r.stderr.String()
}

// brief is the part of a record a test pins down.
func brief(r trace.Record) string {
	var ids []string
	for _, c := range r.MCP.InFlight {
		ids = append(ids, fmt.Sprintf("%s %s %s %v", c.ID, c.Method, c.Tool, c.ArgNames))
	}
	return fmt.Sprintf("%s %s %s %s [%s] <- %s", r.Kind, r.Op, r.Target, r.Decision, r.Rule, strings.Join(ids, "; "))
}

func TestViolationTraces(t *testing.T) {
	h := startHostServers(t)
	w := newWorld(t)
	os.MkdirAll(filepath.Join(w.home, "ignored"), 0o755)
	s := w.settings(t, fmt.Sprintf(`{
		"network": {"allowedDomains": ["localhost"], "deniedDomains": ["bad.example"], "deniedDomainReasons": {"bad.example": "known exfiltration host"}},
		"filesystem": {"allowWrite": ["."], "denyRead": [".env"], "denyWrite": ["README.md"]},
		"ignoreViolations": {"*": [%q]}}`, filepath.Join(w.home, "ignored")))
	recs, dir, stderr := traceSession(t, w, []string{"--settings", s}, func(r *rawShim) {
		callTool(t, r, "w1", "write_file", map[string]any{"path": filepath.Join(w.home, "out.txt"), "content": "SECRET-ARG"})
		callTool(t, r, "r1", "read_file", map[string]any{"path": filepath.Join(w.home, ".ssh/id_rsa")})
		callTool(t, r, "r2", "read_file", map[string]any{"path": filepath.Join(w.project, ".env")})
		callTool(t, r, "g1", "write_file", map[string]any{"path": filepath.Join(w.project, ".git/hooks/post-commit")})
		callTool(t, r, "d1", "write_file", map[string]any{"path": filepath.Join(w.project, "README.md")})
		callTool(t, r, "u1", "connect_unix", map[string]any{"path": "/run/host.sock"})
		callTool(t, r, "n1", "http_get", map[string]any{"url": "http://unlisted.example/x"})
		callTool(t, r, "n2", "http_get", map[string]any{"url": "http://bad.example/"})
		callTool(t, r, "i1", "write_file", map[string]any{"path": filepath.Join(w.home, "ignored/x")})
		callTool(t, r, "ok", "http_get", map[string]any{"url": "http://localhost:" + port(h.web) + "/", "proxy": "http://127.0.0.1:3128"})
	})
	var got []string
	for _, r := range recs {
		got = append(got, brief(r))
		if r.Server != "srt-mcp-probe" || r.Run == "" || r.Time == "" {
			t.Errorf("record header: server %q run %q time %q", r.Server, r.Run, r.Time)
		}
	}
	sort.Strings(got)
	want := []string{
		fmt.Sprintf(`fs-read openat %s deny [filesystem.denyRead: %s] <- "r1" tools/call read_file [path]`, filepath.Join(w.home, ".ssh/id_rsa"), filepath.Join(w.home, ".ssh")),
		fmt.Sprintf(`fs-read openat %s deny [filesystem.denyRead: %s] <- "r2" tools/call read_file [path]`, filepath.Join(w.project, ".env"), filepath.Join(w.project, ".env")),
		fmt.Sprintf(`fs-write openat %s deny [mandatory deny: %s] <- "g1" tools/call write_file [path]`, filepath.Join(w.project, ".git/hooks/post-commit"), filepath.Join(w.project, ".git/hooks")),
		fmt.Sprintf(`fs-write openat %s deny [not in filesystem.allowWrite] <- "w1" tools/call write_file [content path]`, filepath.Join(w.home, "out.txt")),
		fmt.Sprintf(`fs-write openat %s deny [filesystem.denyWrite: %s] <- "d1" tools/call write_file [path]`, filepath.Join(w.project, "README.md"), filepath.Join(w.project, "README.md")),
		`network http unlisted.example:80 deny [not in network.allowedDomains] <- "n1" tools/call http_get [url]`,
		`network http bad.example:80 deny [network.deniedDomains: bad.example (known exfiltration host)] <- "n2" tools/call http_get [url]`,
		`unix-socket socket AF_UNIX deny [unix sockets are blocked (network.allowAllUnixSockets is off)] <- "u1" tools/call connect_unix [path]`,
	}
	sort.Strings(want)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("trace events:\n got:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	// Every line has exactly the fields docs/traces.md documents.
	raw, _ := os.ReadFile(filepath.Join(dir, "srt-mcp-probe.jsonl"))
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		var m map[string]json.RawMessage
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("trace line is not JSON: %q", line)
		}
		var keys []string
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		if got := strings.Join(keys, ","); got != "decision,kind,mcp,op,rule,run,server,target,time" {
			t.Errorf("trace fields %s", got)
		}
		var mcp map[string]json.RawMessage
		json.Unmarshal(m["mcp"], &mcp)
		if _, ok := mcp["inFlight"]; !ok || len(mcp) != 2 {
			t.Errorf("mcp field %s", m["mcp"])
		}
	}
	// Argument values never reach the trace; their digest does.
	if strings.Contains(string(raw), "SECRET-ARG") {
		t.Error("an argument value was written to the trace")
	}
	if !strings.Contains(string(raw), `"argDigest":"hmac-sha256:`) {
		t.Error("no argument digest in the trace")
	}
	// The human line on stderr names the call.
	if !strings.Contains(stderr, "srt-mcp: denied http unlisted.example:80 (tools/call http_get): not in network.allowedDomains") {
		t.Errorf("stderr lacks the denial line:\n%s", stderr)
	}
}

func TestLearnMode(t *testing.T) {
	h := startHostServers(t)
	w := newWorld(t)
	// localhost is not an allowed domain; its address is named, so the
	// destination guard lets it through in learn mode.
	s := w.settings(t, `{"network": {"allowedDomains": ["127.0.0.0/8"]}}`)
	var body string
	recs, dir, stderr := traceSession(t, w, []string{"--settings", s, "--learn"}, func(r *rawShim) {
		for i := range 3 {
			callTool(t, r, fmt.Sprintf("n%d", i), "http_get", map[string]any{"url": "http://localhost:" + port(h.web) + "/", "proxy": "http://127.0.0.1:3128"})
		}
		callTool(t, r, "w1", "write_file", map[string]any{"path": filepath.Join(w.home, "a.txt")})
		callTool(t, r, "w2", "write_file", map[string]any{"path": filepath.Join(w.home, "b.txt")})
		callTool(t, r, "meta", "http_get", map[string]any{"url": "http://169.254.169.254/latest/", "proxy": "http://127.0.0.1:3128"})
	})
	_ = body
	counts := map[string]int{}
	for _, r := range recs {
		counts[string(r.Kind)+" "+string(r.Decision)+" "+r.Target]++
	}
	wantCounts := map[string]int{
		"network would-deny localhost:" + port(h.web):     3,
		"fs-write deny " + filepath.Join(w.home, "a.txt"): 1, // the disk stays protected
		"fs-write deny " + filepath.Join(w.home, "b.txt"): 1,
		"network deny 169.254.169.254:80":                 1, // so does the metadata address
	}
	for k, n := range wantCounts {
		if counts[k] != n {
			t.Errorf("%q: %d events, want %d (all: %v)", k, counts[k], n, counts)
		}
	}
	if h.webHits.Load() != 3 {
		t.Errorf("learn mode let %d of 3 requests through", h.webHits.Load())
	}
	if _, err := os.Stat(filepath.Join(w.home, "a.txt")); err == nil {
		t.Error("learn mode let a write outside allowWrite through")
	}
	if !strings.Contains(stderr, "would deny (allowed in learn mode) http localhost:") {
		t.Errorf("stderr:\n%s", stderr)
	}

	// traces --suggest turns the repeated events into a settings patch.
	out, err := exec.Command(testbin.SrtMCP(t), "traces", "--trace-dir", dir, "--suggest", "--min-count", "2", "--json").Output()
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Servers []struct {
			Server      string
			Events      int
			Suggestions []trace.Suggestion
			Patch       map[string]map[string]any
		}
	}
	if err := json.Unmarshal(out, &res); err != nil || len(res.Servers) != 1 {
		t.Fatalf("traces --json: %v\n%s", err, out)
	}
	srv := res.Servers[0]
	if srv.Server != "srt-mcp-probe" || srv.Events != 6 {
		t.Errorf("summary: %+v", srv)
	}
	patch, _ := json.Marshal(srv.Patch)
	wantPatch := fmt.Sprintf(`{"filesystem":{"allowWrite":[%q]},"network":{"allowedDomains":["localhost:%s"]}}`, w.home, port(h.web))
	if string(patch) != wantPatch {
		t.Errorf("patch %s\nwant  %s", patch, wantPatch)
	}
	for _, sg := range srv.Suggestions {
		if sg.Setting == "network.allowedDomains" && (sg.Count != 3 || strings.Join(sg.Tools, ",") != "http_get") {
			t.Errorf("network suggestion evidence: %+v", sg)
		}
	}
	// The single metadata event is below --min-count: no suggestion for it.
	if strings.Contains(string(out), `"169.254.169.254"`) {
		t.Error("suggested the metadata address")
	}
}
