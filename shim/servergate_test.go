package shim

import "testing"

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
