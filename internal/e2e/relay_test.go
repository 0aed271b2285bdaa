//go:build unix

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/srt-mcp/srt-mcp/internal/probe"
	"github.com/srt-mcp/srt-mcp/internal/testbin"
)

// world is a throw-away user: a home with credentials and a project that is
// the server's working directory. It lives outside /tmp, which the sandbox
// replaces with a private directory.
type world struct {
	root, home, project string
	extraEnv            []string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	root := testbin.HostTempDir(t)
	w := &world{root: root, home: filepath.Join(root, "home"), project: filepath.Join(root, "home", "project")}
	w.write(t, "home/.ssh/id_rsa", "SECRET-SSH-KEY")
	w.write(t, "home/.bashrc", "# rc")
	w.write(t, "home/project/README.md", "hello")
	w.write(t, "home/project/.env", "SECRET-DOTENV")
	w.write(t, "home/project/.git/config", "[core]")
	w.write(t, "home/project/.git/hooks/pre-commit.sample", "#!/bin/sh")
	w.write(t, "home/project/private/notes", "SECRET-NOTES")
	return w
}

func (w *world) write(t *testing.T, rel, content string) string {
	t.Helper()
	p := filepath.Join(w.root, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func (w *world) env() []string {
	// Its own state directory too (traces, pins), even when the runner sets
	// XDG_STATE_HOME: tests must not share pins.
	env := append(os.Environ(), "HOME="+w.home, "XDG_STATE_HOME="+filepath.Join(w.home, ".local", "state"))
	return append(env, w.extraEnv...)
}

// settings writes a settings file into the world (outside the project).
func (w *world) settings(t *testing.T, body string) string {
	return w.write(t, "settings.json", body)
}

// connect runs the probe under srt-mcp and returns an initialized mcp-go
// client speaking to it.
func connect(t *testing.T, w *world, srtArgs ...string) *client.Client {
	t.Helper()
	c, info := start(t, w, []string{testbin.Probe(t)}, srtArgs...)
	if info.Name != probe.Name {
		t.Fatalf("server %q, want the probe", info.Name)
	}
	return c
}

// connectServer runs any server command under srt-mcp.
func connectServer(t *testing.T, w *world, server []string, srtArgs ...string) *client.Client {
	t.Helper()
	c, _ := start(t, w, server, srtArgs...)
	return c
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func mcpListTools() mcp.ListToolsRequest { return mcp.ListToolsRequest{} }

func start(t *testing.T, w *world, server []string, srtArgs ...string) (*client.Client, mcp.Implementation) {
	t.Helper()
	testbin.RequireBwrap(t)
	args := append(append(append([]string{}, srtArgs...), "--"), server...)
	tr := transport.NewStdioWithOptions(testbin.SrtMCP(t), w.env(), args,
		transport.WithCommandFunc(func(ctx context.Context, command string, env []string, args []string) (*exec.Cmd, error) {
			// Not CommandContext: the context of Start only bounds start-up.
			cmd := exec.Command(command, args...)
			cmd.Env = env
			cmd.Dir = w.project
			return cmd, nil
		}),
		transport.WithCommandStderrWriter(testWriter{t}))
	c := client.NewClient(tr, client.WithProtocolVersion("2025-11-25"))
	// Generous: an npx server's first start installs it through the proxy,
	// and the profile tests start several at once on a small machine.
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	res, err := c.Initialize(ctx, mcp.InitializeRequest{Params: mcp.InitializeParams{
		ProtocolVersion: "2025-11-25",
		ClientInfo:      mcp.Implementation{Name: "srt-mcp-test", Version: "1"},
	}})
	if err != nil {
		t.Fatalf("initialize: %v", err)
	}
	return c, res.ServerInfo
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Logf("stderr: %s", strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// toolText invokes a probe tool and returns its text and whether it failed.
func toolText(t *testing.T, c *client.Client, tool string, args map[string]any) (string, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := c.CallTool(ctx, mcp.CallToolRequest{Params: mcp.CallToolParams{Name: tool, Arguments: args}})
	if err != nil {
		t.Fatalf("%s: %v", tool, err)
	}
	var text strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(mcp.TextContent); ok {
			text.WriteString(tc.Text)
		}
	}
	return text.String(), res.IsError
}

func mustFail(t *testing.T, c *client.Client, what, tool string, args map[string]any, wantErr string) {
	t.Helper()
	text, failed := toolText(t, c, tool, args)
	if !failed {
		t.Errorf("%s: succeeded (%q), want it blocked", what, text)
		return
	}
	if !strings.Contains(text, wantErr) {
		t.Errorf("%s: failed with %q, want %q", what, text, wantErr)
	}
}

func mustSucceed(t *testing.T, c *client.Client, what, tool string, args map[string]any) string {
	t.Helper()
	text, failed := toolText(t, c, tool, args)
	if failed {
		t.Errorf("%s: failed: %s", what, text)
	}
	return text
}

func TestFilesystemRules(t *testing.T) {
	w := newWorld(t)
	s := w.settings(t, `{"filesystem": {"allowWrite": ["."], "denyRead": [".env", "private"]}}`)
	c := connect(t, w, "--settings", s)

	if got := mustSucceed(t, c, "read the project", "read_file", map[string]any{"path": filepath.Join(w.project, "README.md")}); got != "hello" {
		t.Errorf("README = %q", got)
	}
	// denyRead: files and directories, configured and built-in.
	mustFail(t, c, "read ~/.ssh/id_rsa (built-in credential denial)", "read_file", map[string]any{"path": filepath.Join(w.home, ".ssh/id_rsa")}, "permission denied")
	mustFail(t, c, "list ~/.ssh", "list_dir", map[string]any{"path": filepath.Join(w.home, ".ssh")}, "permission denied")
	mustFail(t, c, "read a denyRead file", "read_file", map[string]any{"path": filepath.Join(w.project, ".env")}, "permission denied")
	mustFail(t, c, "read inside a denyRead directory", "read_file", map[string]any{"path": filepath.Join(w.project, "private/notes")}, "permission denied")

	// allowWrite: the project is writable, and the write reaches the host.
	mustSucceed(t, c, "write in the project", "write_file", map[string]any{"path": filepath.Join(w.project, "new.txt"), "content": "from the sandbox"})
	if data, err := os.ReadFile(filepath.Join(w.project, "new.txt")); err != nil || string(data) != "from the sandbox" {
		t.Errorf("host sees %q, %v", data, err)
	}
	// Outside allowWrite nothing is written.
	mustFail(t, c, "write outside allowWrite", "write_file", map[string]any{"path": filepath.Join(w.home, "outside.txt")}, "read-only file system")
	if _, err := os.Stat(filepath.Join(w.home, "outside.txt")); err == nil {
		t.Error("outside.txt exists on the host")
	}
	mustFail(t, c, "overwrite ~/.bashrc", "write_file", map[string]any{"path": filepath.Join(w.home, ".bashrc")}, "read-only file system")
	// Mandatory denials inside the writable project.
	mustFail(t, c, "create .git/hooks/x", "write_file", map[string]any{"path": filepath.Join(w.project, ".git/hooks/x")}, "read-only file system")
	mustFail(t, c, "rewrite .git/config", "write_file", map[string]any{"path": filepath.Join(w.project, ".git/config")}, "read-only file system")
	if _, err := os.Stat(filepath.Join(w.project, ".git/hooks/x")); err == nil {
		t.Error(".git/hooks/x exists on the host")
	}
	// A private /tmp that exists and is writable, and does not reach the host.
	env := mustSucceed(t, c, "env", "env", nil)
	if !strings.Contains(env, "\nTMPDIR=/tmp\n") {
		t.Errorf("TMPDIR is not /tmp:\n%s", env)
	}
	marker := fmt.Sprintf("/tmp/srt-mcp-private-%d", time.Now().UnixNano())
	mustSucceed(t, c, "write the private /tmp", "write_file", map[string]any{"path": marker})
	if _, err := os.Stat(marker); err == nil {
		os.Remove(marker)
		t.Error("a write to /tmp inside the sandbox reached the host's /tmp")
	}
	// No placeholder files were created in the user's tree.
	for _, p := range []string{".mcp.json", ".vscode", ".idea", ".claude", ".gitconfig", ".bashrc"} {
		if _, err := os.Lstat(filepath.Join(w.project, p)); err == nil {
			t.Errorf("srt-mcp left %s in the working directory", p)
		}
	}
}

func TestEscapesFromInside(t *testing.T) {
	w := newWorld(t)
	c := connect(t, w)
	// Capabilities are gone, so masks cannot be unmounted.
	out, _ := toolText(t, c, "run", map[string]any{"argv": []string{"umount", "-l", filepath.Join(w.home, ".ssh")}})
	if strings.HasPrefix(out, "exit 0") {
		t.Errorf("umount of the ~/.ssh mask succeeded: %s", out)
	}
	mustFail(t, c, "read ~/.ssh/id_rsa after the umount attempt", "read_file", map[string]any{"path": filepath.Join(w.home, ".ssh/id_rsa")}, "permission denied")
	text := mustSucceed(t, c, "read capabilities", "read_file", map[string]any{"path": "/proc/self/status"})
	if !strings.Contains(text, "CapEff:\t0000000000000000") || !strings.Contains(text, "NoNewPrivs:\t1") || !strings.Contains(text, "Seccomp:\t2") {
		t.Errorf("capabilities, no_new_privs or seccomp not as expected:\n%s", grepLines(text, "Cap", "NoNewPrivs", "Seccomp"))
	}
	// No new user namespace (it would bring a fresh capability set).
	out, _ = toolText(t, c, "run", map[string]any{"argv": []string{"unshare", "-U", "-r", "true"}})
	if !strings.HasPrefix(out, "exit 1") {
		t.Errorf("unshare -U: %s", out)
	}
	// Remounting the read-only root writable needs CAP_SYS_ADMIN.
	out, _ = toolText(t, c, "run", map[string]any{"argv": []string{"mount", "-o", "remount,rw", "/"}})
	if strings.HasPrefix(out, "exit 0") {
		t.Errorf("remount / rw succeeded: %s", out)
	}
}

func grepLines(text string, prefixes ...string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		for _, p := range prefixes {
			if strings.HasPrefix(l, p) {
				out = append(out, l)
			}
		}
	}
	return strings.Join(out, "\n")
}

func TestHostProcessesInvisible(t *testing.T) {
	w := newWorld(t)
	c := connect(t, w)
	text := mustSucceed(t, c, "list processes", "list_processes", nil)
	lines := strings.Split(strings.TrimSpace(text), "\n")
	// srt-mcp's helper (PID 1) and the probe; nothing of the host (this
	// test binary).
	if len(lines) > 2 || strings.Contains(text, filepath.Base(os.Args[0])) {
		t.Errorf("sandbox sees %d processes:\n%s", len(lines), text)
	}
	for _, l := range lines {
		// PIDs in a fresh namespace are small; the helper's Go runtime
		// threads take a few before the probe starts.
		pid, _ := strconv.Atoi(strings.Fields(l)[0])
		if pid > 64 {
			t.Errorf("unexpected PID %d in a fresh PID namespace: %s", pid, l)
		}
	}
}

func TestHostUnixSocketUnreachable(t *testing.T) {
	w := newWorld(t)
	sock := filepath.Join(w.root, "host.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	// Every connection the host socket accepts, in accept order, by its
	// peer's address (the probe's are unnamed).
	accepted := make(chan string, 16)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c.RemoteAddr().String()
			c.Close()
		}
	}()
	c := connect(t, w)
	mustFail(t, c, "connect to a host unix socket", "connect_unix", map[string]any{"path": sock}, "operation not permitted")
	// A socketpair (no path, nothing outside) still works: sh pipelines and
	// Node child processes rely on it.
	mustSucceed(t, c, "socketpair via a subprocess", "run", map[string]any{"argv": []string{"sh", "-c", "echo ok | cat"}})
	select {
	case <-accepted:
		t.Error("the host socket accepted a connection from the sandbox")
	default:
	}

	// The same probe with unix sockets allowed does connect, so the denial
	// above is the filter's doing.
	s := w.settings(t, `{"network": {"allowAllUnixSockets": true}}`)
	// Another name: pins and launcher caches of its own.
	c2 := connect(t, w, "--settings", s, "--name", "probe-with-unix-sockets")
	mustSucceed(t, c2, "connect with allowAllUnixSockets", "connect_unix", map[string]any{"path": sock})
	// A connect returns once the connection is queued, and the queue is
	// accepted in order: a sentinel connection from the host, queued after
	// the probe's, is accepted after every connection the probe made. (The
	// count used to be read straight after the call, racing the accept
	// loop, which failed under load.)
	sentinel := filepath.Join(w.root, "sentinel.sock")
	sc, err := net.DialUnix("unix", &net.UnixAddr{Name: sentinel, Net: "unix"}, &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	n := 0
	for peer := range accepted { // go test's -timeout bounds a hang here
		if peer == sentinel {
			break
		}
		n++
	}
	if n != 1 {
		t.Errorf("host socket accepted %d connections, want exactly the allowed one", n)
	}
}

func TestNoDirectNetwork(t *testing.T) {
	w := newWorld(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c := connect(t, w)
	mustFail(t, c, "TCP to the host's loopback", "connect_tcp", map[string]any{"address": ln.Addr().String()}, "connection refused")
	mustFail(t, c, "TCP to a public address", "connect_tcp", map[string]any{"address": "1.1.1.1:443"}, "network is unreachable")
}

func TestLargeMessagesPassIntact(t *testing.T) {
	w := newWorld(t)
	c := connect(t, w)
	const n = 64 << 20
	got := mustSucceed(t, c, "64 MiB response", "bytes", map[string]any{"n": n})
	if len(got) != n || got != probe.Pattern(n) {
		t.Errorf("64 MiB response: got %d bytes, content equal: %v", len(got), got == probe.Pattern(n))
	}
	got = mustSucceed(t, c, "64 MiB request", "echo_len", map[string]any{"text": probe.Pattern(n)})
	if got != strconv.Itoa(n) {
		t.Errorf("server received %s bytes, want %d", got, n)
	}
}

// rawShim runs srt-mcp with plain pipes, for tests that speak JSON-RPC
// line by line or watch the process itself.
type rawShim struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *bufio.Reader
	stderr *stderrBuffer
}

type stderrBuffer struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	seen chan struct{} // signalled on every write
}

func (b *stderrBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	select {
	case b.seen <- struct{}{}:
	default:
	}
	return b.buf.Write(p)
}

func (b *stderrBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitFor blocks until stderr contains s (or the test times out).
func (b *stderrBuffer) waitFor(t *testing.T, s string) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for !strings.Contains(b.String(), s) {
		select {
		case <-b.seen:
		case <-deadline:
			t.Fatalf("stderr never showed %q:\n%s", s, b.String())
		}
	}
}

func startRawShim(t *testing.T, dir string, env []string, args ...string) *rawShim {
	t.Helper()
	cmd := exec.Command(testbin.SrtMCP(t), args...)
	cmd.Dir = dir
	cmd.Env = env
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	r := &rawShim{cmd: cmd, stdin: stdin, stdout: bufio.NewReaderSize(stdout, 1<<20), stderr: &stderrBuffer{seen: make(chan struct{}, 1)}}
	cmd.Stderr = r.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return r
}

func (r *rawShim) send(t *testing.T, msg string) {
	t.Helper()
	if _, err := io.WriteString(r.stdin, msg+"\n"); err != nil {
		t.Fatalf("writing to srt-mcp: %v", err)
	}
}

type reply struct {
	ID     json.RawMessage `json:"id"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int             `json:"code"`
		Message string          `json:"message"`
		Data    json.RawMessage `json:"data"`
	} `json:"error"`
}

func (r *rawShim) recv(t *testing.T) reply {
	t.Helper()
	line, err := r.stdout.ReadBytes('\n')
	if err != nil {
		t.Fatalf("reading from srt-mcp: %v (stderr: %s)", err, r.stderr.String())
	}
	var rep reply
	if err := json.Unmarshal(line, &rep); err != nil {
		t.Fatalf("srt-mcp wrote a non-JSON line: %q", line)
	}
	return rep
}

func (r *rawShim) exitCode(t *testing.T) int {
	t.Helper()
	err := r.cmd.Wait()
	if err == nil {
		return 0
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	t.Fatal(err)
	return -1
}

const initialize = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`

func initRaw(t *testing.T, r *rawShim) {
	t.Helper()
	r.send(t, initialize)
	if rep := r.recv(t); rep.Error != nil || string(rep.ID) != "1" {
		t.Fatalf("initialize: %+v", rep)
	}
	r.send(t, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
}

func TestServerDeathAnswersRequestsInFlight(t *testing.T) {
	testbin.RequireBwrap(t)
	w := newWorld(t)
	r := startRawShim(t, w.project, w.env(), "--", testbin.Probe(t))
	initRaw(t, r)
	r.send(t, `{"jsonrpc":"2.0","id":"slow","method":"tools/call","params":{"name":"run","arguments":{"argv":["sleep","30"]}}}`)
	r.send(t, `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"exit","arguments":{"code":3}}}`)
	got := map[string]reply{}
	for i := 0; i < 2; i++ {
		rep := r.recv(t)
		got[string(rep.ID)] = rep
	}
	for _, id := range []string{`"slow"`, `3`} {
		rep, ok := got[id]
		if !ok || rep.Error == nil {
			t.Fatalf("no error reply for id %s: %+v", id, got)
		}
		if !strings.Contains(rep.Error.Message, "exited (status 3)") || !strings.Contains(rep.Error.Message, "tools/call") {
			t.Errorf("id %s: message %q", id, rep.Error.Message)
		}
		if !strings.Contains(string(rep.Error.Data), "probe: exiting with status 3") {
			t.Errorf("id %s: data lacks the server's last stderr line: %s", id, rep.Error.Data)
		}
	}
	if code := r.exitCode(t); code != 3 {
		t.Errorf("srt-mcp exited %d, want the server's 3", code)
	}
}

func TestClientEOFEndsServer(t *testing.T) {
	testbin.RequireBwrap(t)
	w := newWorld(t)
	r := startRawShim(t, w.project, w.env(), "--", testbin.Probe(t))
	initRaw(t, r)
	r.stdin.Close()
	if code := r.exitCode(t); code != 0 {
		t.Errorf("srt-mcp exited %d after stdin EOF, want 0; stderr:\n%s", code, r.stderr.String())
	}
}

func TestShutdownEscalatesToSIGTERM(t *testing.T) {
	testbin.RequireBwrap(t)
	w := newWorld(t)
	// A server that ignores stdin EOF but honours SIGTERM.
	script := `trap 'echo got-TERM >&2; exit 42' TERM; echo ready >&2; while :; do sleep 0.05; done`
	r := startRawShim(t, w.project, w.env(), "--grace", "100ms", "--", "sh", "-c", script)
	r.stderr.waitFor(t, "ready")
	r.stdin.Close()
	if code := r.exitCode(t); code != 42 {
		t.Errorf("exit %d, want 42 from the TERM trap; stderr:\n%s", code, r.stderr.String())
	}
	if !strings.Contains(r.stderr.String(), "got-TERM") {
		t.Errorf("server never saw SIGTERM:\n%s", r.stderr.String())
	}
}

func TestShutdownEscalatesToSIGKILL(t *testing.T) {
	testbin.RequireBwrap(t)
	w := newWorld(t)
	script := `trap '' TERM; echo ready >&2; while :; do sleep 0.05; done`
	r := startRawShim(t, w.project, w.env(), "--grace", "100ms", "--", "sh", "-c", script)
	r.stderr.waitFor(t, "ready")
	r.stdin.Close()
	if code := r.exitCode(t); code != 128+9 {
		t.Errorf("exit %d, want 137 (SIGKILL); stderr:\n%s", code, r.stderr.String())
	}
}

func TestSignalsReachServer(t *testing.T) {
	testbin.RequireBwrap(t)
	w := newWorld(t)
	for _, tc := range []struct {
		sig    syscall.Signal
		script string
		want   int
	}{
		{syscall.SIGTERM, `trap 'echo got-signal >&2; exit 42' TERM; echo ready >&2; while :; do sleep 0.05; done`, 42},
		{syscall.SIGINT, `echo ready >&2; exec sleep 1000`, 128 + int(syscall.SIGINT)},
		{syscall.SIGHUP, `echo ready >&2; exec sleep 1000`, 128 + int(syscall.SIGHUP)},
		// No handler: SIGTERM's default action still applies, because the
		// server is not the PID namespace's init (srt-mcp's helper is).
		{syscall.SIGTERM, `echo ready >&2; exec sleep 1000`, 128 + int(syscall.SIGTERM)},
	} {
		t.Run(tc.sig.String(), func(t *testing.T) {
			r := startRawShim(t, w.project, w.env(), "--", "sh", "-c", tc.script)
			r.stderr.waitFor(t, "ready")
			if err := r.cmd.Process.Signal(tc.sig); err != nil {
				t.Fatal(err)
			}
			if code := r.exitCode(t); code != tc.want {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tc.want, r.stderr.String())
			}
		})
	}
}

func TestKillingTheShimLeavesNoProcess(t *testing.T) {
	testbin.RequireBwrap(t)
	w := newWorld(t)
	marker := strconv.Itoa(900000 + os.Getpid()%99999)
	r := startRawShim(t, w.project, w.env(), "--", testbin.Probe(t))
	initRaw(t, r)
	// A grandchild that would outlive its parent anywhere else.
	r.send(t, `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"run","arguments":{"argv":["sh","-c","sleep `+marker+` >/dev/null 2>&1 & echo started"]}}}`)
	if rep := r.recv(t); rep.Error != nil {
		t.Fatalf("run: %+v", rep)
	}
	if len(processesWith(marker)) == 0 {
		t.Fatal("the background sleep is not running; the test would prove nothing")
	}
	if err := r.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = r.cmd.Wait()
	// The kernel tears the namespace down asynchronously: poll, with a limit.
	deadline := time.Now().Add(10 * time.Second)
	for len(processesWith(marker)) > 0 || len(processesWith(testbin.Probe(t))) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("processes survived SIGKILL of srt-mcp: %v %v", processesWith(marker), processesWith(testbin.Probe(t)))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// processesWith lists host PIDs whose command line contains s.
func processesWith(s string) []int {
	var out []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err == nil && bytes.Contains(cmdline, []byte(s)) {
			out = append(out, pid)
		}
	}
	return out
}

func TestRelayIsByteExact(t *testing.T) {
	testbin.RequireBwrap(t)
	w := newWorld(t)
	// cat echoes the client's bytes back: whatever the shim relays in both
	// directions must come back unchanged. No line is a request (which the
	// shim would answer when cat exits), so the output is exactly the input.
	valid := []string{
		`{"jsonrpc":"2.0","id":12345678901234567891,"result":{"z":1,"a":1e400,"n":-0.0}}` + "\n",
		`{"jsonrpc":"2.0","method":"notifications/message","params":{"data":"\u00e9\ud83d\ude00 raw é"}}` + "\n",
		`[{"jsonrpc":"2.0","method":"a"},{"jsonrpc":"2.0","method":"b"}]` + "\n",
		`{"jsonrpc":"2.0","method":"big","params":{"s":"` + probe.Pattern(64<<20) + `"}}` + "\n",
	}
	invalid := []string{"not json at all\n", "\xff\xfe invalid utf-8 {\"id\":\n"}
	last := `{"jsonrpc":"2.0","method":"last line without newline"}`
	for _, tc := range []struct {
		name     string
		settings string
		lines    []string
		want     []string
	}{
		// Without a tool policy or pins there is no gate: every byte,
		// garbage included, passes.
		{"ungated", `{"mcp": {"pin": false}}`, append(append([]string{}, valid[:2]...), append(invalid, valid[2:]...)...), nil},
		// With the gate (pins are on by default), lines that are not one
		// JSON value never reach the server (each is answered with an
		// error, id null); every other byte passes unchanged.
		{"gated", `{}`, append(append([]string{}, valid[:2]...), append(invalid, valid[2:]...)...), valid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var in bytes.Buffer
			for _, l := range tc.lines {
				in.WriteString(l)
			}
			in.WriteString(last)
			want := append([]byte(nil), in.Bytes()...)
			if tc.want != nil {
				want = []byte(strings.Join(tc.want, "") + last)
			}
			cmd := exec.Command(testbin.SrtMCP(t), "--settings", w.settings(t, tc.settings), "--", "cat")
			cmd.Dir = w.project
			cmd.Env = w.env()
			cmd.Stdin = &in
			var out bytes.Buffer
			cmd.Stdout = &out
			stderr := &stderrBuffer{seen: make(chan struct{}, 1)}
			cmd.Stderr = stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("srt-mcp -- cat: %v\n%s", err, stderr.String())
			}
			got := out.Bytes()
			if tc.want != nil {
				// The shim's own answers to the refused lines are
				// interleaved between whole messages; take them out.
				var kept, refusals [][]byte
				for _, l := range bytes.SplitAfter(got, []byte("\n")) {
					if bytes.HasPrefix(l, []byte(`{"jsonrpc":"2.0","id":null,"error":{"code":-32600`)) {
						refusals = append(refusals, l)
						continue
					}
					kept = append(kept, l)
				}
				if len(refusals) != len(invalid) {
					t.Errorf("%d refusals (id null), want %d", len(refusals), len(invalid))
				}
				got = bytes.Join(kept, nil)
			}
			// The unterminated last line is relayed as it is: the shim
			// adds nothing to the server's bytes.
			if !bytes.Equal(got, want) {
				t.Errorf("relay changed the bytes: got %d bytes, want %d; first difference at %d", len(got), len(want), firstDiff(got, want))
			}
		})
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func TestStdoutCarriesOnlyServerOutput(t *testing.T) {
	testbin.RequireBwrap(t)
	w := newWorld(t)
	s := w.settings(t, `{"filesystem": {"denyRead": ["~/link-to-nowhere"]}}`)
	os.Symlink(filepath.Join(w.root, "target"), filepath.Join(w.home, "link-to-nowhere"))
	cmd := exec.Command(testbin.SrtMCP(t), "--settings", s, "--debug", "--", "sh", "-c", "echo out; echo err >&2")
	cmd.Dir = w.project
	cmd.Env = w.env()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatal(err, stderr.String())
	}
	if stdout.String() != "out\n" {
		t.Errorf("stdout = %q, want only the server's output", stdout.String())
	}
	// Notices and --debug go to stderr.
	for _, want := range []string{"err\n", "srt-mcp: exec ", "resolves to"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}
}

// TestUnterminatedLastLine: when the server exits after writing a last
// line without a newline, its bytes reach the client unchanged; requests
// still unanswered get srt-mcp's errors, each on a line of its own (the
// first one starts with the newline that separates it). A complete last
// response counts as an answer; a truncated one does not.
func TestUnterminatedLastLine(t *testing.T) {
	testbin.RequireBwrap(t)
	w := newWorld(t)
	complete := `{"jsonrpc":"2.0","id":1,"result":{}}`
	truncated := `{"jsonrpc":"2.0","id":1,"resu`
	for _, tc := range []struct {
		name, last string
		errorsFor  []string
	}{
		{"complete response", complete, []string{"2"}},
		{"truncated response", truncated, []string{"1", "2"}},
	} {
		for _, settings := range []string{`{}`, `{"mcp": {"pin": false}}`} {
			t.Run(tc.name+" "+settings, func(t *testing.T) {
				// The server reads both requests, writes its last line
				// without a newline, and exits.
				script := "read a; read b; printf '%s' '" + tc.last + "'"
				cmd := exec.Command(testbin.SrtMCP(t), "--settings", w.settings(t, settings), "--", "sh", "-c", script)
				cmd.Dir = w.project
				cmd.Env = w.env()
				stdin, err := cmd.StdinPipe()
				if err != nil {
					t.Fatal(err)
				}
				var out bytes.Buffer
				cmd.Stdout = &out
				stderr := &stderrBuffer{seen: make(chan struct{}, 1)}
				cmd.Stderr = stderr
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				io.WriteString(stdin, `{"jsonrpc":"2.0","id":1,"method":"ping"}`+"\n"+`{"jsonrpc":"2.0","id":2,"method":"ping"}`+"\n")
				cmd.Wait()
				stdin.Close()
				got := out.String()
				if !strings.HasPrefix(got, tc.last) {
					t.Fatalf("the server's bytes were not relayed first and unchanged: %q", got)
				}
				rest := strings.TrimPrefix(got, tc.last)
				var ids []string
				if rest != "" {
					if !strings.HasPrefix(rest, "\n") || !strings.HasSuffix(rest, "\n") {
						t.Fatalf("srt-mcp's errors are not on lines of their own: %q", got)
					}
					for _, l := range strings.Split(strings.Trim(rest, "\n"), "\n") {
						var m struct {
							ID    json.RawMessage     `json:"id"`
							Error *struct{ Code int } `json:"error"`
						}
						if err := json.Unmarshal([]byte(l), &m); err != nil || m.Error == nil {
							t.Fatalf("not an error reply: %q", l)
						}
						ids = append(ids, string(m.ID))
					}
				}
				if strings.Join(ids, ",") != strings.Join(tc.errorsFor, ",") {
					t.Errorf("errors for ids %v, want %v; stdout %q", ids, tc.errorsFor, got)
				}
			})
		}
	}
}
