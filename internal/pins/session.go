package pins

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/srt-mcp/srt-mcp/internal/trace"
)

// Session is one run's view of a configured server's pins: it loads them
// at the start (they are keyed by the server the user configured, known
// before the server says anything), compares what the server shows with
// what was accepted, blocks the calls to tools that are new or changed,
// and saves what it saw (the first listing as accepted, later differences
// as pending). It is safe for concurrent use.
type Session struct {
	mu         sync.Mutex
	dir        string
	id         Identity
	file       *PinFile
	observed   PinSet
	blockAll   string            // why every call is blocked, if so
	blocked    map[string]string // tool -> why its calls are blocked
	report     func(trace.Event) // records tool-changed events
	reported   bool              // SetServer was called
	saveFailed bool
	// firstUse: no pins existed when this session started, so everything
	// it observes is trusted (trust on first use).
	firstUse bool
	// listed: a tools/list was answered in this session. Trust on first
	// use starts there, not at the session's start: a session that only
	// initializes (a health check, a client that connects and leaves)
	// has seen no tools, and pinning its empty set would refuse every
	// tool forever after.
	listed bool
	// lastPending is what earlier runs left pending, and so already
	// reported with its diff; announced is what this run reported (name,
	// or "(instructions)", -> digest). A change is shown once with its
	// diff; while it stays pending, a run says so in one short line, not
	// the whole diff of every changed tool on every start.
	lastPending  *PinSet
	announced    map[string]string
	stillPending []string // changes pending since earlier runs, not yet summarised
}

// NewSession starts a session for the pins of the configured server id in
// dir. report receives the tool-changed events and a failure to save.
func NewSession(dir string, id Identity, report func(trace.Event)) *Session {
	p := &Session{dir: dir, id: id, blocked: map[string]string{}, report: report,
		observed: PinSet{Tools: map[string]ToolDef{}}, announced: map[string]string{}}
	f, err := Load(dir, id.Key)
	if err != nil {
		p.blockAll = err.Error() + " (fix or remove the file)"
		return p
	}
	p.file = f
	if f != nil {
		p.lastPending = f.Pending
	}
	if f == nil || f.Accepted == nil {
		p.firstUse = true
		p.file = &PinFile{Key: id.Key}
	}
	// The file says who it belongs to, for pins list; refreshed each run
	// (--name and the command line are the user's words, not the server's).
	p.file.Name, p.file.Command = id.Name, id.Command
	return p
}

// Ref is how the user names these pins to `srt-mcp pins`: --name when
// given, else the key.
func (p *Session) Ref() string { return p.refLocked() }

// refLocked is Ref; id never changes, so it needs no lock either.
func (p *Session) refLocked() string {
	if p.id.Name != "" {
		return p.id.Name
	}
	return p.id.Key
}

// SetServer records the serverInfo.name the server reported, for people.
// It never selects the pins. On first use, before any tools/list, it may
// seed them from a legacy pin file of that name (written when pins were
// keyed by it): that can only narrow what first use would trust, since
// first use trusts whatever the server shows, while a seeded state blocks
// every tool that differs from what the user accepted back then. A legacy
// file without tools is not adopted: it is what the old first-use bug
// left behind after a session that never listed tools, and adopting it
// would refuse every tool.
func (p *Session) SetServer(name string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.reported || p.file == nil {
		return
	}
	p.reported = true
	p.file.Server = name
	if !p.firstUse || p.listed {
		return
	}
	old, err := LoadLegacy(p.dir, name)
	if err != nil || old == nil || old.Accepted == nil || len(old.Accepted.Tools) == 0 {
		return
	}
	p.firstUse = false
	p.file.Accepted = &PinSet{Instructions: old.Accepted.Instructions, Tools: copyTools(old.Accepted.Tools)}
	p.persistLocked()
}

// ObserveInstructions pins the server's instructions (initialize result).
func (p *Session) ObserveInstructions(text string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.observed.Instructions = Digest(text)
	if !p.firstUse && p.file != nil && p.file.Accepted.Instructions != "" && p.file.Accepted.Instructions != p.observed.Instructions {
		p.blockAll = "the server's instructions changed since they were accepted"
		lastPending := p.lastPending != nil && p.lastPending.Instructions == p.observed.Instructions
		if p.announceLocked("(instructions)", p.observed.Instructions, lastPending) {
			p.report(trace.Event{Time: time.Now(), Kind: trace.KindTool, Op: trace.OpToolChanged, Target: "(instructions)", Decision: trace.DecisionDeny, Rule: p.blockAll})
		}
		p.summariseLocked()
	}
	p.persistLocked()
}

// ObserveTools pins the tools of a tools/list page and blocks the ones
// that are new or changed since the accepted state.
func (p *Session) ObserveTools(defs map[string]ToolDef) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.listed = true
	for _, name := range slices.Sorted(maps.Keys(defs)) {
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
		lastPending := false
		if p.lastPending != nil {
			pd, ok := p.lastPending.Tools[name]
			lastPending = ok && pd.Digest == d.Digest
		}
		if p.announceLocked(name, d.Digest, lastPending) {
			p.report(trace.Event{Time: time.Now(), Kind: trace.KindTool, Op: trace.OpToolChanged, Target: name, Decision: trace.DecisionDeny,
				Rule: p.blocked[name], Detail: ToolDiff(name, old, d, known)})
		}
	}
	p.summariseLocked()
	p.persistLocked()
}

// announceLocked notes that this run saw the change of name to digest and
// says whether to report it in full: not when this run already did, nor
// when an earlier run left exactly this change pending (it was reported
// then; summariseLocked mentions it in one line).
func (p *Session) announceLocked(name, digest string, lastPending bool) bool {
	if d, ok := p.announced[name]; ok && d == digest {
		return false
	}
	p.announced[name] = digest
	if lastPending {
		p.stillPending = append(p.stillPending, name)
		return false
	}
	return true
}

// summariseLocked reports, in one short line, the changes still pending
// from earlier runs that this run has not mentioned yet.
func (p *Session) summariseLocked() {
	if len(p.stillPending) == 0 {
		return
	}
	names := p.stillPending
	p.stillPending = nil
	target := strings.Join(names, ", ")
	if len(names) > 5 {
		target = fmt.Sprintf("%s and %d more", strings.Join(names[:5], ", "), len(names)-5)
	}
	p.report(trace.Event{Time: time.Now(), Kind: trace.KindTool, Op: trace.OpToolChanged, Target: target, Decision: trace.DecisionDeny,
		Rule: fmt.Sprintf("still pending since an earlier run, calls blocked; review with `srt-mcp pins show %s`", p.refLocked())})
}

// persistLocked writes the pins: the first observations become the
// accepted state; later differences become pending.
func (p *Session) persistLocked() {
	obs := p.observed
	if p.file == nil {
		return // the pin file could not be read: nothing is overwritten
	}
	if p.firstUse && !p.listed {
		return // nothing to trust yet: no tools/list was answered
	}
	if p.firstUse {
		p.file.Accepted = &PinSet{Instructions: obs.Instructions, Tools: copyTools(obs.Tools)}
	} else {
		acc := p.file.Accepted
		// Tools the accepted state has and this session did not list yet
		// stay as accepted.
		merged := copyTools(acc.Tools)
		maps.Copy(merged, obs.Tools)
		instr := obs.Instructions
		if instr == "" {
			instr = acc.Instructions
		}
		next := &PinSet{Instructions: instr, Tools: merged}
		if Digest(next) != Digest(acc) {
			p.file.Pending = next
		} else {
			p.file.Pending = nil
		}
		if p.file.Accepted.Instructions == "" && obs.Instructions != "" && p.file.Pending == nil {
			p.file.Accepted.Instructions = obs.Instructions
		}
	}
	if err := Save(p.dir, p.file); err != nil && !p.saveFailed {
		p.saveFailed = true
		p.report(trace.Event{Time: time.Now(), Kind: trace.KindSandbox, Op: trace.OpPins, Target: p.dir, Decision: trace.DecisionError, Rule: "cannot save tool pins: " + err.Error()})
	}
}

func copyTools(m map[string]ToolDef) map[string]ToolDef {
	out := make(map[string]ToolDef, len(m))
	maps.Copy(out, m)
	return out
}

// CallBlocked says whether calls to tool are blocked by the pins.
func (p *Session) CallBlocked(tool string) (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.blockAll != "" {
		return p.blockAll, true
	}
	why, ok := p.blocked[tool]
	return why, ok
}
