package shim

import (
	"testing"
	"time"

	"github.com/srt-mcp/srt-mcp/internal/jsonrpc"
)

// TestIDKey: ids that are the same JSON value share a key; a string and a
// number never do (a reply with id "7" does not answer request 7).
func TestIDKey(t *testing.T) {
	for _, c := range []struct {
		a, b string
		same bool
	}{
		{`7`, `7`, true},
		{` 7 `, `7`, true},
		{`"7"`, `"\u0037"`, true},
		{`"7"`, `7`, false},
		{`7`, `7.0`, false}, // exact tracking; looseMatch handles lenient clients
		{`null`, `"null"`, false},
		{`"a"`, `"A"`, false},
	} {
		if got := idKey([]byte(c.a)) == idKey([]byte(c.b)); got != c.same {
			t.Errorf("idKey(%s) == idKey(%s): %v, want %v", c.a, c.b, got, c.same)
		}
	}
}

// TestInflightTracking: requests stay in flight until answered, in arrival
// order; a repeated id replaces its request without reordering; an event
// is attributed to the requests in flight at its time, including ones
// answered since.
func TestInflightTracking(t *testing.T) {
	f := newInflight()
	f.add(&jsonrpc.Envelope{ID: []byte(`1`), Method: "tools/call", ToolName: "a"})
	f.add(&jsonrpc.Envelope{ID: []byte(`"2"`), Method: "tools/list"})
	f.add(&jsonrpc.Envelope{ID: []byte(`3`), Method: "tools/call", ToolName: "c"})
	during := time.Now()
	for !time.Now().After(during) {
		// a coarse clock: let it move on, so the next request starts after
	}
	f.add(&jsonrpc.Envelope{ID: []byte(`1`), Method: "tools/call", ToolName: "a2"}) // same id again

	if m := f.method([]byte(`"2"`)); m != "tools/list" {
		t.Errorf("method(\"2\") = %q", m)
	}
	if m := f.method([]byte(`2`)); m != "" {
		t.Errorf("method(2) = %q: a number answered a string id", m)
	}
	f.remove([]byte(`3`))
	f.remove([]byte(`99`)) // never sent: ignored

	names := func(cs []call) (out []string) {
		for _, c := range cs {
			out = append(out, string(c.id)+" "+c.method+" "+c.tool)
		}
		return out
	}
	// At `during`, 1, "2" and 3 were in flight. 3 has been answered since
	// but still counts for that moment; 1 was replaced by a request with
	// the same id that started after `during`, so it no longer counts.
	got := names(f.at(during))
	want := []string{`"2" tools/list `, `3 tools/call c`}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("at(during) = %q, want %q", got, want)
	}
	// Now: 1 (replaced) and "2" are in flight, 3 is not.
	now := names(f.at(time.Now()))
	if len(now) != 2 || now[0] != `"2" tools/list ` || now[1] != `1 tools/call a2` {
		t.Errorf("at(now) = %q", now)
	}
	drained := f.drain()
	if len(drained) != 2 || string(drained[0].id) != `1` || string(drained[1].id) != `"2"` {
		t.Errorf("drain order %q", names(derefAll(drained)))
	}
	if len(f.drain()) != 0 {
		t.Error("drain left calls behind")
	}
}

func derefAll(cs []*call) []call {
	out := make([]call, len(cs))
	for i, c := range cs {
		out[i] = *c
	}
	return out
}
