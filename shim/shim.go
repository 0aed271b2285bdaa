// Package shim runs an MCP server inside the sandbox and stands in for it on
// stdio: it relays JSON-RPC byte for byte, keeps track of the requests in
// flight, manages the server's lifecycle, and answers for the server when it
// cannot (the sandbox failed, or the server died mid-request).
package shim

import (
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

	"github.com/srt-mcp/srt-mcp/internal/safetext"
	"github.com/srt-mcp/srt-mcp/netfilter"
	"github.com/srt-mcp/srt-mcp/sandbox"

	"github.com/srt-mcp/srt-mcp/internal/jsonrpc"

	"github.com/srt-mcp/srt-mcp/internal/trace"

	"github.com/srt-mcp/srt-mcp/internal/statedir"

	"github.com/srt-mcp/srt-mcp/internal/pins"
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
	// Observer, when set, records observations beyond violations (srt-mcp
	// audit sets one).
	Observer Observer
}

// Run starts the server sandboxed and relays until it exits. It returns the
// exit code for srt-mcp: the server's status (128+N for signal N), or
// sandbox.ExitSandbox when the sandbox could not be applied, in which case
// the server never ran.
func Run(opt Options) int {
	if opt.Grace <= 0 {
		opt.Grace = DefaultGrace
	}
	// Everything srt-mcp prints on stderr carries strings the server chose
	// (paths, host names, tool names, its own output). Its own messages go
	// through safetext.MessageWriter: one Write is one line, and a newline
	// or escape sequence inside it is shown escaped, so no message can
	// forge another line or drive the terminal. The server's stderr goes
	// through safetext.StreamWriter (below) for the same reason.
	rawStderr := &lockedWriter{w: opt.Stderr}
	stderr := safetext.MessageWriter{W: rawStderr}
	// srt-mcp's state directory exists before the sandbox is built, so
	// the mount plan hides it and keeps it read-only: a server with a
	// writable home must not create it with forged pins or a known digest
	// key. A --trace-dir elsewhere is protected the same way.
	// A failure here is said, not fatal: the sandbox only narrows what
	// srt-mcp's own uid can do, so where the host cannot create the
	// directory (a read-only home, a file in the way) the server cannot
	// either. Traces and pins then do not persist.
	if err := os.MkdirAll(statedir.Path(), 0o700); err != nil {
		fmt.Fprintf(stderr, "srt-mcp: note: cannot create the state directory: %v\n", err)
	}
	if opt.TraceDir != "" {
		if err := os.MkdirAll(opt.TraceDir, 0o700); err != nil {
			fmt.Fprintf(stderr, "srt-mcp: note: cannot create the trace directory: %v\n", err)
		}
		opt.Policy.Protect(opt.TraceDir, "srt-mcp traces (--trace-dir)")
	}
	// Writable launcher caches become this server's own (see
	// sandbox/launchercache.go), keyed by the command line the user
	// configured or --name.
	// The same key names the server's tool pins.
	serverKey := sandbox.LauncherKey(opt.Argv, opt.Name)
	opt.Policy.PlanLauncherCaches(serverKey, opt.Argv...)
	fresh, err := opt.Policy.PrepareLauncherCaches()
	if err != nil {
		return FailClosed(opt.Stdin, opt.Stdout, stderr, fmt.Errorf("%w (the server was not started: its launcher cache cannot be made private)", err), sandbox.ExitSandbox)
	}
	for _, n := range opt.Policy.Notices {
		fmt.Fprintf(stderr, "srt-mcp: note: %s\n", n)
	}
	for _, c := range opt.Policy.Private {
		isNew := false
		for _, f := range fresh {
			isNew = isNew || f.Path == c.Path
		}
		switch {
		case !isNew && !opt.Debug:
		case len(c.Env) > 0:
			var names []string
			for _, kv := range c.Env {
				name, _, _ := strings.Cut(kv, "=")
				names = append(names, name)
			}
			fmt.Fprintf(stderr, "srt-mcp: note: launcher cache %s is private to this server: it does not exist yet, so %s points the launcher at the server's own copy, %s\n", c.Path, strings.Join(names, " and "), c.Source)
		default:
			fmt.Fprintf(stderr, "srt-mcp: note: launcher cache %s is private to this server: it sees its own copy there (kept in %s), and your real one stays out of its reach\n", c.Path, c.Source)
		}
	}

	inR, inW, err := blockingPipe()
	if err != nil {
		return FailClosed(opt.Stdin, opt.Stdout, rawStderr, err, sandbox.ExitSandbox)
	}
	outR, outW, err := blockingPipe()
	if err != nil {
		return FailClosed(opt.Stdin, opt.Stdout, rawStderr, err, sandbox.ExitSandbox)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		return FailClosed(opt.Stdin, opt.Stdout, rawStderr, err, sandbox.ExitSandbox)
	}
	for _, f := range []*os.File{inW, outW, opt.Stdin, opt.Stdout} {
		enlargePipe(f)
	}

	netPolicy, err := netfilter.NewPolicy(opt.Policy.Network.AllowedDomains, opt.Policy.Network.DeniedDomains)
	if err != nil {
		return FailClosed(opt.Stdin, opt.Stdout, rawStderr, err, sandbox.ExitUsage)
	}

	// Later entries win: a private launcher cache's variable overrides
	// the user's own.
	env := append(opt.Env[:len(opt.Env):len(opt.Env)], opt.Policy.LauncherEnv()...)
	spec := sandbox.Spec{Policy: opt.Policy, Argv: opt.Argv, Env: env, Stdin: inR, Stdout: outW, Stderr: errW, Observe: !opt.NoObserve}
	if opt.Debug {
		spec.Trace = rawStderr // multi-line by design, and built from the user's own settings and argv
	}
	proc, err := sandbox.Start(spec)
	inR.Close()
	outW.Close()
	errW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		errR.Close()
		return FailClosed(opt.Stdin, opt.Stdout, rawStderr, err, sandbox.ExitSandbox)
	}
	for _, n := range proc.Notices {
		fmt.Fprintf(stderr, "srt-mcp: note: %s\n", n)
	}

	traceDir := opt.TraceDir
	if traceDir == "" {
		traceDir = statedir.Traces()
	}
	command := strings.Join(opt.Argv, " ")
	ignore := opt.Policy.IgnoreViolations
	r := &run{
		out:      &messageWriter{w: opt.Stdout},
		inflight: newInflight(),
		stderr:   stderr,
		errTail:  &tail{max: 10},
		denials:  newLimiter(5 * time.Second),
		tracer: trace.NewWriter(traceDir, opt.Name, filepath.Base(opt.Argv[0]), func(e trace.Event) bool {
			return sandbox.IgnoreMatches(ignore, command, e.Target)
		}, stderr),
		mounts:   proc.Mounts,
		fallback: filepath.Base(opt.Argv[0]),
		observer: opt.Observer,
		reasons:  opt.Policy.Network.DeniedDomainReasons,
	}
	if opt.Observer != nil {
		r.watch = opt.Observer.Watch()
	}
	defer r.tracer.Close()
	r.tools = &toolGuard{mcp: opt.Policy.MCP}
	if opt.Policy.MCP.PinEnabled() {
		// Keyed by the server the user configured (its command line, or
		// --name), never by the name the server reports for itself.
		r.tools.pins = pins.NewSession(statedir.Pins(), pins.Identity{Key: serverKey, Name: opt.Name, Command: opt.Argv}, r.report)
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
		if opt.Observer != nil {
			p.Inspect = r.inspectRequest
		}
		p.Serve(h.HTTP, h.SOCKS)
		if h.Monitor != nil {
			go h.Monitor(func(v sandbox.Violation) {
				r.report(trace.Event{Time: time.Now(), Kind: trace.Kind(v.Kind), Op: trace.Op(v.Op), Target: v.Target, Decision: trace.DecisionDeny, Rule: v.Rule})
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
		sc := jsonrpc.NewScanner(r.fromServer)
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
		// A line of the server's that starts like one of srt-mcp's gets a
		// label, so the server cannot forge srt-mcp's reports either.
		serverErr := &safetext.StreamWriter{W: rawStderr, Impersonated: "srt", Label: "[server] "}
		_, _ = io.Copy(io.MultiWriter(serverErr, r.errTail), errR)
		serverErr.Close()
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
		r.tracer.Add(trace.Event{Time: time.Now(), Kind: trace.KindSandbox, Op: trace.OpStart, Target: command, Decision: trace.DecisionError, Rule: err.Error()})
		fmt.Fprintf(stderr, "srt-mcp: the server was not started: %v\n", err)
		// The helper reports its failure on the ready pipe only, so the
		// reason is printed once, here; bwrap's own complaints (before the
		// helper ran) are on stderr.
		fix := diagnose(append([]string{err.Error()}, r.errTail.Lines()...))
		fmt.Fprintf(stderr, "srt-mcp: %s\n", fix)
		msg := "srt-mcp could not start the MCP server in its sandbox: " + err.Error() + ". " + fix
		// Keep answering whatever the client still asks, so it reads the
		// reason instead of a closed pipe.
		r.failAll(jsonrpc.CodeSandboxUnavailable, msg, map[string]any{"stderr": r.errTail.Lines()}, true)
		if clientEOF != nil && !isTerminal(opt.Stdin) {
			<-clientEOF
		}
		return sandbox.ExitSandbox
	}
	r.failAll(jsonrpc.CodeServerExited, fmt.Sprintf("srt-mcp: the MCP server exited (%s) before answering", describeStatus(status)),
		map[string]any{"exitStatus": status, "stderr": r.errTail.Lines()}, false)
	return status
}

type run struct {
	out      *messageWriter
	inflight *inflight
	stderr   safetext.MessageWriter
	errTail  *tail
	denials  *limiter
	tracer   *trace.Writer
	mounts   []sandbox.Mount
	tools    *toolGuard
	fallback string // the command's base name, when the server gives none
	observer Observer
	watch    sandbox.Watch
	reasons  map[string]string // network.deniedDomainReasons

	mu      sync.Mutex
	failMsg string // set once the sandbox failed: answer requests directly
}

// relayClient copies the client's messages to the server, recording
// requests as they pass. When the client closes its side, so does the shim.
func (r *run) relayClient(serverIn io.WriteCloser, stdin io.Reader) {
	sc := jsonrpc.NewScanner(r.fromClient)
	newDigest, err := digestKey()
	if err != nil {
		fmt.Fprintf(r.stderr, "srt-mcp: note: %v; argument digests in traces are comparable within this run only\n", err)
	}
	sc.DigestArguments(newDigest)
	w := &dropWriter{w: serverIn}
	if r.tools.active() {
		_ = r.gateClient(w, stdin, sc)
	} else {
		_ = pump(w, stdin, sc)
	}
	serverIn.Close()
}

func (r *run) fromClient(e *jsonrpc.Envelope) {
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
			r.out.inject(jsonrpc.ErrorReply(e.ID, jsonrpc.CodeSandboxUnavailable, failMsg, nil))
		}
	case e.Method == "notifications/cancelled" && e.RequestID != nil:
		r.inflight.remove(e.RequestID)
	}
}

func (r *run) fromServer(e *jsonrpc.Envelope) {
	if e.IsResponse() {
		if e.ServerName != "" && e.HasResult {
			r.tracer.SetServer(e.ServerName)
			if r.tools.pins != nil {
				r.tools.pins.SetServer(e.ServerName)
			}
		}
		r.inflight.remove(e.ID)
	}
}

// onDecision records network denials, and in learn mode the destinations
// that would have been denied.
func (r *run) onDecision(d netfilter.Decision) {
	if r.observer != nil {
		for _, e := range r.observer.Connection(d) {
			r.report(e)
		}
	}
	if d.Allowed && !d.WouldDeny {
		return
	}
	target := fmt.Sprintf("%s:%d", d.Host, d.Port)
	decision := trace.DecisionDeny
	if d.WouldDeny {
		decision = trace.DecisionWouldDeny
	}
	rule := d.Rule
	// network.deniedDomainReasons: the user's words for why an entry denies.
	if entry, ok := strings.CutPrefix(rule, "network.deniedDomains: "); ok {
		if why := r.reasons[entry]; why != "" {
			rule += " (" + why + ")"
		}
	}
	r.report(trace.Event{Time: d.Time, Kind: trace.KindNetwork, Op: trace.Op(d.Protocol), Target: target, Decision: decision, Rule: rule})
}

// inspectRequest hands a plain HTTP request to the Observer.
func (r *run) inspectRequest(req *http.Request, body []byte) {
	for _, e := range r.observer.Request(req, body) {
		r.report(e)
	}
}

// observe is the seccomp supervisor's callback: it records filesystem and
// unix-socket violations (the supervisor has already refused the socket).
func (r *run) observe(a sandbox.Attempt) {
	for _, v := range sandbox.Judge(r.mounts, a, r.watch) {
		decision := trace.DecisionDeny
		if v.Allowed {
			decision = trace.DecisionAllow
		}
		r.report(trace.Event{Time: a.Time, Kind: trace.Kind(v.Kind), Op: trace.Op(v.Op), Target: v.Target, Decision: decision, Rule: v.Rule})
	}
}

// report attributes an event to the MCP requests in flight, writes it to
// the trace, and shows it on stderr: one line per target at most every few
// seconds, so it reaches the MCP client's server log without flooding it.
func (r *run) report(e trace.Event) {
	if e.InFlight == nil {
		for _, c := range r.inflight.at(e.Time) {
			e.InFlight = append(e.InFlight, trace.CallRef{ID: json.RawMessage(c.id), Method: c.method, Tool: c.tool, ArgNames: c.argNames, ArgDigest: c.argDigest})
		}
	}
	if !r.tracer.Add(e) {
		return // ignoreViolations
	}
	suppressed, ok := r.denials.allow(string(e.Kind) + " " + e.Target)
	if !ok {
		return
	}
	verb := "denied"
	switch e.Decision {
	case trace.DecisionWouldDeny:
		verb = "would deny (allowed in learn mode)"
	case trace.DecisionAllow:
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
	line := fmt.Sprintf("srt-mcp: %s %s %s%s: %s%s", verb, e.Op, e.Target, during, e.Rule, more)
	var detail []string
	if e.Detail != "" {
		detail = strings.Split(strings.TrimSuffix(e.Detail, "\n"), "\n")
	}
	// One Write, every part escaped: the target, the tool names and the
	// detail are the server's words.
	r.stderr.Block(line, detail)
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
		r.out.inject(jsonrpc.ErrorReply(c.id, code, m, data))
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
	case strings.Contains(text, "is a directory, not a program"),
		strings.Contains(text, "cannot be executed inside the sandbox"):
		return "Fix: point the configured command at the server's executable file, with execute permission (or run it through its interpreter: node server.js)."
	case strings.Contains(text, "not found inside the sandbox"):
		return "Fix: make sure the server command exists and is not under a denyRead path."
	case strings.Contains(text, "seccomp"):
		return "Fix: the kernel refused the seccomp filter; srt-mcp needs seccomp filtering (CONFIG_SECCOMP_FILTER)."
	}
	return "Run `srt-mcp selftest` for a diagnosis, or add --debug to see the bubblewrap command."
}
