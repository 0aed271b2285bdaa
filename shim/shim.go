// Package shim runs an MCP server inside the sandbox and stands in for it on
// stdio: it relays JSON-RPC byte for byte, keeps track of the requests in
// flight, manages the server's lifecycle, and answers for the server when it
// cannot (the sandbox failed, or the server died mid-request).
package shim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/srt-mcp/srt-mcp/netfilter"
	"github.com/srt-mcp/srt-mcp/sandbox"
)

// JSON-RPC error codes the shim uses in its own replies (implementation-
// defined server errors, -32000 to -32099).
const (
	CodeSandboxUnavailable = -32001
	CodeServerExited       = -32002
)

// DefaultGrace is how long the server gets after its stdin closes, and again
// after SIGTERM, before the next step of the shutdown sequence.
const DefaultGrace = 2 * time.Second

// Options configures one run.
type Options struct {
	Policy *sandbox.Policy
	Argv   []string
	Env    []string
	Stdin  *os.File
	Stdout *os.File
	Stderr *os.File
	Grace  time.Duration
	Debug  bool

	// TraceDir is where violation traces go (DefaultTraceDir when empty);
	// Name names the server in them (else its initialize response does,
	// else the command's base name).
	TraceDir string
	Name     string
	// Learn lets network destinations outside the policy through, recorded
	// as would-deny. Filesystem rules stay enforced.
	Learn bool
	// NoObserve turns off the seccomp supervisor that reports filesystem
	// and unix-socket violations. Enforcement is the same either way.
	NoObserve bool
	// Audit, when set, records observations beyond violations for
	// srt-mcp audit.
	Audit *AuditOptions
}

// AuditOptions asks the run to record what srt-mcp audit reports.
type AuditOptions struct {
	// Canaries maps a decoy's name to its unique value; any request that
	// carries one (host name, URL, header, plain body) is recorded.
	Canaries map[string]string
	// Decoys are files whose reads are recorded.
	Decoys []string
}

// Run starts the server sandboxed and relays until it exits. It returns the
// exit code for srt-mcp: the server's status (128+N for signal N), or
// sandbox.ExitSandbox when the sandbox could not be applied, in which case
// the server never ran.
func Run(opt Options) int {
	if opt.Grace <= 0 {
		opt.Grace = DefaultGrace
	}
	stderr := &lockedWriter{w: opt.Stderr}
	for _, n := range opt.Policy.Notices {
		fmt.Fprintf(stderr, "srt-mcp: note: %s\n", n)
	}

	inR, inW, err := blockingPipe()
	if err != nil {
		return FailClosed(opt.Stdin, opt.Stdout, stderr, err, sandbox.ExitSandbox)
	}
	outR, outW, err := blockingPipe()
	if err != nil {
		return FailClosed(opt.Stdin, opt.Stdout, stderr, err, sandbox.ExitSandbox)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		return FailClosed(opt.Stdin, opt.Stdout, stderr, err, sandbox.ExitSandbox)
	}
	for _, f := range []*os.File{inW, outW, opt.Stdin, opt.Stdout} {
		enlargePipe(f)
	}

	netPolicy, err := netfilter.NewPolicy(opt.Policy.Network.AllowedDomains, opt.Policy.Network.DeniedDomains)
	if err != nil {
		return FailClosed(opt.Stdin, opt.Stdout, stderr, err, sandbox.ExitUsage)
	}

	spec := sandbox.Spec{Policy: opt.Policy, Argv: opt.Argv, Env: opt.Env, Stdin: inR, Stdout: outW, Stderr: errW, Observe: !opt.NoObserve}
	if opt.Debug {
		spec.Trace = stderr
	}
	proc, err := sandbox.Start(spec)
	inR.Close()
	outW.Close()
	errW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		errR.Close()
		return FailClosed(opt.Stdin, opt.Stdout, stderr, err, sandbox.ExitSandbox)
	}

	traceDir := opt.TraceDir
	if traceDir == "" {
		traceDir = DefaultTraceDir()
	}
	command := strings.Join(opt.Argv, " ")
	ignore := opt.Policy.IgnoreViolations
	r := &run{
		out:      &messageWriter{w: opt.Stdout},
		inflight: newInflight(),
		stderr:   stderr,
		errTail:  &tail{max: 10},
		denials:  newLimiter(5 * time.Second),
		tracer: NewTracer(traceDir, opt.Name, filepath.Base(opt.Argv[0]), func(e Event) bool {
			return sandbox.IgnoreMatches(ignore, command, e.Target)
		}, stderr),
		mounts:   proc.Mounts,
		fallback: filepath.Base(opt.Argv[0]),
		audit:    opt.Audit,
		reasons:  opt.Policy.Network.DeniedDomainReasons,
	}
	if opt.Audit != nil {
		r.watch = sandbox.Watch{Decoys: opt.Audit.Decoys, Exec: true}
	}
	defer r.tracer.Close()
	r.tools = &toolGuard{mcp: opt.Policy.MCP}
	if opt.Policy.MCP.PinEnabled() {
		r.tools.pins = newPins(PinsDir(), opt.Policy.Digest, r.report)
		if opt.Name != "" {
			r.tools.pins.setServer(opt.Name)
		}
	}
	if opt.Learn {
		fmt.Fprintf(stderr, "srt-mcp: learn mode: network destinations outside the policy are allowed and recorded as would-deny; filesystem rules stay enforced\n")
	}

	// The proxies serve on listeners the sandbox hands over once its
	// network namespace exists; they are the server's only route out. The
	// seccomp supervisor, when the kernel has one, reports filesystem and
	// unix-socket violations.
	go func() {
		h, err := proc.Handover()
		if err != nil {
			return // the sandbox failed before that; Ready reports why
		}
		p := &netfilter.Proxies{Guard: &netfilter.Guard{Policy: netPolicy, Learn: opt.Learn}, OnDecision: r.onDecision, Secret: h.Secret}
		if opt.Audit != nil {
			p.Inspect = r.inspectRequest
		}
		p.Serve(h.HTTP, h.SOCKS)
		if h.Monitor != nil {
			go h.Monitor(func(v sandbox.Violation) {
				r.report(Event{Time: time.Now(), Kind: v.Kind, Op: v.Op, Target: v.Target, Decision: DecisionDeny, Rule: v.Rule})
			})
		}
		if h.Supervisor != nil {
			// The supervisor runs whatever --observe says: its broker
			// enforces the protected paths. Without observation only the
			// broker's refusals are reported.
			report := r.observe
			if opt.NoObserve {
				report = func(a sandbox.Attempt) {
					if a.Refused != "" {
						r.observe(a)
					}
				}
			}
			h.Supervisor.Run(report)
		}
	}()

	// Signals for srt-mcp are meant for the server. SIGPIPE is caught so a
	// vanished client turns into write errors instead of killing the shim
	// (a caught signal, unlike an ignored one, is not inherited by bwrap).
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGPIPE)
	defer signal.Stop(sigs)

	clientEOF := make(chan struct{})
	go func() {
		r.relayClient(inW, opt.Stdin)
		close(clientEOF)
	}()
	var outputs sync.WaitGroup
	outputs.Add(2)
	go func() {
		defer outputs.Done()
		sc := NewScanner(r.fromServer)
		if r.tools.active() {
			_ = gatedPump(r.out, outR, sc, r.serverGate())
		} else {
			_ = pump(r.out, outR, sc)
		}
		r.out.endStream()
		outR.Close()
	}()
	go func() {
		defer outputs.Done()
		_, _ = io.Copy(io.MultiWriter(stderr, r.errTail), errR)
		errR.Close()
	}()
	readyErr := make(chan error, 1)
	go func() { readyErr <- proc.Ready() }()
	exited := make(chan int, 1)
	go func() { exited <- proc.Wait() }()

	var term, kill <-chan time.Time
	var status int
wait:
	for {
		select {
		case <-clientEOF:
			// MCP stdio shutdown: stdin is closed (by relayClient); give the
			// server a grace period, then SIGTERM, then SIGKILL.
			clientEOF = nil
			term = time.After(opt.Grace)
		case <-term:
			term = nil
			_ = proc.Signal(syscall.SIGTERM)
			kill = time.After(opt.Grace)
		case <-kill:
			kill = nil
			proc.Kill()
		case s := <-sigs:
			if s == syscall.SIGPIPE {
				continue
			}
			if proc.Signal(s.(syscall.Signal)) != nil {
				proc.Kill() // the server is not up yet: nothing gentle to do
			}
		case status = <-exited:
			break wait
		}
	}
	// Every process of the sandbox is gone with its PID 1, so the output
	// pipes reach EOF; wait for the last bytes to be relayed.
	outputs.Wait()

	if err := <-readyErr; err != nil {
		r.tracer.Record(Event{Time: time.Now(), Kind: KindSandbox, Op: "start", Target: command, Decision: DecisionError, Rule: err.Error()})
		fmt.Fprintf(stderr, "srt-mcp: the server was not started: %v\n", err)
		fmt.Fprintf(stderr, "srt-mcp: %s\n", diagnose(r.errTail.Lines()))
		msg := "srt-mcp could not start the MCP server in its sandbox: " + err.Error() + ". " + diagnose(r.errTail.Lines())
		// Keep answering whatever the client still asks, so it reads the
		// reason instead of a closed pipe.
		r.failAll(CodeSandboxUnavailable, msg, map[string]any{"stderr": r.errTail.Lines()}, true)
		if clientEOF != nil && !isTerminal(opt.Stdin) {
			<-clientEOF
		}
		return sandbox.ExitSandbox
	}
	r.failAll(CodeServerExited, fmt.Sprintf("srt-mcp: the MCP server exited (%s) before answering", describeStatus(status)),
		map[string]any{"exitStatus": status, "stderr": r.errTail.Lines()}, false)
	return status
}

type run struct {
	out      *messageWriter
	inflight *inflight
	stderr   io.Writer
	errTail  *tail
	denials  *limiter
	tracer   *Tracer
	mounts   []sandbox.Mount
	tools    *toolGuard
	fallback string // the command's base name, when the server gives none
	audit    *AuditOptions
	watch    sandbox.Watch
	reasons  map[string]string // network.deniedDomainReasons

	mu      sync.Mutex
	failMsg string // set once the sandbox failed: answer requests directly
}

// relayClient copies the client's messages to the server, recording
// requests as they pass. When the client closes its side, so does the shim.
func (r *run) relayClient(serverIn io.WriteCloser, stdin io.Reader) {
	sc := NewScanner(r.fromClient)
	sc.DigestArguments(digestKey())
	w := &dropWriter{w: serverIn}
	if r.tools.active() {
		_ = gatedPump(w, stdin, sc, r.clientGate())
	} else {
		_ = pump(w, stdin, sc)
	}
	serverIn.Close()
}

func (r *run) fromClient(e *Envelope) {
	switch {
	case e.IsRequest():
		// Under r.mu, so that a request is either recorded before failAll
		// drains the table or answered directly after: never lost between.
		r.mu.Lock()
		failMsg := r.failMsg
		if failMsg == "" {
			r.inflight.add(e)
		}
		r.mu.Unlock()
		if failMsg != "" {
			r.out.inject(errorReply(e.ID, CodeSandboxUnavailable, failMsg, nil))
		}
	case e.Method == "notifications/cancelled" && e.RequestID != nil:
		r.inflight.remove(e.RequestID)
	}
}

func (r *run) fromServer(e *Envelope) {
	if e.IsResponse() {
		if e.ServerName != "" && e.HasResult {
			r.tracer.SetServer(e.ServerName)
			if r.tools.pins != nil {
				r.tools.pins.setServer(r.serverName())
			}
		}
		r.inflight.remove(e.ID)
	}
}

// onDecision records network denials, and in learn mode the destinations
// that would have been denied.
func (r *run) onDecision(d netfilter.Decision) {
	target := fmt.Sprintf("%s:%d", d.Host, d.Port)
	if r.audit != nil {
		for name, value := range r.audit.Canaries {
			if strings.Contains(strings.ToLower(d.Host), strings.ToLower(value)) {
				r.report(Event{Time: d.Time, Kind: KindNetwork, Op: "exfil", Target: target, Decision: DecisionAllow, Rule: "canary " + name + " in the host name"})
			}
		}
	}
	if d.Allowed && !d.WouldDeny {
		if r.audit != nil {
			r.report(Event{Time: d.Time, Kind: KindNetwork, Op: d.Protocol, Target: target, Decision: DecisionAllow, Rule: d.Rule})
		}
		return
	}
	decision := DecisionDeny
	if d.WouldDeny {
		decision = DecisionWouldDeny
	}
	rule := d.Rule
	// network.deniedDomainReasons: the user's words for why an entry denies.
	if entry, ok := strings.CutPrefix(rule, "network.deniedDomains: "); ok {
		if why := r.reasons[entry]; why != "" {
			rule += " (" + why + ")"
		}
	}
	r.report(Event{Time: d.Time, Kind: KindNetwork, Op: d.Protocol, Target: target, Decision: decision, Rule: rule})
}

// inspectRequest looks for the audit's canaries in a plain HTTP request.
func (r *run) inspectRequest(req *http.Request, body []byte) {
	var headers strings.Builder
	req.Header.Write(&headers)
	for name, value := range r.audit.Canaries {
		var where []string
		if strings.Contains(req.URL.String(), value) {
			where = append(where, "URL")
		}
		if strings.Contains(headers.String(), value) {
			where = append(where, "headers")
		}
		if bytes.Contains(body, []byte(value)) {
			where = append(where, "body")
		}
		if len(where) > 0 {
			r.report(Event{Time: time.Now(), Kind: KindNetwork, Op: "exfil", Target: req.URL.Host, Decision: DecisionAllow,
				Rule: "canary " + name + " in the request " + strings.Join(where, " and ")})
		}
	}
}

// observe is the seccomp supervisor's callback: it records filesystem and
// unix-socket violations (the supervisor has already refused the socket).
func (r *run) observe(a sandbox.Attempt) {
	for _, v := range sandbox.Judge(r.mounts, a, r.watch) {
		decision := DecisionDeny
		if v.Allowed {
			decision = DecisionAllow
		}
		r.report(Event{Time: a.Time, Kind: v.Kind, Op: v.Op, Target: v.Target, Decision: decision, Rule: v.Rule})
	}
}

// report attributes an event to the MCP requests in flight, writes it to
// the trace, and shows it on stderr: one line per target at most every few
// seconds, so it reaches the MCP client's server log without flooding it.
func (r *run) report(e Event) {
	if e.InFlight == nil {
		for _, c := range r.inflight.at(e.Time) {
			e.InFlight = append(e.InFlight, CallRef{ID: json.RawMessage(c.id), Method: c.method, Tool: c.tool, ArgNames: c.argNames, ArgDigest: c.argDigest})
		}
	}
	if !r.tracer.Record(e) {
		return // ignoreViolations
	}
	suppressed, ok := r.denials.allow(e.Kind + " " + e.Target)
	if !ok {
		return
	}
	verb := "denied"
	switch e.Decision {
	case DecisionWouldDeny:
		verb = "would deny (allowed in learn mode)"
	case DecisionAllow:
		return // audit observations: in the trace, not on stderr
	}
	var calls []string
	for _, c := range e.InFlight {
		calls = append(calls, strings.TrimSpace(c.Method+" "+c.Tool))
	}
	during := ""
	if len(calls) > 0 {
		during = " (" + strings.Join(calls, ", ") + ")"
	}
	more := ""
	if suppressed > 0 {
		more = fmt.Sprintf(" [and %d more like it]", suppressed)
	}
	fmt.Fprintf(r.stderr, "srt-mcp: %s %s %s%s: %s%s\n", verb, e.Op, e.Target, during, e.Rule, more)
}

// serverName is the name traces and pins use for the server.
func (r *run) serverName() string {
	if n := r.tracer.Server(); n != "" {
		return n
	}
	return r.fallback
}

// failAll answers every request still in flight. With keepFailing, requests
// that arrive later are answered at once with msg as well.
func (r *run) failAll(code int, msg string, data map[string]any, keepFailing bool) {
	r.mu.Lock()
	if keepFailing {
		r.failMsg = msg
	}
	calls := r.inflight.drain()
	r.mu.Unlock()
	for _, c := range calls {
		m := msg
		if c.method != "" {
			m += " (" + c.method
			if c.tool != "" {
				m += " " + c.tool
			}
			m += ")"
		}
		r.out.inject(errorReply(c.id, code, m, data))
	}
}

// dropWriter forwards to the server until the server stops reading, then
// discards: the client's stream must still be read to the end so its
// requests are seen and answered.
type dropWriter struct {
	w    io.Writer
	dead bool
}

func (d *dropWriter) Write(p []byte) (int, error) {
	if !d.dead {
		if _, err := d.w.Write(p); err != nil {
			d.dead = true
		}
	}
	return len(p), nil
}

// lockedWriter serialises whole writes to stderr from several goroutines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func describeStatus(status int) string {
	if status > 128 && status < 128+65 {
		return fmt.Sprintf("killed by signal %d", status-128)
	}
	return fmt.Sprintf("status %d", status)
}

// diagnose turns bubblewrap's complaint into a fix the user can apply.
func diagnose(stderrLines []string) string {
	text := strings.Join(stderrLines, "\n")
	switch {
	case strings.Contains(text, "No permission to create new namespace"),
		strings.Contains(text, "setting up uid map"),
		strings.Contains(text, "Creating new namespace failed"),
		strings.Contains(text, "unshare"):
		return "Fix: unprivileged user namespaces are disabled on this machine. Enable them (sudo sysctl kernel.unprivileged_userns_clone=1; on Ubuntu 24.04 and later, sudo sysctl kernel.apparmor_restrict_unprivileged_userns=0 or an AppArmor profile for bwrap), or run srt-mcp where they are available."
	case strings.Contains(text, "Unknown option"):
		return "Fix: this bubblewrap is too old for srt-mcp; install bubblewrap 0.4 or newer."
	case strings.Contains(text, "not found inside the sandbox"):
		return "Fix: make sure the server command exists and is not under a denyRead path."
	case strings.Contains(text, "seccomp"):
		return "Fix: the kernel refused the seccomp filter; srt-mcp needs seccomp filtering (CONFIG_SECCOMP_FILTER)."
	}
	return "Run `srt-mcp selftest` for a diagnosis, or add --debug to see the bubblewrap command."
}
