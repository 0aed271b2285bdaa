package shim

import (
	"strings"
	"testing"

	"github.com/srt-mcp/srt-mcp/internal/jsonrpc"
)

func TestStrictResponse(t *testing.T) {
	tool := `{"name":"a","description":"d","inputSchema":{"type":"object"}}`
	for _, tc := range []struct {
		name, method, msg string
		ok                bool
	}{
		{"plain list", "tools/list", `{"jsonrpc":"2.0","id":1,"result":{"tools":[` + tool + `]}}` + "\n", true},
		{"CRLF", "tools/list", `{"jsonrpc":"2.0","id":1,"result":{"tools":[]}}` + "\r\n", true},
		{"unterminated", "tools/list", `{"jsonrpc":"2.0","id":1,"result":{"tools":[]}}`, true},
		{"error response", "tools/list", `{"jsonrpc":"2.0","id":1,"error":{"code":1,"message":"m"}}` + "\n", true},
		{"initialize", "initialize", `{"jsonrpc":"2.0","id":1,"result":{"instructions":"x","serverInfo":{"name":"s"}}}` + "\n", true},
		{"second value", "tools/list", `{"id":1,"result":{"tools":[]}} {"id":1,"result":{"tools":[` + tool + `]}}` + "\n", false},
		{"bare CR", "tools/list", `{"id":1,"result":{"tools":[]},` + "\r" + `"x":1}` + "\n", false},
		{"Result next to result", "tools/list", `{"id":1,"result":{"tools":[]},"Result":{"tools":[` + tool + `]}}` + "\n", false},
		{"duplicate result", "tools/list", `{"id":1,"result":{"tools":[]},"result":{"tools":[` + tool + `]}}` + "\n", false},
		{"Tools next to tools", "tools/list", `{"id":1,"result":{"tools":[],"TOOLS":[` + tool + `]}}` + "\n", false},
		{"a tool with two descriptions", "tools/list", `{"id":1,"result":{"tools":[{"name":"a","description":"evil","Description":"benign"}]}}` + "\n", false},
		{"a tool with a long-s key", "tools/list", `{"id":1,"result":{"tools":[{"name":"a","de\u017fcription":"x","description":"y"}]}}` + "\n", false},
		{"two instructions", "initialize", `{"id":1,"result":{"instructions":"evil","Instructions":"benign"}}` + "\n", false},
		{"tools not an array", "tools/list", `{"id":1,"result":{"tools":{}}}` + "\n", false},
		{"invalid JSON", "tools/list", `{"id":1,"result":{"tools":[tru]}}` + "\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			why := strictResponse([]byte(tc.msg), tc.method)
			if (why == "") != tc.ok {
				t.Errorf("strictResponse = %q, want ok=%v", why, tc.ok)
			}
		})
	}
}

func TestFoldKey(t *testing.T) {
	for _, tc := range []struct {
		a, b  string
		equal bool
	}{
		{"params", "PARAMS", true},
		{"params", "param\u017f", true}, // long s
		{"kind", "\u212aind", true},     // Kelvin sign
		{"name", "nam", false},
		{"name", "nime", false},
	} {
		if got := foldKey(tc.a) == foldKey(tc.b); got != tc.equal {
			t.Errorf("foldKey(%q) == foldKey(%q): %v, want %v", tc.a, tc.b, got, tc.equal)
		}
	}
}

// TestResultFirstAnswersWhileListDue: while a tools/list is unanswered, a
// line whose id is not seen in its first MiB (the TypeScript SDK writes
// the result before the id) is held, not streamed: it may be that list.
// The list is then filtered; another request's answer held that way is
// relayed whole, or, over the limit, replaced by an error so that its
// client does not wait for ever.
func TestResultFirstAnswersWhileListDue(t *testing.T) {
	r, _, replies := gateRun(t)
	r.inflight.add(&jsonrpc.Envelope{ID: []byte("1"), Method: "tools/list"})
	r.inflight.add(&jsonrpc.Envelope{ID: []byte("2"), Method: "tools/call", ToolName: "big"})
	r.inflight.add(&jsonrpc.Envelope{ID: []byte("3"), Method: "tools/call", ToolName: "huge"})
	pad := strings.Repeat("x", 2<<20)
	server := `{"result":{"content":[{"type":"text","text":"` + pad + `"}]},"jsonrpc":"2.0","id":2}` + "\n" +
		`{"result":{"content":[{"type":"text","text":"` + strings.Repeat("y", listFilterLimit+2<<20) + `"}]},"jsonrpc":"2.0","id":3}` + "\n" +
		`{"result":{"tools":[{"name":"padding","description":"` + pad + `"},{"name":"denied_tool"},{"name":"ok"}]},"jsonrpc":"2.0","id":1}` + "\n"
	if err := gatedPump(r.out, strings.NewReader(server), jsonrpc.NewScanner(r.fromServer), r.serverGate()); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(replies.String(), "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines relayed, want 3", len(lines))
	}
	if !strings.HasSuffix(lines[0], `"id":2}`) || len(lines[0]) < 2<<20 {
		t.Errorf("the large answer to 2 was not relayed whole: %.200s", lines[0])
	}
	if !strings.Contains(lines[1], `"id":3`) || !strings.Contains(lines[1], "-32004") || strings.Contains(lines[1], "yyyy") {
		t.Errorf("the answer to 3, over the limit, was not replaced by an error: %.200s", lines[1])
	}
	if strings.Contains(lines[2], "denied_tool") || !strings.Contains(lines[2], `"ok"`) {
		t.Errorf("the list was not filtered: %.200s", lines[2])
	}
	if calls := r.inflight.drain(); len(calls) != 0 {
		t.Errorf("%d requests still in flight", len(calls))
	}
}
