//go:build unix

package e2e

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/srt-mcp/srt-mcp/internal/probe"
	"github.com/srt-mcp/srt-mcp/internal/testbin"
)

// call renders one tools/call request.
func call(id int, tool string) string {
	return `{"jsonrpc":"2.0","id":` + itoa(id) + `,"method":"tools/call","params":{"name":"` + tool + `","arguments":{}}}`
}

// framingAttacks are client lines that smuggle a call to denied_tool past
// a gate that looks at the first JSON value, at the first occurrence of a
// key, or at exact key names, to a server that parses a JSON stream
// leniently (probe.ServeJSONStream). ids lists the request ids the shim
// can find in the line (it stops looking at garbage): each must be answered
// with an error; nothing of the line may reach the server.
var framingAttacks = []struct {
	name string
	line string
	ids  []int
}{
	{"two values, space", call(1, "allowed") + " " + call(2, "denied_tool"), []int{1, 2}},
	{"two values, adjacent", call(3, "allowed") + call(4, "denied_tool"), []int{3, 4}},
	{"two values, bare CR", call(5, "allowed") + "\r" + call(6, "denied_tool"), []int{5, 6}},
	{"bare CR inside one value", `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"allowed"},"x":` + "\r" + call(8, "denied_tool") + "\r}", []int{7}},
	{"NUL between values", call(9, "allowed") + "\x00" + call(10, "denied_tool"), []int{9}},
	{"UTF-8 BOM", "\xef\xbb\xbf" + call(11, "denied_tool"), nil}, // no id found: one error with id null
	{"value then garbage", call(12, "allowed") + " //" + call(13, "denied_tool"), []int{12}},
	{"duplicate name", `{"jsonrpc":"2.0","id":14,"method":"tools/call","params":{"name":"allowed","name":"denied_tool"}}`, []int{14}},
	{"duplicate name, escaped key", `{"jsonrpc":"2.0","id":15,"method":"tools/call","params":{"name":"allowed","n\u0061me":"denied_tool"}}`, []int{15}},
	{"duplicate method", `{"jsonrpc":"2.0","id":16,"method":"ping","params":{"name":"denied_tool"},"method":"tools/call"}`, []int{16}},
	{"duplicate params", `{"jsonrpc":"2.0","id":17,"method":"tools/call","params":{"name":"allowed"},"params":{"name":"denied_tool"}}`, []int{17}},
	{"key in another case: Name", `{"jsonrpc":"2.0","id":18,"method":"tools/call","params":{"Name":"denied_tool"}}`, []int{18}},
	{"key in another case: Method", `{"jsonrpc":"2.0","id":19,"Method":"tools/call","params":{"name":"denied_tool"}}`, []int{19}},
	{"key folding to params (long s)", `{"jsonrpc":"2.0","id":20,"method":"tools/call","param` + "\u017f" + `":{"name":"denied_tool"}}`, []int{20}},
	{"batch with a denied call", "[" + call(21, "allowed") + "," + call(22, "denied_tool") + "]", []int{21, 22}},
	{"escaped NUL in the tool name", `{"jsonrpc":"2.0","id":24,"method":"tools/call","params":{"name":"denied_tool\u0000x"}}`, []int{24}},
	{"blank before the tool name", `{"jsonrpc":"2.0","id":25,"method":"tools/call","params":{"name":" denied_tool"}}`, []int{25}},
	{"raw tab inside a string", `{"jsonrpc":"2.0","id":23,"method":"tools/call","params":{"name":"denied_tool` + "\t" + `"}}`, []int{23}},
}

// TestToolGateFraming: none of the framing tricks above gets denied_tool
// to a server that parses a JSON stream, as root and as the unprivileged
// user; every refused line is answered with errors for its ids; blank
// lines are harmless; and a 64 MiB call to an allowed tool is relayed
// intact, while the same call with a denied call behind it on the line is
// refused.
func TestToolGateFraming(t *testing.T) {
	ForEachUser(t, func(t *testing.T, u User) {
		w := NewWorld(t, u)
		record := filepath.Join(w.Project, "received.txt")
		settings := w.Settings(t, `{"mcp": {"tools": {"deny": ["denied_tool"]}}}`)
		c := startRaw(t, w, "--settings", settings, "--", testbin.Probe(t), "--json-stream", record)

		c.send(t, `{"jsonrpc":"2.0","id":100,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`+"\n")
		c.wait(t, 100)
		c.send(t, `{"jsonrpc":"2.0","id":101,"method":"tools/list"}`+"\n")
		if list := c.wait(t, 101); strings.Contains(list, "denied_tool") {
			t.Errorf("tools/list still offers the denied tool: %s", list)
		}
		if r := c.roundTrip(t, 102, call(102, "allowed")+"\n"); !strings.Contains(r, "called allowed") {
			t.Fatalf("an allowed call did not reach the server: %s", r)
		}

		for _, a := range framingAttacks {
			c.send(t, a.line+"\n")
		}
		c.send(t, "\n  \t \r\n") // blank lines: nothing to relay, nothing to answer
		// 64 MiB: one allowed call passes intact; with a denied call
		// behind it on the line, the whole line is refused.
		big := `{"jsonrpc":"2.0","id":200,"method":"tools/call","params":{"name":"allowed","arguments":{"blob":"` + probe.Pattern(64<<20) + `"}}}`
		if r := c.roundTrip(t, 200, big+"\n"); !strings.Contains(r, "called allowed") {
			t.Errorf("a 64 MiB allowed call was not relayed: %.200s", r)
		}
		c.send(t, strings.Replace(big, ":200,", ":201,", 1)+call(202, "denied_tool")+"\n")
		if r := c.roundTrip(t, 203, call(203, "allowed")+"\n"); !strings.Contains(r, "called allowed") {
			t.Fatalf("the server stopped answering after the attacks: %s", r)
		}

		got, err := os.ReadFile(record)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(got), "denied_tool") {
			t.Errorf("ESCAPE: the server received a call to the denied tool; it recorded:\n%s", got)
		}
		for _, a := range framingAttacks {
			for _, id := range a.ids {
				if r, ok := c.byID[id]; !ok || !strings.Contains(r, `"error"`) {
					t.Errorf("%s: id %d was answered with %q, want a JSON-RPC error from srt-mcp", a.name, id, r)
				}
			}
		}
		if c.nulls == 0 {
			t.Error("no error with id null for the line in which no id could be found")
		}
		if r := c.byID[201]; !strings.Contains(r, `"error"`) {
			t.Errorf("64 MiB call followed by a denied call: id 201 answered with %.200q, want an error", r)
		}
		if t.Failed() {
			t.Logf("srt-mcp stderr:\n%s", c.stderr.String())
		}
	})
}

// rawClient speaks newline-delimited JSON-RPC to srt-mcp byte for byte, so
// a test can send what no MCP library would.
type rawClient struct {
	cmd    *exec.Cmd
	in     io.WriteCloser
	lines  chan string
	byID   map[int]string
	nulls  int // responses with id null
	stderr *syncBuffer
}

func startRaw(t *testing.T, w *World, args ...string) *rawClient {
	t.Helper()
	testbin.RequireBwrap(t)
	c := &rawClient{lines: make(chan string, 64), byID: map[int]string{}, stderr: &syncBuffer{t: t}}
	c.cmd = w.Command(w.Project, append([]string{testbin.SrtMCP(t)}, args...)...)
	c.cmd.Stderr = c.stderr
	var err error
	if c.in, err = c.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	out, err := c.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		r := bufio.NewReaderSize(out, 1<<20)
		for {
			l, err := r.ReadString('\n')
			if l != "" {
				c.lines <- l
			}
			if err != nil {
				close(c.lines)
				return
			}
		}
	}()
	t.Cleanup(func() {
		c.in.Close()
		for range c.lines {
		}
		c.cmd.Wait()
	})
	return c
}

func (c *rawClient) send(t *testing.T, s string) {
	t.Helper()
	if _, err := io.WriteString(c.in, s); err != nil {
		t.Fatalf("writing to srt-mcp: %v\nstderr:\n%s", err, c.stderr.String())
	}
}

// wait reads responses until the one for id arrives, and returns it.
func (c *rawClient) wait(t *testing.T, id int) string {
	t.Helper()
	timeout := time.After(60 * time.Second)
	for {
		select {
		case l, ok := <-c.lines:
			if !ok {
				t.Fatalf("srt-mcp closed stdout before answering id %d\nstderr:\n%s", id, c.stderr.String())
			}
			var m struct {
				ID json.RawMessage `json:"id"`
			}
			// The first value on the line (a malicious server may send
			// more than one).
			json.NewDecoder(strings.NewReader(l)).Decode(&m)
			var n int
			if string(m.ID) == "null" {
				c.nulls++
			} else if json.Unmarshal(m.ID, &n) == nil {
				if _, dup := c.byID[n]; dup {
					t.Errorf("id %d answered twice: %.200q", n, l)
				}
				c.byID[n] = l
				if n == id {
					return l
				}
			}
		case <-timeout:
			t.Fatalf("no answer for id %d\nstderr:\n%s", id, c.stderr.String())
		}
	}
}

func (c *rawClient) roundTrip(t *testing.T, id int, line string) string {
	t.Helper()
	c.send(t, line)
	return c.wait(t, id)
}

// TestToolListFraming: a server answers tools/list so that a client sees
// denied_tool while the gate, which filters the list and pins it, does
// not: a "Result" key a Go client reads (encoding/json matches keys
// case-insensitively and the last one wins) next to the "result" the gate
// reads; a second value on the line, for a client that parses a JSON
// stream; a list padded past what the gate can hold; an id that differs
// from the request's as JSON ("101", 101.0) but that the TypeScript SDK
// takes for it (found by an outside review). The client must never
// receive denied_tool; it gets an error instead.
func TestToolListFraming(t *testing.T) {
	ForEachUser(t, func(t *testing.T, u User) {
		for _, variant := range []string{"list-case", "list-two-values", "list-huge", "list-id-string", "list-id-float"} {
			t.Run(variant, func(t *testing.T) {
				w := NewWorld(t, u)
				w.Env = append(w.Env, "PROBE_VARIANT="+variant)
				settings := w.Settings(t, `{"mcp": {"tools": {"deny": ["denied_tool"]}}}`)
				c := startRaw(t, w, "--settings", settings, "--", testbin.Probe(t), "--json-stream", filepath.Join(w.Project, "received.txt"))
				c.send(t, `{"jsonrpc":"2.0","id":100,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`+"\n")
				c.wait(t, 100)
				c.send(t, `{"jsonrpc":"2.0","id":101,"method":"tools/list"}`+"\n")
				list := c.wait(t, 101)
				if strings.Contains(list, "denied_tool") {
					t.Errorf("ESCAPE: the client was shown the denied tool: %.300s", list)
				}
				if !strings.Contains(list, `"error"`) {
					t.Errorf("the ambiguous tools/list was not answered with an error: %.300s", list)
				}
			})
		}
	})
}
