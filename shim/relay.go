package shim

import (
	"bytes"
	"encoding/json"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/srt-mcp/srt-mcp/internal/jsonrpc"
)

// relayBufSize is the chunk size of both relays. Pipes hand over at most
// their capacity per read (64 KiB by default, more after F_SETPIPE_SZ), so a
// larger buffer only helps when the pipe was enlarged.
const relayBufSize = 256 << 10

// pump copies src to dst chunk by chunk. Each chunk is scanned before it is
// written, so a request is known to be in flight before the server can have
// read the end of it, and its reply cannot overtake the bookkeeping.
func pump(dst io.Writer, src io.Reader, sc *jsonrpc.Scanner) error {
	buf := make([]byte, relayBufSize)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			sc.Scan(buf[:n])
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			finishLastLine(sc)
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// finishLastLine ends a stream's unterminated last line in the scanner
// only, so that a complete last message (a response the server wrote
// without a newline before it exited) is seen and counts as answered. A
// line that is not one well-formed message is not reported: a truncated
// response must leave its request unanswered, so the shim answers it.
func finishLastLine(sc *jsonrpc.Scanner) {
	var envs []jsonrpc.Envelope
	emit := sc.SwapEmit(func(e *jsonrpc.Envelope) { envs = append(envs, *e) })
	sc.ScanLine([]byte{'\n'})
	sc.SwapEmit(emit)
	if sc.Line().Bad {
		return
	}
	for i := range envs {
		emit(&envs[i])
	}
}

// messageWriter is the shim's stdout. The server's bytes stream through it
// unchanged; the shim's own messages (error replies) are only ever written
// between two of the server's messages, never inside one.
type messageWriter struct {
	mu     sync.Mutex
	w      io.Writer
	inside bool // the server's current message is incomplete: mu is held
	failed bool // the client went away; later writes are dropped
	// open: the server's output ended in the middle of a line. Its bytes
	// stay as they are; a message of the shim's that follows starts with
	// a newline of its own, so that the client can still parse it.
	open bool
}

// Write relays a chunk of the server's output.
func (m *messageWriter) Write(p []byte) (int, error) {
	if !m.inside {
		m.mu.Lock()
		m.inside = true
	}
	var err error
	if !m.failed {
		if _, err = m.w.Write(p); err != nil {
			m.failed = true
		}
	}
	if len(p) > 0 && p[len(p)-1] == '\n' {
		m.inside = false
		m.mu.Unlock()
	}
	// A vanished client must not stop the server's output from draining.
	return len(p), nil
}

// endStream marks the end of the server's output. If it stopped in the
// middle of a line (the server died while writing, or its last message has
// no newline), nothing is added to the server's bytes; the shim's own
// messages after it start with a newline instead (inject).
func (m *messageWriter) endStream() {
	if m.inside {
		m.open = true
		m.inside = false
		m.mu.Unlock()
	}
}

// inject writes one complete message of the shim's own.
func (m *messageWriter) inject(msg []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.open {
		// Separate it from the server's unterminated last line.
		msg = append([]byte{'\n'}, msg...)
		m.open = false
	}
	if !m.failed {
		if _, err := m.w.Write(msg); err != nil {
			m.failed = true
		}
	}
}

// call is a request from the client the server has not answered yet.
type call struct {
	id        []byte
	method    string
	tool      string
	argNames  []string
	argDigest string
	start     time.Time
	end       time.Time // zero while in flight
}

// inflight tracks the client's requests awaiting a reply, in arrival order,
// and remembers the last few answered ones with their times, so that an
// event judged a little after it happened is still attributed to the calls
// in flight at that moment.
type inflight struct {
	mu     sync.Mutex
	calls  map[string]*call
	order  []string
	recent []*call // answered calls, oldest first, at most maxRecent
}

const maxRecent = 256

func newInflight() *inflight { return &inflight{calls: map[string]*call{}} }

// idKey normalises a raw JSON id so that "7" and 7 stay distinct but
// insignificant differences (spacing, string escapes) do not matter.
func idKey(raw []byte) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return "s:" + s
		}
	}
	return "v:" + string(raw)
}

func (f *inflight) add(e *jsonrpc.Envelope) {
	k := idKey(e.ID)
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, dup := f.calls[k]; !dup {
		f.order = append(f.order, k)
	}
	f.calls[k] = &call{id: e.ID, method: e.Method, tool: e.ToolName, argNames: append([]string(nil), e.ArgNames...), argDigest: e.ArgDigest, start: time.Now()}
}

func (f *inflight) remove(rawID []byte) {
	k := idKey(rawID)
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.calls[k]
	if !ok {
		return
	}
	delete(f.calls, k)
	c.end = time.Now()
	if len(f.recent) == maxRecent {
		f.recent = f.recent[1:]
	}
	f.recent = append(f.recent, c)
	// Compact lazily: order only grows by the number of requests between
	// two compactions, and replies usually come back in order.
	if len(f.order) > 64 && len(f.order) > 2*len(f.calls) {
		kept := f.order[:0]
		for _, o := range f.order {
			if _, live := f.calls[o]; live {
				kept = append(kept, o)
			}
		}
		f.order = kept
	}
}

// method returns the method of the request with this id in flight, or "".
func (f *inflight) method(rawID []byte) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c, ok := f.calls[idKey(rawID)]; ok {
		return c.method
	}
	return ""
}

// anyMethod reports whether a request whose method satisfies match is in
// flight.
func (f *inflight) anyMethod(match func(string) bool) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.calls {
		if match(c.method) {
			return true
		}
	}
	return false
}

// looseMatch returns the method and exact id of a request in flight whose id
// a lenient client would take to be rawID although the two differ as JSON:
// the TypeScript SDK compares Number(id), so a reply with id "2", 2.0, 2e0,
// "0x2" or " 2" answers request 2 for it. ok is false when rawID matches a
// request exactly, or none at all.
func (f *inflight) looseMatch(rawID []byte) (method string, id []byte, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, exact := f.calls[idKey(rawID)]; exact {
		return "", nil, false
	}
	want, numeric := jsNumber(rawID)
	if !numeric {
		return "", nil, false
	}
	for _, k := range f.order {
		c, live := f.calls[k]
		if !live {
			continue
		}
		if got, isNum := jsNumber(c.id); isNum && got == want {
			return c.method, c.id, true
		}
	}
	return "", nil, false
}

// jsNumber reads a JSON id the way JavaScript's Number() does: a number,
// or a string of a decimal, hex (0x), octal (0o) or binary (0b) number,
// blanks around it allowed. An empty or blank string is 0 there.
func jsNumber(raw []byte) (float64, bool) {
	raw = bytes.TrimSpace(raw)
	s := string(raw)
	if len(raw) > 0 && raw[0] == '"' {
		if json.Unmarshal(raw, &s) != nil {
			return 0, false
		}
		s = strings.TrimSpace(s)
		if s == "" {
			return 0, true
		}
		lower := strings.ToLower(s)
		for prefix, base := range map[string]int{"0x": 16, "0o": 8, "0b": 2} {
			if strings.HasPrefix(lower, prefix) {
				n, err := strconv.ParseUint(lower[2:], base, 64)
				return float64(n), err == nil
			}
		}
	}
	if s == "" || strings.ContainsAny(s, "_") || strings.HasPrefix(strings.ToLower(strings.TrimLeft(s, "+-")), "0x") {
		return 0, false // ParseFloat accepts these; Number() does not
	}
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil
}

// drain returns the unanswered calls in arrival order and forgets them.
func (f *inflight) drain() []*call {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*call
	for _, k := range f.order {
		if c, ok := f.calls[k]; ok {
			out = append(out, c)
			delete(f.calls, k)
		}
	}
	f.order = nil
	return out
}

// at lists the calls that were in flight at time t, oldest first.
func (f *inflight) at(t time.Time) []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []call
	for _, c := range f.recent {
		if !c.start.After(t) && !c.end.Before(t) {
			out = append(out, *c)
		}
	}
	for _, k := range f.order {
		if c, ok := f.calls[k]; ok && !c.start.After(t) {
			out = append(out, *c)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].start.Before(out[j].start) })
	return out
}

// tail keeps the last lines written to it, for error replies that say why
// the server died.
type tail struct {
	mu    sync.Mutex
	lines []string
	cur   []byte
	max   int
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, c := range p {
		if c == '\n' {
			t.push()
			continue
		}
		if len(t.cur) < 512 {
			t.cur = append(t.cur, c)
		}
	}
	return len(p), nil
}

func (t *tail) push() {
	t.lines = append(t.lines, string(t.cur))
	if len(t.lines) > t.max {
		t.lines = t.lines[len(t.lines)-t.max:]
	}
	t.cur = t.cur[:0]
}

func (t *tail) Lines() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := append([]string(nil), t.lines...)
	if len(t.cur) > 0 {
		out = append(out, string(t.cur))
	}
	return out
}
