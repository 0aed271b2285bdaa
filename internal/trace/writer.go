package trace

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Event is one violation or observation as a producer reports it. The
// writer turns it into a Record.
type Event struct {
	Time     time.Time
	Kind     Kind
	Op       Op
	Target   string
	Decision Decision
	Rule     string
	// Detail is multi-line evidence (a tool's diff): indented under the
	// stderr line, and appended to rule, after a newline, in the trace.
	Detail   string
	InFlight []CallRef
}

// maxPending bounds the events kept in memory before the server's name
// (and so the file) is known.
const maxPending = 10000

// Writer writes one JSON-lines file per server. Events that happen before
// the server's name is known (it comes with the initialize response) wait
// in memory.
type Writer struct {
	mu       sync.Mutex
	dir      string
	server   string // "" until known
	fallback string // used at Close if the server never said its name
	run      string
	file     *os.File
	line     bytes.Buffer // the line being written
	pending  []Event
	ignore   func(Event) bool
	err      error // the first write error, reported once
	stderr   io.Writer
}

// NewWriter prepares a writer. name is --name ("" to learn it from the
// server), fallback the command's base name. ignore silences events
// (ignoreViolations); nil keeps all.
func NewWriter(dir, name, fallback string, ignore func(Event) bool, stderr io.Writer) *Writer {
	var id [8]byte
	rand.Read(id[:]) // never fails (crypto/rand panics rather)
	if ignore == nil {
		ignore = func(Event) bool { return false }
	}
	t := &Writer{dir: dir, fallback: fallback, run: hex.EncodeToString(id[:]), ignore: ignore, stderr: stderr}
	if name != "" {
		t.setServerLocked(name)
	}
	return t
}

// Server is the server's name, "" until known.
func (t *Writer) Server() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.server
}

// Run is this run's id.
func (t *Writer) Run() string { return t.run }

// SetServer names the server from its initialize response, unless --name
// already did.
func (t *Writer) SetServer(name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.server == "" && name != "" {
		t.setServerLocked(name)
	}
}

func (t *Writer) setServerLocked(name string) {
	t.server = name
	if err := os.MkdirAll(t.dir, 0o700); err != nil {
		t.fail(err)
		return
	}
	f, err := os.OpenFile(filepath.Join(t.dir, FileName(name)), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.fail(err)
		return
	}
	t.file = f
	for _, e := range t.pending {
		t.write(e)
	}
	t.pending = nil
}

// Add records an event (unless ignore silences it) and reports whether it
// was kept.
func (t *Writer) Add(e Event) bool {
	if t.ignore(e) {
		return false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.server == "" {
		if len(t.pending) < maxPending {
			t.pending = append(t.pending, e)
		}
		return true
	}
	t.write(e)
	return true
}

// write appends one line with a single write(2): a trace must hold every
// event up to the moment srt-mcp is killed, and with O_APPEND one write
// keeps the line whole when two runs of the same server share the file.
func (t *Writer) write(e Event) {
	if t.file == nil {
		return
	}
	inFlight := e.InFlight
	if inFlight == nil {
		inFlight = []CallRef{}
	}
	rule := e.Rule
	if e.Detail != "" {
		rule += "\n" + e.Detail
	}
	rec := Record{
		Time:     e.Time.UTC().Format(time.RFC3339Nano),
		Server:   t.server,
		Run:      t.run,
		Kind:     e.Kind,
		Op:       e.Op,
		Target:   e.Target,
		Decision: e.Decision,
		Rule:     rule,
		MCP:      MCP{InFlight: inFlight, Ambiguous: len(inFlight) > 1},
	}
	t.line.Reset()
	enc := json.NewEncoder(&t.line)
	// The trace is read by programs and, escaped, by people: < > & in a
	// path or host stay as they are.
	enc.SetEscapeHTML(false)
	if err := enc.Encode(&rec); err != nil {
		t.fail(err)
		return
	}
	if _, err := t.file.Write(t.line.Bytes()); err != nil {
		t.fail(err)
	}
}

func (t *Writer) fail(err error) {
	if t.err == nil {
		t.err = err
		fmt.Fprintf(t.stderr, "srt-mcp: cannot write the trace: %v\n", err)
	}
}

// Close writes what waited for a name under the fallback name.
func (t *Writer) Close() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.server == "" && len(t.pending) > 0 {
		t.setServerLocked(t.fallback)
	}
	if t.file != nil {
		if err := t.file.Close(); err != nil {
			t.fail(err)
		}
		t.file = nil
	}
}

// FileName is the trace file of a server: its name with anything outside
// [A-Za-z0-9._-] replaced, so a server cannot pick a path.
func FileName(server string) string {
	var b strings.Builder
	for _, r := range server {
		if r < 128 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	name := strings.TrimLeft(b.String(), ".")
	if name == "" {
		name = "server"
	}
	return name + ".jsonl"
}
