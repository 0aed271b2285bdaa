package shim

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"github.com/srt-mcp/srt-mcp/sandbox"
)

// Event kinds and decisions of the trace schema (docs/traces.md).
const (
	KindNetwork    = "network"
	KindFSRead     = "fs-read"
	KindFSWrite    = "fs-write"
	KindUnixSocket = "unix-socket"
	KindTool       = "tool"
	KindSandbox    = "sandbox"
	KindProcess    = "process" // a program started (audit only)

	DecisionDeny      = "deny"
	DecisionWouldDeny = "would-deny"
	DecisionError     = "error"
	DecisionAllow     = "allow" // audit only: an observation, not a violation
)

// Event is one violation, as written to the trace.
type Event struct {
	Time     time.Time
	Kind     string
	Op       string
	Target   string
	Decision string
	Rule     string
	// Detail is multi-line evidence (a tool's diff): indented under the
	// stderr line, and appended to rule, after a newline, in the trace.
	Detail   string
	InFlight []CallRef
}

// CallRef names an MCP request that was in flight when an event happened.
type CallRef struct {
	ID        json.RawMessage `json:"id"`
	Method    string          `json:"method"`
	Tool      string          `json:"tool,omitempty"`
	ArgNames  []string        `json:"argNames,omitempty"`
	ArgDigest string          `json:"argDigest,omitempty"`
}

// Tracer writes one JSON-lines file per server. Events that happen before
// the server's name is known (it comes with the initialize response) wait
// in memory.
type Tracer struct {
	mu       sync.Mutex
	dir      string
	server   string // "" until known
	fallback string // used at Close if the server never said its name
	run      string
	file     *os.File
	log      zerolog.Logger
	pending  []Event
	ignore   func(Event) bool
	err      error // the first write error, reported once
	stderr   io.Writer
}

// NewTracer prepares a tracer. name is --name ("" to learn it from the
// server), fallback the command's base name.
func NewTracer(dir, name, fallback string, ignore func(Event) bool, stderr io.Writer) *Tracer {
	var id [8]byte
	rand.Read(id[:])
	if ignore == nil {
		ignore = func(Event) bool { return false }
	}
	t := &Tracer{dir: dir, fallback: fallback, run: hex.EncodeToString(id[:]), ignore: ignore, stderr: stderr}
	if name != "" {
		t.setServerLocked(name)
	}
	return t
}

// Server is the server's name, "" until known.
func (t *Tracer) Server() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.server
}

// Run is this run's id.
func (t *Tracer) Run() string { return t.run }

// SetServer names the server from its initialize response, unless --name
// already did.
func (t *Tracer) SetServer(name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.server == "" && name != "" {
		t.setServerLocked(name)
	}
}

func (t *Tracer) setServerLocked(name string) {
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
	t.log = zerolog.New(f)
	for _, e := range t.pending {
		t.write(e)
	}
	t.pending = nil
}

// Record adds an event (unless ignoreViolations silences it) and reports
// whether it was kept.
func (t *Tracer) Record(e Event) bool {
	if t.ignore(e) {
		return false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.server == "" {
		if len(t.pending) < 10000 {
			t.pending = append(t.pending, e)
		}
		return true
	}
	t.write(e)
	return true
}

func (t *Tracer) write(e Event) {
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
	mcp, _ := json.Marshal(struct {
		InFlight  []CallRef `json:"inFlight"`
		Ambiguous bool      `json:"ambiguous"`
	}{inFlight, len(inFlight) > 1})
	t.log.Log().
		Str("time", e.Time.UTC().Format(time.RFC3339Nano)).
		Str("server", t.server).
		Str("run", t.run).
		Str("kind", e.Kind).
		Str("op", e.Op).
		Str("target", e.Target).
		Str("decision", e.Decision).
		Str("rule", rule).
		RawJSON("mcp", mcp).
		Send()
}

func (t *Tracer) fail(err error) {
	if t.err == nil {
		t.err = err
		fmt.Fprintf(t.stderr, "srt-mcp: cannot write the trace: %v\n", err)
	}
}

// Close writes what waited for a name under the fallback name.
func (t *Tracer) Close() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.server == "" && len(t.pending) > 0 {
		t.setServerLocked(t.fallback)
	}
	if t.file != nil {
		t.file.Close()
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

// DefaultTraceDir is $XDG_STATE_HOME/srt-mcp/traces, or
// ~/.local/state/srt-mcp/traces.
func DefaultTraceDir() string {
	return filepath.Join(stateDir(), "traces")
}

// stateDir is sandbox.StateDir for this user: the policy protects the
// same directory the shim keeps its state in.
func stateDir() string {
	home, err := os.UserHomeDir()
	if err != nil && !filepath.IsAbs(os.Getenv("XDG_STATE_HOME")) {
		return filepath.Join(os.TempDir(), "srt-mcp-state")
	}
	return sandbox.StateDir(home)
}

// digestKey returns the per-user key that argument digests are keyed with,
// creating it on first use. With a key, a digest of a short secret cannot be
// reversed by hashing guesses.
func digestKey() func() hash.Hash {
	path := filepath.Join(stateDir(), "digest.key")
	key, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) || err == nil && len(key) != 32 {
		key = make([]byte, 32)
		rand.Read(key)
		if os.MkdirAll(filepath.Dir(path), 0o700) == nil {
			// A racing writer may win; either key works for this run.
			_ = os.WriteFile(path, key, 0o600)
		}
	} else if err != nil {
		key = make([]byte, 32)
		rand.Read(key) // unreadable: digests are comparable within this run only
	}
	return func() hash.Hash { return hmac.New(sha256.New, key) }
}
