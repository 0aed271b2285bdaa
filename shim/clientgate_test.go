package shim

import (
	"bytes"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/srt-mcp/srt-mcp/internal/safetext"
	"github.com/srt-mcp/srt-mcp/sandbox"

	"github.com/srt-mcp/srt-mcp/internal/jsonrpc"

	"github.com/srt-mcp/srt-mcp/internal/trace"
)

// gateRun is a run with just what the client gate needs: a tool policy
// denying denied_tool, and buffers for the server's input, the shim's
// replies and stderr.
func gateRun(t *testing.T) (*run, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	replies, stderr := &bytes.Buffer{}, &bytes.Buffer{}
	msgs := safetext.MessageWriter{W: stderr}
	r := &run{
		out:      &messageWriter{w: replies},
		inflight: newInflight(),
		stderr:   msgs,
		denials:  newLimiter(time.Nanosecond),
		tracer:   trace.NewWriter(t.TempDir(), "gate-test", "gate-test", nil, msgs),
		tools:    &toolGuard{mcp: sandbox.MCPSettings{ToolsDeny: []string{"denied_tool"}}},
		fallback: "gate-test",
	}
	t.Cleanup(r.tracer.Close)
	return r, &bytes.Buffer{}, replies
}

func gateCall(id int, tool string) string {
	return `{"jsonrpc":"2.0","id":` + strconv.Itoa(id) + `,"method":"tools/call","params":{"name":"` + tool + `","arguments":{}}}`
}

// bigCall is a call whose arguments make the line longer than the gate
// holds, so it streams.
func bigCall(id int, tool string) string {
	return `{"jsonrpc":"2.0","id":` + strconv.Itoa(id) + `,"method":"tools/call","params":{"name":"` + tool + `","arguments":{"blob":"` + strings.Repeat("x", 3*lineHoldLimit) + `"}}}`
}

// replyIDs lists the ids and codes of the shim's error replies.
func replyIDs(t *testing.T, replies []byte) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, l := range bytes.Split(bytes.TrimSpace(replies), []byte("\n")) {
		if len(l) == 0 {
			continue
		}
		var m struct {
			ID    json.RawMessage    `json:"id"`
			Error struct{ Code int } `json:"error"`
		}
		if err := json.Unmarshal(l, &m); err != nil {
			t.Fatalf("reply is not JSON: %q", l)
		}
		out[string(m.ID)] = m.Error.Code
	}
	return out
}

func TestClientGate(t *testing.T) {
	big := bigCall(7, "allowed")
	// A client's answer to a server request, result first as the
	// TypeScript SDK writes it.
	bigResponse := `{"result":{"content":{"type":"text","text":"` + strings.Repeat("y", 2*lineHoldLimit) + `"}},"jsonrpc":"2.0","id":4}`
	for _, tc := range []struct {
		name    string
		in      string
		relayed string         // what the server must receive
		replies map[string]int // id -> error code of the shim's replies
	}{
		{"allowed call", gateCall(1, "allowed") + "\n", gateCall(1, "allowed") + "\n", map[string]int{}},
		{"CRLF kept", gateCall(1, "allowed") + "\r\n", gateCall(1, "allowed") + "\r\n", map[string]int{}},
		{"other methods pass", `{"jsonrpc":"2.0","id":1,"method":"tools/list"}` + "\n" + `{"jsonrpc":"2.0","method":"notifications/initialized"}` + "\n",
			`{"jsonrpc":"2.0","id":1,"method":"tools/list"}` + "\n" + `{"jsonrpc":"2.0","method":"notifications/initialized"}` + "\n", map[string]int{}},
		{"denied call", gateCall(1, "denied_tool") + "\n", "", map[string]int{"1": jsonrpc.CodeToolBlocked}},
		{"denied notification: no reply", `{"jsonrpc":"2.0","method":"tools/call","params":{"name":"denied_tool"}}` + "\n", "", map[string]int{}},
		{"two values", gateCall(1, "allowed") + " " + gateCall(2, "denied_tool") + "\n", "", map[string]int{"1": jsonrpc.CodeInvalidRequest, "2": jsonrpc.CodeInvalidRequest}},
		{"bare CR", gateCall(1, "allowed") + "\r" + gateCall(2, "denied_tool") + "\n", "", map[string]int{"1": jsonrpc.CodeInvalidRequest, "2": jsonrpc.CodeInvalidRequest}},
		{"BOM", "\xef\xbb\xbf" + gateCall(1, "allowed") + "\n", "", map[string]int{"null": jsonrpc.CodeInvalidRequest}},
		{"not valid JSON that the scanner lets through", `{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":tru}}` + "\n", "", map[string]int{"1": jsonrpc.CodeInvalidRequest}},
		{"a response is refused without an answer", `{"jsonrpc":"2.0","id":5,"result":{}} x` + "\n", "", map[string]int{"null": jsonrpc.CodeInvalidRequest}},
		{"blank lines dropped", "\n \t\r\n" + gateCall(1, "allowed") + "\n", gateCall(1, "allowed") + "\n", map[string]int{}},
		{"batch with a call", "[" + gateCall(1, "allowed") + "]\n", "", map[string]int{"1": jsonrpc.CodeToolBlocked}},
		{"batch without a call", `[{"jsonrpc":"2.0","id":1,"method":"ping"}]` + "\n", `[{"jsonrpc":"2.0","id":1,"method":"ping"}]` + "\n", map[string]int{}},
		{"unterminated last line relayed as sent", gateCall(1, "allowed"), gateCall(1, "allowed"), map[string]int{}},
		{"unterminated bad last line", gateCall(1, "allowed") + "x", "", map[string]int{"1": jsonrpc.CodeInvalidRequest}},
		{"refusal does not spill into the next line", gateCall(1, "denied_tool") + "\n" + gateCall(2, "allowed") + "\n", gateCall(2, "allowed") + "\n", map[string]int{"1": jsonrpc.CodeToolBlocked}},
		{"long allowed call streams intact", big + "\n", big + "\n", map[string]int{}},
		// Too long to hold: the server gets at most a prefix that is not a
		// complete value, ended with a newline.
		{"long call, second value behind it", big + gateCall(8, "denied_tool") + "\n", "*prefix", map[string]int{"7": jsonrpc.CodeInvalidRequest, "8": jsonrpc.CodeInvalidRequest}},
		{"long call, duplicate name at the end", strings.TrimSuffix(big, "}}") + `,"name":"denied_tool"}}` + "\n", "*prefix", map[string]int{"7": jsonrpc.CodeInvalidRequest}},
		{"long call, bare CR at the end", big + "\r " + "\n", "*prefix", map[string]int{"7": jsonrpc.CodeInvalidRequest}},
		{"long denied call", bigCall(9, "denied_tool") + "\n", "", map[string]int{"9": jsonrpc.CodeToolBlocked}},
		{"long call naming its tool too late", `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"arguments":{"blob":"` + strings.Repeat("x", 2*lineHoldLimit) + `"},"name":"allowed"}}` + "\n", "", map[string]int{"3": jsonrpc.CodeInvalidRequest}},
		{"long batch", "[" + big + "]\n", "", map[string]int{"7": jsonrpc.CodeInvalidRequest}},
		{"long response, id last, streams intact", bigResponse + "\n", bigResponse + "\n", map[string]int{}},
		{"long \"response\" that turns into a denied call", strings.TrimSuffix(bigResponse, "}") + `,"method":"tools/call","params":{"name":"denied_tool"}}` + "\n", "*prefix", map[string]int{"4": jsonrpc.CodeToolBlocked}},
		{"long message without method or result", `{"jsonrpc":"2.0","x":"` + strings.Repeat("x", 2*lineHoldLimit) + `","id":1,"method":"ping"}` + "\n", "", map[string]int{"1": jsonrpc.CodeInvalidRequest}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, rd := range []struct {
				name string
				wrap func(io.Reader) io.Reader
			}{{"whole", func(r io.Reader) io.Reader { return r }}, {"bytes", iotest.OneByteReader}, {"halves", iotest.HalfReader}} {
				if rd.name == "bytes" && len(tc.in) > 1<<16 {
					continue // byte by byte through megabytes is slow, and halves cover chunking
				}
				r, server, replies := gateRun(t)
				sc := jsonrpc.NewScanner(r.fromClient)
				if err := r.gateClient(server, rd.wrap(strings.NewReader(tc.in)), sc); err != nil {
					t.Fatal(err)
				}
				got := server.String()
				if tc.relayed == "*prefix" {
					if !strings.HasSuffix(got, "\n") || json.Valid([]byte(strings.TrimSpace(got))) || !strings.HasPrefix(tc.in, strings.TrimSuffix(got, "\n")) {
						t.Errorf("%s: the server got %.80q…, want an incomplete prefix of the line and a newline", rd.name, got)
					}
				} else if got != tc.relayed {
					t.Errorf("%s: the server got %.200q (%d bytes), want %.200q (%d bytes)", rd.name, got, len(got), tc.relayed, len(tc.relayed))
				}
				if ids := replyIDs(t, replies.Bytes()); !equalMaps(ids, tc.replies) {
					t.Errorf("%s: replies %v, want %v", rd.name, ids, tc.replies)
				}
			}
		})
	}
}

func equalMaps(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
