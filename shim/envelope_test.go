package shim

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
	want := []Envelope{{ID: []byte("1")}}
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
		if diff := cmp.Diff(want, got[0]); diff != "" {
			t.Fatalf("envelope of %q (-encoding/json +scanner):\n%s", data, diff)
		}
	})
}
