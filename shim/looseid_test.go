package shim

import (
	"testing"

	"github.com/srt-mcp/srt-mcp/internal/jsonrpc"
)

// TestLooseIDMatch: ids a lenient client (Number(id) in the TypeScript SDK)
// takes for a request's own are found; exact ids and unrelated ones are
// not.
func TestLooseIDMatch(t *testing.T) {
	f := newInflight()
	f.add(&jsonrpc.Envelope{ID: []byte("2"), Method: "tools/list"})
	f.add(&jsonrpc.Envelope{ID: []byte(`"abc"`), Method: "initialize"})
	for _, c := range []struct {
		id    string
		match bool
	}{
		{`2`, false}, // exact: not a loose match
		{`"2"`, true}, {`2.0`, true}, {`2e0`, true}, {`"0x2"`, true}, {`" 2"`, true}, {`"2.00"`, true},
		{`3`, false}, {`"abc"`, false}, {`"ABC"`, false}, {`null`, false}, {`"0x"`, false}, {`"2_0"`, false},
	} {
		m, id, ok := f.looseMatch([]byte(c.id))
		if ok != c.match || (ok && (m != "tools/list" || string(id) != "2")) {
			t.Errorf("looseMatch(%s) = %q, %s, %v; want match %v", c.id, m, id, ok, c.match)
		}
	}
}
