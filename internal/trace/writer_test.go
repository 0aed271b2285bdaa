package trace

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestWriterReaderRoundTrip: what the writer writes, the reader reads back
// field for field (one Record for both), including events that waited for
// the server's name, multi-line detail, and text a server chose.
func TestWriterReaderRoundTrip(t *testing.T) {
	dir := t.TempDir()
	var stderr bytes.Buffer
	w := NewWriter(dir, "", "fallback", func(e Event) bool { return e.Target == "ignored" }, &stderr)
	at := time.Date(2026, 1, 2, 3, 4, 5, 6, time.FixedZone("x", 3600))
	ref := CallRef{ID: json.RawMessage(`"a<1>"`), Method: "tools/call", Tool: "t", ArgNames: []string{"path"}, ArgDigest: "hmac-sha256:00"}
	if !w.Add(Event{Time: at, Kind: KindFSRead, Op: "openat", Target: "/home/u/.ssh/id_rsa & <x>", Decision: DecisionDeny, Rule: "r", InFlight: []CallRef{ref}}) {
		t.Fatal("event before the name was not kept")
	}
	if w.Add(Event{Time: at, Kind: KindNetwork, Target: "ignored"}) {
		t.Fatal("ignored event kept")
	}
	w.SetServer("srv/../x")
	w.SetServer("other") // the first name stays
	w.Add(Event{Time: at, Kind: KindTool, Op: OpToolChanged, Target: "t", Decision: DecisionDeny, Rule: "changed", Detail: "- a\n+ b", InFlight: []CallRef{ref, ref}})
	w.Close()
	if stderr.Len() != 0 {
		t.Fatalf("stderr: %s", stderr.String())
	}
	recs, bad, err := Read(dir, "srv/../x")
	if err != nil || bad != 0 {
		t.Fatalf("Read: %v, %d bad", err, bad)
	}
	want := []Record{
		{Time: "2026-01-02T02:04:05.000000006Z", Server: "srv/../x", Run: w.Run(), Kind: KindFSRead, Op: "openat", Target: "/home/u/.ssh/id_rsa & <x>", Decision: DecisionDeny, Rule: "r", MCP: MCP{InFlight: []CallRef{ref}}},
		{Time: "2026-01-02T02:04:05.000000006Z", Server: "srv/../x", Run: w.Run(), Kind: KindTool, Op: OpToolChanged, Target: "t", Decision: DecisionDeny, Rule: "changed\n- a\n+ b", MCP: MCP{InFlight: []CallRef{ref, ref}, Ambiguous: true}},
	}
	if diff := cmp.Diff(want, recs); diff != "" {
		t.Errorf("records (-want +got):\n%s", diff)
	}
	raw, err := os.ReadFile(filepath.Join(dir, FileName("srv/../x")))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), `\u003c`) {
		t.Errorf("HTML-escaped trace: %s", raw)
	}
	if !strings.HasPrefix(string(raw), `{"time":"2026-01-02T02:04:05.000000006Z","server":"srv/../x","run":"`) {
		t.Errorf("key order changed: %s", raw)
	}
}

// TestWriterReportsUnwritableDir: a trace directory that cannot be
// created is said once on stderr; the run goes on.
func TestWriterReportsUnwritableDir(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	w := NewWriter(filepath.Join(file, "traces"), "s", "", nil, &stderr)
	w.Add(Event{Kind: KindNetwork})
	w.Close()
	if n := strings.Count(stderr.String(), "cannot write the trace"); n != 1 {
		t.Errorf("stderr said it %d times: %q", n, stderr.String())
	}
}
