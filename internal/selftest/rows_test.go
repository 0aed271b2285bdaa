package selftest

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestRowsTable: every row names its protection once, says what weakens
// it, and can run; the order is the one users and tests compare.
func TestRowsTable(t *testing.T) {
	seen := map[string]bool{}
	var order []string
	for _, r := range rows {
		if r.protection == "" || r.hint == "" || r.probe == nil {
			t.Errorf("incomplete row %+v", r)
		}
		if seen[r.protection] {
			t.Errorf("%q twice", r.protection)
		}
		seen[r.protection] = true
		order = append(order, r.protection)
	}
	want := []string{
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
	// Rows appended after these are new; the prefix must not move.
	if len(order) < len(want) {
		t.Fatalf("%d rows, want at least %d", len(order), len(want))
	}
	if diff := cmp.Diff(want, order[:len(want)]); diff != "" {
		t.Errorf("row order (-want +got):\n%s", diff)
	}
}

func TestRowResult(t *testing.T) {
	quoted := row{protection: "p", hint: "h"}
	described := row{protection: "p", hint: "h", described: "all good"}
	for _, tc := range []struct {
		name string
		r    row
		o    outcome
		want Row
	}{
		{"held, quoted", quoted, outcome{held: true, answer: "EPERM"}, Row{Protection: "p", Result: "PASS", Detail: "blocked: EPERM"}},
		{"held, described", described, outcome{held: true, answer: "EPERM"}, Row{Protection: "p", Result: "PASS", Detail: "all good"}},
		{"not held: the answer and the hint", quoted, outcome{answer: "wrote x"}, Row{Protection: "p", Result: "FAIL", Detail: "not blocked: wrote x", Hint: "h"}},
		{"not held, described: still the answer", described, outcome{answer: "wrote x"}, Row{Protection: "p", Result: "FAIL", Detail: "not blocked: wrote x", Hint: "h"}},
	} {
		if diff := cmp.Diff(tc.want, tc.r.result(tc.o)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
		}
	}
}

func TestWithAllowWrite(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{}`, `{"filesystem":{"allowWrite":[".","/h"]}}`},
		{`{"filesystem":{"allowWrite":[]}}`, `{"filesystem":{"allowWrite":["/h"]}}`},
		{`{"filesystem":{"allowWrite":["/p"],"denyRead":["/s"]},"x":1}`, `{"filesystem":{"allowWrite":["/p","/h"],"denyRead":["/s"]},"x":1}`},
	} {
		got, err := withAllowWrite([]byte(tc.in), "/h")
		if err != nil {
			t.Fatal(err)
		}
		var g, w any
		json.Unmarshal(got, &g)
		json.Unmarshal([]byte(tc.want), &w)
		if diff := cmp.Diff(w, g); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.in, diff)
		}
	}
}

func TestPast(t *testing.T) {
	for _, tc := range []struct{ limit, def, margin, want int }{
		{100, 512, 64, 164},
		{0, 512, 64, 576}, // no limit: bounded past the default
		{-1, 512, 64, 576},
	} {
		if got := past(tc.limit, tc.def, tc.margin); got != tc.want {
			t.Errorf("past(%d, %d, %d) = %d, want %d", tc.limit, tc.def, tc.margin, got, tc.want)
		}
	}
}
