package jsonrpc

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"hash"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// scanAll returns the envelopes found in input, fed in chunks of size n
// (0: all at once).
func scanAll(input []byte, n int) []Envelope {
	var out []Envelope
	sc := NewScanner(func(e *Envelope) {
		c := *e
		c.ID = append([]byte(nil), e.ID...)
		if e.ID == nil {
			c.ID = nil
		}
		c.ArgNames = append([]string(nil), e.ArgNames...)
		if e.ArgNames == nil {
			c.ArgNames = nil
		}
		c.ArgDigest = "" // compared separately (TestScannerArgumentDigest)
		out = append(out, c)
	})
	sc.DigestArguments(testDigest)
	if n == 0 {
		sc.Scan(input)
		return out
	}
	for len(input) > 0 {
		k := min(n, len(input))
		sc.Scan(input[:k])
		input = input[k:]
	}
	return out
}

func TestScannerEnvelopes(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want []Envelope
	}{
		{"request", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"fetch","arguments":{"name":"not this","url":"x"}}}` + "\n",
			[]Envelope{{ID: []byte("1"), Method: "tools/call", ToolName: "fetch", ArgNames: []string{"name", "url"}}}},
		{"key order and spacing", ` { "params" : { "arguments" : { "x" : [1, {"name":"deep"}] }, "name" : "t" } , "method":"tools/call" , "id" : "a\"b" }` + "\r\n",
			[]Envelope{{ID: []byte(`"a\"b"`), Method: "tools/call", ToolName: "t", ArgNames: []string{"x"}}}},
		{"big integer id kept as written", `{"id":12345678901234567891,"method":"ping"}` + "\n",
			[]Envelope{{ID: []byte("12345678901234567891"), Method: "ping"}}},
		{"response", `{"jsonrpc":"2.0","id":"x","result":{"content":[{"type":"text","text":"}\"{"}]}}` + "\n",
			[]Envelope{{ID: []byte(`"x"`), HasResult: true}}},
		{"error response", `{"jsonrpc":"2.0","id":3,"error":{"code":-1,"message":"m"}}` + "\n",
			[]Envelope{{ID: []byte("3"), HasError: true}}},
		{"server info", `{"id":0,"result":{"protocolVersion":"x","serverInfo":{"name":"probe","version":"1"},"name":"no"}}` + "\n",
			[]Envelope{{ID: []byte("0"), HasResult: true, ServerName: "probe"}}},
		{"notification with cancel", `{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":7,"reason":"r"}}` + "\n",
			[]Envelope{{Method: "notifications/cancelled", RequestID: []byte("7")}}},
		{"escaped key", `{"\u0069d":5,"method":"m"}` + "\n",
			[]Envelope{{ID: []byte("5"), Method: "m"}}},
		{"null result", `{"id":1,"result":null}` + "\n",
			[]Envelope{{ID: []byte("1"), HasResult: true}}},
		// Objects and arrays nested deeper than the keys the scanner
		// remembers (tool schemas as the TypeScript SDK writes them: the
		// memory server's create_entities, result first) are read as
		// well-formed, and the id after them is found: a comma there used
		// to be taken for one between array elements, making the line
		// malformed and losing the id.
		{"deep schema, result first", `{"result":{"tools":[{"name":"create_entities","inputSchema":{"type":"object","properties":{"entities":{"type":"array","items":{"type":"object","properties":{"name":{"type":"string","description":"d"},"observations":{"type":"array","items":{"type":"string"},"description":"d"}},"required":["name","observations"],"additionalProperties":false}}},"required":["entities"]}}]},"jsonrpc":"2.0","id":1}` + "\n",
			[]Envelope{{ID: []byte("1"), HasResult: true}}},
		{"deep empty array, result first", `{"result":{"tools":[{"outputSchema":{"properties":{"a":{"items":{"required":[],"x":[[]]}}}}}]},"jsonrpc":"2.0","id":1}` + "\n",
			[]Envelope{{ID: []byte("1"), HasResult: true}}},
		{"deep mismatched closer", `{"id":1,"result":{"a":{"b":{"c":{"d":{"e":{"f":{"g":{"h":1]}}}}}}}}` + "\n",
			[]Envelope{{ID: []byte("1"), HasResult: true, Malformed: true}}},
		{"deeper than encoding/json follows", `{"id":1,"result":` + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + `}` + "\n",
			[]Envelope{{ID: []byte("1"), HasResult: true, Malformed: true}}},
		{"deep empty array, id first", `{"jsonrpc":"2.0","id":2,"result":{"tools":[{"outputSchema":{"properties":{"a":{"items":{"required":[]}}}}}]}}` + "\n",
			[]Envelope{{ID: []byte("2"), HasResult: true}}},
		{"batch", `[{"id":1,"method":"a"},{"id":2,"method":"b","params":{"name":"n"}},{"method":"c"}]` + "\n",
			[]Envelope{{ID: []byte("1"), Method: "a", Batch: true}, {ID: []byte("2"), Method: "b", ToolName: "n", Batch: true}, {Method: "c", Batch: true}}},
		{"two messages and a blank line", "{\"id\":1,\"method\":\"a\"}\n\n  \n{\"id\":2,\"result\":{}}\n",
			[]Envelope{{ID: []byte("1"), Method: "a"}, {ID: []byte("2"), HasResult: true}}},
		{"garbage line", "not json\n{\"id\":2,\"method\":\"b\"}\n",
			[]Envelope{{Malformed: true}, {ID: []byte("2"), Method: "b"}}},
		{"truncated line", "{\"id\":9,\"method\":\"a\",\"params\":{\"x\":\"unterminated\n",
			[]Envelope{{ID: []byte("9"), Method: "a", Malformed: true}}},
		{"trailing garbage", "{\"id\":1,\"method\":\"a\"} x\n",
			[]Envelope{{ID: []byte("1"), Method: "a", Malformed: true}}},
		{"top-level string", "\"hello\"\n", []Envelope{{Malformed: true}}},
		{"backslashes before quote", `{"method":"a\\","id":1}` + "\n",
			[]Envelope{{ID: []byte("1"), Method: `a\`}}},
		{"no newline yet", `{"id":1,"method":"a"}`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, n := range []int{0, 1, 2, 3, 7} {
				got := scanAll([]byte(tc.in), n)
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("chunk size %d (-want +got):\n%s", n, diff)
				}
			}
		})
	}
}

func testDigest() hash.Hash { return hmac.New(sha256.New, []byte("test key")) }

// digests returns the ArgDigest of each message in input, scanned in
// chunks of n bytes.
func digests(input string, n int) []string {
	var out []string
	sc := NewScanner(func(e *Envelope) { out = append(out, e.ArgDigest) })
	sc.DigestArguments(testDigest)
	for p := []byte(input); len(p) > 0; {
		k := min(n, len(p))
		sc.Scan(p[:k])
		p = p[k:]
	}
	return out
}

func TestScannerArgumentDigest(t *testing.T) {
	in := `{"id":1,"method":"tools/call","params":{"name":"a","arguments":{"token":"s3cret","n":[1,{"x":"}"}]}}}` + "\n" +
		`{"id":2,"method":"tools/call","params":{"arguments":{"token":"s3cret","n":[1,{"x":"}"}]},"name":"b"}}` + "\n" +
		`{"id":3,"method":"tools/call","params":{"name":"a","arguments":{"token":"other","n":[1,{"x":"}"}]}}}` + "\n" +
		`{"id":4,"method":"ping"}` + "\n"
	whole := digests(in, len(in))
	if len(whole) != 4 || whole[0] == "" || whole[0] != whole[1] || whole[0] == whole[2] || whole[3] != "" {
		t.Fatalf("digests %q: want equal for equal arguments, different otherwise, none without arguments", whole)
	}
	mac := hmac.New(sha256.New, []byte("test key"))
	mac.Write([]byte(`{"token":"s3cret","n":[1,{"x":"}"}]}`))
	if want := "hmac-sha256:" + hex.EncodeToString(mac.Sum(nil))[:32]; whole[0] != want {
		t.Errorf("digest %s, want the HMAC of the raw arguments object %s", whole[0], want)
	}
	for _, n := range []int{1, 2, 5, 13} {
		if got := digests(in, n); !slices.Equal(got, whole) {
			t.Errorf("chunk size %d: %q, want %q", n, got, whole)
		}
	}
	if strings.Contains(strings.Join(whole, ""), "s3cret") {
		t.Error("a digest contains the secret")
	}
}

func TestScannerLongValuesAreNotHeld(t *testing.T) {
	big := bytes.Repeat([]byte("a"), 10<<20)
	msg := append([]byte(`{"method":"`), big...)
	msg = append(msg, `","id":1}`+"\n"...)
	got := scanAll(msg, 64<<10)
	// The method is too long to capture; the id after it is still found.
	// The line is marked malformed: a gate cannot see which method the
	// server would read, so it must not relay the line.
	want := []Envelope{{ID: []byte("1"), Malformed: true}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// reference derives the envelope of one valid JSON object with
// encoding/json, for the fuzz comparison.
func reference(line []byte) (Envelope, bool) {
	var m map[string]json.RawMessage
	if json.Unmarshal(line, &m) != nil {
		return Envelope{}, false
	}
	var e Envelope
	scalar := func(raw json.RawMessage) []byte {
		raw = bytes.TrimSpace(raw)
		if len(raw) == 0 || raw[0] == '{' || raw[0] == '[' || len(raw) > maxCapture {
			return nil
		}
		return raw
	}
	str := func(raw json.RawMessage) string {
		var s string
		if b := scalar(raw); b != nil {
			_ = json.Unmarshal(b, &s)
		}
		return s
	}
	if id, ok := m["id"]; ok {
		e.ID = scalar(id)
	}
	e.Method = str(m["method"])
	_, e.HasResult = m["result"]
	_, e.HasError = m["error"]
	var params map[string]json.RawMessage
	if json.Unmarshal(m["params"], &params) == nil {
		e.ToolName = str(params["name"])
		if r, ok := params["requestId"]; ok {
			e.RequestID = scalar(r)
		}
		e.ArgNames = objectKeys(params["arguments"])
	}
	var result struct {
		ServerInfo map[string]json.RawMessage `json:"serverInfo"`
	}
	var resultMap map[string]json.RawMessage
	if json.Unmarshal(m["result"], &resultMap) == nil {
		if si, ok := resultMap["serverInfo"]; ok && json.Unmarshal(si, &result.ServerInfo) == nil {
			e.ServerName = str(result.ServerInfo["name"])
		}
	}
	return e, true
}

// objectKeys lists the keys of a JSON object in order (nil for anything
// else, or when a key is longer than the scanner keeps).
func objectKeys(raw json.RawMessage) []string {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil
		}
		k := tok.(string)
		if len(k) > maxKey || len(keys) == maxArgNames {
			return nil
		}
		keys = append(keys, k)
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			return nil
		}
	}
	if keys == nil {
		return nil
	}
	return keys
}

func FuzzScanner(f *testing.F) {
	for _, s := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"fetch"}}`,
		`{"id":"a\\\"b","result":{"serverInfo":{"name":"x"}}}`,
		`[{"id":1,"method":"a"}]`,
		`{"method":"notifications/cancelled","params":{"requestId":"r"}}`,
		`{"id":1e3,"error":{}}`,
		"{\"id\":1}\n{\"id\":2",
		`{"a":[[[{"id":9}]]],"id":null}`,
	} {
		f.Add([]byte(s), uint8(3))
	}
	f.Fuzz(func(t *testing.T, data []byte, chunk uint8) {
		// Whatever the input, chunking never changes what is found.
		whole := scanAll(data, 0)
		chunked := scanAll(data, int(chunk)+1)
		if diff := cmp.Diff(whole, chunked); diff != "" {
			t.Fatalf("chunking changed the result (-whole +chunked):\n%s", diff)
		}
		// A single valid JSON object line gives what encoding/json sees.
		if bytes.IndexByte(data, '\n') >= 0 || !json.Valid(data) {
			return
		}
		want, ok := reference(data)
		if !ok {
			return
		}
		got := scanAll(append(append([]byte(nil), data...), '\n'), 0)
		if len(got) != 1 {
			t.Fatalf("got %d envelopes for one object", len(got))
		}
		if want.ArgNames == nil {
			got[0].ArgNames = nil // long or too many keys: not compared
		}
		// Malformed also flags valid JSON that parsers may read
		// differently (FuzzScannerGate checks that); not compared here.
		got[0].Malformed = false
		if diff := cmp.Diff(want, got[0]); diff != "" {
			t.Fatalf("envelope of %q (-encoding/json +scanner):\n%s", data, diff)
		}
	})
}

// FuzzScannerGate: whenever the scanner accepts a line (Line().Bad is
// false) and encoding/json finds it valid, a Go server decoding it the way
// mcp-go does (struct fields, case-insensitive keys, last duplicate wins)
// sees exactly the method, tool name and id the gate saw. Lines with
// anything but one value are never accepted.
func FuzzScannerGate(f *testing.F) {
	for _, s := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"fetch"}}`,
		`{"id":1,"method":"tools/call","params":{"Name":"x"}}`,
		`{"id":1,"method":"tools/call","params":{"name":"a","name":"b"}}`,
		`{"id":1,"METHOD":"tools/call","params":{"name":"a"}}`,
		`{"id":1,"method":"tools/call","param\u017f":{"name":"a"}}`,
		`{"id":1,"method":"tools/call"} {"id":2}`,
		"{\"id\":1}\r{\"id\":2}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if bytes.IndexByte(data, '\n') >= 0 {
			return
		}
		var envs []Envelope
		sc := NewScanner(func(e *Envelope) { envs = append(envs, *e) })
		sc.Scan(append(append([]byte(nil), data...), '\n'))
		line := sc.Line()
		if line.Bad || line.Blank {
			return
		}
		trimmed := bytes.TrimRight(data, "\r")
		dec := json.NewDecoder(bytes.NewReader(trimmed))
		var first json.RawMessage
		if dec.Decode(&first) == nil && dec.More() {
			t.Fatalf("accepted a line with more than one value: %q", data)
		}
		if !json.Valid(trimmed) || len(envs) != 1 || envs[0].Batch {
			return // the gate also checks json.Valid; batches are refused when gated
		}
		var m struct {
			ID     json.RawMessage
			Method string
			Params struct{ Name string }
		}
		if json.Unmarshal(trimmed, &m) != nil {
			return // the server would reject it
		}
		e := envs[0]
		if m.Method != e.Method || m.Params.Name != e.ToolName || !bytes.Equal(bytes.TrimSpace(m.ID), e.ID) && !(m.ID == nil && e.ID == nil) {
			t.Fatalf("%q: a Go server reads method %q name %q id %s; the gate saw %q %q %s", data, m.Method, m.Params.Name, m.ID, e.Method, e.ToolName, e.ID)
		}
	})
}

// TestScannerLineVerdict: the line-level verdict a gate relies on. Each
// refused line is one a server parsing a JSON stream, splitting at a bare
// CR or NUL, skipping a BOM, or matching keys like encoding/json could read
// differently from the gate.
func TestScannerLineVerdict(t *testing.T) {
	call := func(id, tool string) string {
		return `{"jsonrpc":"2.0","id":` + id + `,"method":"tools/call","params":{"name":"` + tool + `"}}`
	}
	for _, tc := range []struct {
		name  string
		line  string
		bad   bool
		blank bool
		ids   []string // ids of the envelopes found
	}{
		{"one request", call("1", "a"), false, false, []string{"1"}},
		{"CRLF", call("1", "a") + "\r", false, false, []string{"1"}},
		{"spaces around", "  " + call("1", "a") + " \t", false, false, []string{"1"}},
		{"batch", "[" + call("1", "a") + "," + call("2", "b") + "]", false, false, []string{"1", "2"}},
		{"empty", "", false, true, nil},
		{"blank", " \t \r", false, true, nil},
		{"two values", call("1", "a") + " " + call("2", "b"), true, false, []string{"1", "2"}},
		{"two values adjacent", call("1", "a") + call("2", "b"), true, false, []string{"1", "2"}},
		{"value and batch", call("1", "a") + "[" + call("2", "b") + "]", true, false, []string{"1", "2"}},
		{"bare CR between values", call("1", "a") + "\r" + call("2", "b"), true, false, []string{"1", "2"}},
		{"bare CR inside", `{"id":1,"method":"m",` + "\r" + `"params":{}}`, true, false, []string{"1"}},
		{"CR then space", call("1", "a") + "\r ", true, false, []string{"1"}},
		{"NUL after", call("1", "a") + "\x00", true, false, []string{"1"}},
		{"NUL in a string", `{"id":1,"method":"tools/call","params":{"name":"a` + "\x00" + `b"}}`, true, false, []string{"1"}},
		{"raw tab in a string", `{"id":1,"method":"m","params":{"x":"a` + "\t" + `b"}}`, true, false, []string{"1"}},
		{"escaped controls are fine", `{"id":1,"method":"m","params":{"x":"a\t\r\n\u0000b"}}`, false, false, []string{"1"}},
		{"BOM", "\xef\xbb\xbf" + call("1", "a"), true, false, nil},
		{"garbage after", call("1", "a") + " x", true, false, []string{"1"}},
		{"truncated", `{"id":1,"method":"m"`, true, false, []string{"1"}},
		{"scalar", `42`, true, false, nil},
		{"duplicate name", `{"id":1,"method":"tools/call","params":{"name":"a","name":"b"}}`, true, false, []string{"1"}},
		{"duplicate name, escaped", `{"id":1,"method":"tools/call","params":{"name":"a","n\u0061me":"b"}}`, true, false, []string{"1"}},
		{"duplicate method", `{"id":1,"method":"ping","method":"tools/call"}`, true, false, []string{"1"}},
		{"duplicate params", `{"id":1,"method":"tools/call","params":{"name":"a"},"params":{"name":"b"}}`, true, false, []string{"1"}},
		{"duplicate id", `{"id":1,"id":2,"method":"ping"}`, true, false, []string{"2"}},
		{"Name", `{"id":1,"method":"tools/call","params":{"Name":"b"}}`, true, false, []string{"1"}},
		{"METHOD", `{"id":1,"METHOD":"tools/call"}`, true, false, []string{"1"}},
		{"Kelvin sign is not k, long s is s", `{"id":1,"method":"tools/call","param\u017f":{"name":"b"}}`, true, false, []string{"1"}},
		{"invalid escape in a key", `{"id":1,"method":"m","p\qarams":{}}`, true, false, []string{"1"}},
		{"invalid escape in the tool name", `{"id":1,"method":"tools/call","params":{"name":"denied\_tool"}}`, true, false, []string{"1"}},
		{"non-string method", `{"id":1,"method":7}`, true, false, []string{"1"}},
		{"escaped NUL in the tool name", `{"id":1,"method":"tools/call","params":{"name":"denied_tool\u0000x"}}`, true, false, []string{"1"}},
		{"BOM in the tool name", `{"id":1,"method":"tools/call","params":{"name":"\ufeffdenied_tool"}}`, true, false, []string{"1"}},
		{"blank around the tool name", `{"id":1,"method":"tools/call","params":{"name":" denied_tool"}}`, true, false, []string{"1"}},
		{"unicode tool name is fine", `{"id":1,"method":"tools/call","params":{"name":"café.search-1"}}`, false, false, []string{"1"}},
		{"name deep in arguments is fine", `{"id":1,"method":"tools/call","params":{"name":"a","arguments":{"name":"x","Name":"y","name":"z"}}}`, false, false, []string{"1"}},
		{"other keys may repeat", `{"id":1,"method":"m","x":1,"x":2,"X":3}`, false, false, []string{"1"}},
		{"batch element with a duplicate", "[" + call("1", "a") + `,{"id":2,"method":"tools/call","params":{"name":"a","name":"b"}}]`, true, false, []string{"1", "2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, chunk := range []int{0, 1, 7} {
				var ids []string
				sc := NewScanner(func(e *Envelope) {
					if e.ID != nil {
						ids = append(ids, string(e.ID))
					}
				})
				in := []byte(tc.line + "\n")
				if chunk == 0 {
					sc.Scan(in)
				} else {
					for len(in) > 0 {
						k := min(chunk, len(in))
						sc.Scan(in[:k])
						in = in[k:]
					}
				}
				got := sc.Line()
				if got.Bad != tc.bad || got.Blank != tc.blank {
					t.Errorf("chunk %d: %+v, want bad %v blank %v", chunk, got, tc.bad, tc.blank)
				}
				if !slices.Equal(ids, tc.ids) {
					t.Errorf("chunk %d: ids %q, want %q", chunk, ids, tc.ids)
				}
			}
		})
	}
}

// TestScannerSafeLen: before the end of a line is known, only a prefix that
// is not a complete value and holds no CR may be handed on.
func TestScannerSafeLen(t *testing.T) {
	for _, tc := range []struct {
		in   string // scanned without a newline
		want int
	}{
		{`{"id":1,"method":"m","params":{"x":"ab`, len(`{"id":1,"method":"m","params":{"x":"ab`)},
		{`{"id":1}`, len(`{"id":1`)},
		{`{"id":1}   `, len(`{"id":1`)},
		{`{"id":1,` + "\r", len(`{"id":1,`)},
		{`  [{"id":1}]`, len(`  [{"id":1}`)},
	} {
		for _, chunk := range []int{0, 1, 5} {
			sc := NewScanner(func(*Envelope) {})
			in := []byte(tc.in)
			if chunk == 0 {
				sc.Scan(in)
			} else {
				for len(in) > 0 {
					k := min(chunk, len(in))
					sc.Scan(in[:k])
					in = in[k:]
				}
			}
			if got := sc.SafeLen(); got != tc.want {
				t.Errorf("SafeLen after %q (chunk %d) = %d, want %d", tc.in, chunk, got, tc.want)
			}
		}
	}
}
