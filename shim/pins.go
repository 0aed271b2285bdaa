package shim

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/srt-mcp/srt-mcp/internal/textdiff"

	"github.com/srt-mcp/srt-mcp/internal/trace"

	"github.com/srt-mcp/srt-mcp/internal/statedir"
)

// ToolDef is what a pin records of one tool.
type ToolDef struct {
	Digest      string          `json:"digest"`
	Description string          `json:"description"`
	InputSchema json.RawMessage `json:"inputSchema,omitempty"`
}

// PinSet is a server's definitions at one point: the srt-mcp policy it ran
// under, its instructions, its tools.
type PinSet struct {
	Policy       string             `json:"policy"`
	Instructions string             `json:"instructions"`
	Tools        map[string]ToolDef `json:"tools"`
}

// PinFile is the state of one server's pins: what the user accepted (or
// what was seen first: trust on first use) and what was seen since and
// differs, waiting for `srt-mcp pins accept`.
type PinFile struct {
	Server   string  `json:"server"`
	Accepted *PinSet `json:"accepted"`
	Pending  *PinSet `json:"pending,omitempty"`
	Updated  string  `json:"updated"`
}

// PinsDir is $XDG_STATE_HOME/srt-mcp/pins.
func PinsDir() string { return filepath.Join(statedir.Path(), "pins") }

// LoadPins reads a server's pin file (nil when there is none).
func LoadPins(dir, server string) (*PinFile, error) {
	data, err := os.ReadFile(filepath.Join(dir, pinFileName(server)))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var p PinFile
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("pin file of %s: %w", server, err)
	}
	return &p, nil
}

// SavePins writes a server's pin file atomically.
func SavePins(dir string, p *PinFile) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	p.Updated = time.Now().UTC().Format(time.RFC3339)
	data, _ := json.MarshalIndent(p, "", "  ")
	tmp, err := os.CreateTemp(dir, ".pins-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), filepath.Join(dir, pinFileName(p.Server)))
}

func pinFileName(server string) string {
	name := trace.FileName(server)
	return name[:len(name)-len(".jsonl")] + ".json"
}

// AcceptPins makes what is pending the accepted state.
func AcceptPins(dir, server string) (*PinFile, error) {
	p, err := LoadPins(dir, server)
	if err != nil {
		return nil, err
	}
	if p == nil {
		return nil, fmt.Errorf("no pins recorded for %q", server)
	}
	if p.Pending == nil {
		return p, nil
	}
	p.Accepted, p.Pending = p.Pending, nil
	return p, SavePins(dir, p)
}

func digestJSON(v any) string {
	b, _ := json.Marshal(v) // maps marshal with sorted keys: canonical enough
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:16])
}

// toolDef builds the pin of one tool from its tools/list entry.
func toolDef(raw json.RawMessage) (string, ToolDef, bool) {
	var t struct {
		Name        string          `json:"name"`
		Description string          `json:"description"`
		InputSchema json.RawMessage `json:"inputSchema"`
	}
	if json.Unmarshal(raw, &t) != nil || t.Name == "" {
		return "", ToolDef{}, false
	}
	var schema any
	json.Unmarshal(t.InputSchema, &schema)
	canonical, _ := json.Marshal(schema)
	return t.Name, ToolDef{
		Digest:      digestJSON(map[string]any{"name": t.Name, "description": t.Description, "inputSchema": schema}),
		Description: t.Description,
		InputSchema: canonical,
	}, true
}

// pins is one session's view of a server's pins.
type pins struct {
	mu         sync.Mutex
	dir        string
	policy     string
	file       *PinFile
	observed   PinSet
	blockAll   string            // why every call is blocked, if so
	blocked    map[string]string // tool -> why its calls are blocked
	report     func(trace.Event) // records tool-changed events
	server     string
	saveFailed bool
	// firstUse: no pins existed when this session started, so everything
	// it observes is trusted (trust on first use).
	firstUse bool
}

func newPins(dir, policyDigest string, report func(trace.Event)) *pins {
	return &pins{dir: dir, policy: policyDigest, blocked: map[string]string{}, report: report,
		observed: PinSet{Policy: policyDigest, Tools: map[string]ToolDef{}}}
}

// setServer loads the pins once the server's name is known.
func (p *pins) setServer(name string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.server != "" {
		return
	}
	p.server = name
	f, err := LoadPins(p.dir, name)
	if err != nil {
		p.blockAll = err.Error() + " (fix or remove the file)"
		return
	}
	p.file = f
	if f == nil || f.Accepted == nil {
		p.firstUse = true
		p.file = &PinFile{Server: name}
	}
	if !p.firstUse && f.Accepted.Policy != p.policy {
		p.blockAll = "the srt-mcp policy for this server changed since its tools were accepted"
		p.report(trace.Event{Time: time.Now(), Kind: trace.KindTool, Op: trace.OpPolicyChanged, Target: name, Decision: trace.DecisionDeny, Rule: p.blockAll})
	}
	p.persistLocked()
}

// observeInstructions pins the server's instructions (initialize result).
func (p *pins) observeInstructions(text string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.observed.Instructions = digestJSON(text)
	if !p.firstUse && p.file != nil && p.file.Accepted.Instructions != "" && p.file.Accepted.Instructions != p.observed.Instructions {
		p.blockAll = "the server's instructions changed since they were accepted"
		p.report(trace.Event{Time: time.Now(), Kind: trace.KindTool, Op: trace.OpToolChanged, Target: "(instructions)", Decision: trace.DecisionDeny, Rule: p.blockAll})
	}
	p.persistLocked()
}

// observeTools pins the tools of a tools/list page and blocks the ones
// that are new or changed since the accepted state.
func (p *pins) observeTools(defs map[string]ToolDef) {
	p.mu.Lock()
	defer p.mu.Unlock()
	names := make([]string, 0, len(defs))
	for n := range defs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		d := defs[name]
		p.observed.Tools[name] = d
		if p.firstUse || p.file == nil {
			continue // first use: trusted
		}
		old, known := p.file.Accepted.Tools[name]
		switch {
		case !known:
			p.blocked[name] = "new tool since the server's tools were accepted"
		case old.Digest != d.Digest:
			p.blocked[name] = "tool definition changed since it was accepted"
		default:
			delete(p.blocked, name)
			continue
		}
		p.report(trace.Event{Time: time.Now(), Kind: trace.KindTool, Op: trace.OpToolChanged, Target: name, Decision: trace.DecisionDeny,
			Rule: p.blocked[name], Detail: ToolDiff(name, old, d, known)})
	}
	p.persistLocked()
}

// persistLocked writes the pins: the first observations become the
// accepted state; later differences become pending.
func (p *pins) persistLocked() {
	if p.server == "" {
		return
	}
	obs := p.observed
	if p.file == nil {
		return // the pin file could not be read: nothing is overwritten
	}
	if p.firstUse {
		p.file.Accepted = &PinSet{Policy: obs.Policy, Instructions: obs.Instructions, Tools: copyTools(obs.Tools)}
	} else {
		acc := p.file.Accepted
		// Tools the accepted state has and this session did not list yet
		// stay as accepted.
		merged := copyTools(acc.Tools)
		for n, d := range obs.Tools {
			merged[n] = d
		}
		instr := obs.Instructions
		if instr == "" {
			instr = acc.Instructions
		}
		next := &PinSet{Policy: obs.Policy, Instructions: instr, Tools: merged}
		if digestJSON(next) != digestJSON(acc) {
			p.file.Pending = next
		} else {
			p.file.Pending = nil
		}
		if p.file.Accepted.Instructions == "" && obs.Instructions != "" && p.file.Pending == nil {
			p.file.Accepted.Instructions = obs.Instructions
		}
	}
	if err := SavePins(p.dir, p.file); err != nil && !p.saveFailed {
		p.saveFailed = true
		p.report(trace.Event{Time: time.Now(), Kind: trace.KindSandbox, Op: trace.OpPins, Target: p.dir, Decision: trace.DecisionError, Rule: "cannot save tool pins: " + err.Error()})
	}
}

func copyTools(m map[string]ToolDef) map[string]ToolDef {
	out := make(map[string]ToolDef, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// callBlocked says whether calls to tool are blocked by the pins.
func (p *pins) callBlocked(tool string) (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.blockAll != "" {
		return p.blockAll, true
	}
	why, ok := p.blocked[tool]
	return why, ok
}

// ToolDiff renders what changed in a tool, for people.
func ToolDiff(name string, old, cur ToolDef, known bool) string {
	render := func(d ToolDef) string {
		var schema any
		json.Unmarshal(d.InputSchema, &schema)
		s, _ := json.MarshalIndent(schema, "", "  ")
		// A multi-line description keeps its lines, indented, so that no
		// line of the server's text can start a line of its own (a forged
		// "srt-mcp:" line in pins show, or a diff marker).
		return "description: " + strings.ReplaceAll(d.Description, "\n", "\n  ") + "\ninputSchema: " + string(s) + "\n"
	}
	if !known {
		return "+ new tool " + name + "\n" + render(cur)
	}
	return lineDiff(render(old), render(cur))
}

// lineDiff marks removed and added lines.
func lineDiff(a, b string) string {
	var out strings.Builder
	for _, l := range textdiff.Lines(a, b) {
		if l.Op == ' ' {
			out.WriteString("  " + l.Text + "\n")
		} else {
			out.WriteString(string(l.Op) + " " + l.Text + "\n")
		}
	}
	return out.String()
}
