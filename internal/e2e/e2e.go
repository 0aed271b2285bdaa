//go:build unix

// Package e2e drives the built srt-mcp end to end for escape tests: a
// throw-away world (home, credentials, a git project) owned by the user the
// test runs as, srt-mcp started on the probe server as that user with a
// real MCP client, and host-side commands (git, cat) run afterwards as the
// same user to see whether an attack from inside had an effect outside.
//
// Every escape test runs twice through ForEachUser: as the current user
// and, when that is root, as an unprivileged user the suite creates. A
// protection that holds only for one of them does not hold.
package e2e

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
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

// UnprivilegedName is the account the suite creates, when run as root, to
// run escape tests as an ordinary user.
const UnprivilegedName = "srtmcp-e2e"

// User is an identity escape tests run srt-mcp and host commands as.
type User struct {
	Name     string
	UID, GID int
}

// Root reports whether u is the superuser.
func (u User) Root() bool { return u.UID == 0 }

// credential is nil for the test process's own identity.
func (u User) credential() *syscall.Credential {
	if u.UID == os.Getuid() && u.GID == os.Getgid() {
		return nil
	}
	return &syscall.Credential{Uid: uint32(u.UID), Gid: uint32(u.GID), NoSetGroups: true}
}

var (
	unprivOnce sync.Once
	unpriv     *User
	unprivErr  error
)

// Users returns the identities to test as: the current user, and, when the
// suite runs as root, the unprivileged user (created with useradd if it
// does not exist yet).
func Users(t testing.TB) []User {
	t.Helper()
	self := User{Name: "self", UID: os.Getuid(), GID: os.Getgid()}
	if self.Root() {
		self.Name = "root"
	} else {
		self.Name = "user"
	}
	if !self.Root() {
		return []User{self}
	}
	unprivOnce.Do(func() {
		u, err := user.Lookup(UnprivilegedName)
		if err != nil {
			out, e := exec.Command("useradd", "--system", "--user-group", "--no-create-home",
				"--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", UnprivilegedName).CombinedOutput()
			if e != nil {
				unprivErr = fmt.Errorf("useradd %s: %v\n%s", UnprivilegedName, e, out)
				return
			}
			if u, err = user.Lookup(UnprivilegedName); err != nil {
				unprivErr = err
				return
			}
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		unpriv = &User{Name: "user", UID: uid, GID: gid}
	})
	if unprivErr != nil {
		t.Fatalf("creating the unprivileged test user: %v", unprivErr)
	}
	return []User{self, *unpriv}
}

// ForEachUser runs fn as a subtest per identity from Users ("root", "user").
func ForEachUser(t *testing.T, fn func(t *testing.T, u User)) {
	t.Helper()
	testbin.RequireBwrap(t)
	for _, u := range Users(t) {
		t.Run(u.Name, func(t *testing.T) { fn(t, u) })
	}
}

// World is a throw-away user environment owned by User: Home holds
// credentials and shell start-up files, Project (inside Home) is a git
// repository and the server's working directory. It lives under /var/tmp,
// not /tmp, which the sandbox replaces with a private directory.
type World struct {
	User                User
	Root, Home, Project string
	// Env is added to the environment of srt-mcp and of host commands.
	Env []string
}

// NewWorld creates a world for u with a few well-known files: a decoy SSH
// key, ~/.bashrc, and a project with README.md, .git/config and a sample
// hook. Call Git to make the project a real repository.
func NewWorld(t testing.TB, u User) *World {
	t.Helper()
	root, err := os.MkdirTemp("/var/tmp", "srt-mcp-e2e-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	if root, err = filepath.EvalSymlinks(root); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatal(err)
	}
	w := &World{User: u, Root: root, Home: filepath.Join(root, "home"), Project: filepath.Join(root, "home", "project")}
	w.Write(t, "home/.ssh/id_rsa", "SECRET-SSH-KEY")
	w.Write(t, "home/.bashrc", "# rc\n")
	w.Write(t, "home/project/README.md", "hello\n")
	w.chown(t, root)
	return w
}

// Write creates a file below the world's root (directories as needed),
// owned by the world's user, and returns its path.
func (w *World) Write(t testing.TB, rel, content string) string {
	t.Helper()
	p := filepath.Join(w.Root, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	w.chown(t, w.Root)
	return p
}

// Mkdir creates a directory below the world's root, owned by its user.
func (w *World) Mkdir(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join(w.Root, rel)
	if err := os.MkdirAll(p, 0o755); err != nil {
		t.Fatal(err)
	}
	w.chown(t, w.Root)
	return p
}

// Settings writes a settings file outside the project and returns its path.
func (w *World) Settings(t testing.TB, body string) string {
	return w.Write(t, "settings.json", body)
}

func (w *World) chown(t testing.TB, dir string) {
	t.Helper()
	if w.User.credential() == nil {
		return
	}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, w.User.UID, w.User.GID)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Environ is the environment srt-mcp and host commands get: the test's
// own, with HOME and the XDG directories inside the world.
func (w *World) Environ() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "HOME", "USER", "LOGNAME", "XDG_STATE_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_RUNTIME_DIR":
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "HOME="+w.Home,
		"XDG_STATE_HOME="+filepath.Join(w.Home, ".local", "state"),
		"XDG_CONFIG_HOME="+filepath.Join(w.Home, ".config"),
		"XDG_CACHE_HOME="+filepath.Join(w.Home, ".cache"))
	return append(env, w.Env...)
}

// Command prepares a host command run as the world's user in dir with the
// world's environment (for example a real git after an attack).
func (w *World) Command(dir string, argv ...string) *exec.Cmd {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = w.Environ()
	if c := w.User.credential(); c != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c}
	}
	return cmd
}

// Git makes the project a git repository with one commit, as its user.
func (w *World) Git(t testing.TB) {
	t.Helper()
	for _, argv := range [][]string{
		{"git", "init", "-q"},
		{"git", "-c", "user.name=t", "-c", "user.email=t@example.com", "add", "-A"},
		{"git", "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "init"},
	} {
		if out, err := w.Command(w.Project, argv...).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(argv, " "), err, out)
		}
	}
}

// Session is srt-mcp running the probe (or another server) for one test,
// with an initialized MCP client.
type Session struct {
	Client *client.Client
	stderr *syncBuffer
}

// Connect starts srt-mcp with srtArgs on the probe server, in the project,
// as the world's user.
func (w *World) Connect(t *testing.T, srtArgs ...string) *Session {
	t.Helper()
	return w.ConnectIn(t, w.Project, []string{testbin.Probe(t)}, srtArgs...)
}

// ConnectIn starts srt-mcp with srtArgs on server, with working directory
// dir, as the world's user, and initializes an MCP client.
func (w *World) ConnectIn(t *testing.T, dir string, server []string, srtArgs ...string) *Session {
	t.Helper()
	testbin.RequireBwrap(t)
	s := &Session{stderr: &syncBuffer{t: t}}
	args := append(append(append([]string{}, srtArgs...), "--"), server...)
	tr := transport.NewStdioWithOptions(testbin.SrtMCP(t), w.Environ(), args,
		transport.WithCommandFunc(func(_ context.Context, command string, env []string, args []string) (*exec.Cmd, error) {
			cmd := w.Command(dir, append([]string{command}, args...)...)
			cmd.Env = env
			return cmd, nil
		}),
		transport.WithCommandStderrWriter(s.stderr))
	c := client.NewClient(tr, client.WithProtocolVersion("2025-11-25"))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := c.Initialize(ctx, mcp.InitializeRequest{Params: mcp.InitializeParams{
		ProtocolVersion: "2025-11-25",
		ClientInfo:      mcp.Implementation{Name: "srt-mcp-e2e", Version: "1"},
	}}); err != nil {
		t.Fatalf("initialize: %v\nsrt-mcp stderr:\n%s", err, s.Stderr())
	}
	s.Client = c
	return s
}

// Call invokes a tool and returns its text and whether the tool reported an
// error.
func (s *Session) Call(t testing.TB, tool string, args map[string]any) (string, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := s.Client.CallTool(ctx, mcp.CallToolRequest{Params: mcp.CallToolParams{Name: tool, Arguments: args}})
	if err != nil {
		t.Fatalf("%s: %v\nsrt-mcp stderr:\n%s", tool, err, s.Stderr())
	}
	var text strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(mcp.TextContent); ok {
			text.WriteString(tc.Text)
		}
	}
	return text.String(), res.IsError
}

// MustBlock calls an attack tool and fails the test unless the tool reports
// an error (the attack was stopped). It returns the tool's text.
func (s *Session) MustBlock(t testing.TB, what, tool string, args map[string]any) string {
	t.Helper()
	text, failed := s.Call(t, tool, args)
	if !failed {
		t.Errorf("ESCAPE: %s succeeded: %s", what, text)
	}
	return text
}

// Run runs argv inside the sandbox through the probe's run tool and returns
// its combined output and exit status.
func (s *Session) Run(t testing.TB, argv ...string) (string, int) {
	t.Helper()
	text, failed := s.Call(t, "run", map[string]any{"argv": argv})
	if failed {
		return text, -1
	}
	head, out, _ := strings.Cut(text, "\n")
	status, err := strconv.Atoi(strings.TrimPrefix(head, "exit "))
	if err != nil {
		t.Fatalf("run: unexpected reply %q", text)
	}
	return out, status
}

// Stderr is what srt-mcp has written to stderr so far.
func (s *Session) Stderr() string { return s.stderr.String() }

// ProbeName is the probe's serverInfo.name.
const ProbeName = probe.Name

type syncBuffer struct {
	t       *testing.T
	mu      sync.Mutex
	b       strings.Builder
	changed chan struct{} // signalled (without blocking) after each write
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	b.b.Write(p)
	ch := b.signal()
	b.mu.Unlock()
	select {
	case ch <- struct{}{}:
	default:
	}
	return len(p), nil
}

// signal is the channel a write signals; b.mu must be held.
func (b *syncBuffer) signal() chan struct{} {
	if b.changed == nil {
		b.changed = make(chan struct{}, 1)
	}
	return b.changed
}

// WaitStderr blocks until srt-mcp's stderr satisfies done, waking on each
// write to it, and fails the test if that does not happen within timeout.
func (s *Session) WaitStderr(t testing.TB, timeout time.Duration, done func(stderr string) bool) string {
	t.Helper()
	deadline := time.After(timeout)
	for {
		s.stderr.mu.Lock()
		e, ch := s.stderr.b.String(), s.stderr.signal()
		s.stderr.mu.Unlock()
		if done(e) {
			return e
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("srt-mcp's stderr did not show what the test waits for within %v:\n%s", timeout, e)
		}
	}
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
