//go:build unix

package e2e

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/srt-mcp/srt-mcp/internal/testbin"
)

// The attacks in this file use where the MCP client starts the server:
// Claude Desktop starts servers in "/", other clients in the home
// directory, and the default policy's allowWrite ["."] must not turn that
// into a writable disk or home.

// hostTmpMarker puts a file in the host's /tmp for the test and returns
// its path: a server that can read it sees the host's /tmp.
func hostTmpMarker(t *testing.T) string {
	t.Helper()
	f, err := os.CreateTemp("/tmp", "srt-mcp-host-tmp-")
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("HOST-TMP")
	f.Close()
	os.Chmod(f.Name(), 0o644)
	t.Cleanup(func() { os.Remove(f.Name()) })
	return f.Name()
}

// checkIsolation asserts what stays whatever allowWrite says: a fresh
// /proc with no host process in it, a private /tmp, a working /dev/null.
func checkIsolation(t *testing.T, s *Session, marker string) {
	t.Helper()
	procs, _ := s.Call(t, "list_processes", nil)
	self := strconv.Itoa(os.Getpid())
	if strings.Contains("\n"+procs, "\n"+self+" ") || strings.Contains(procs, "go test") || strings.Contains(procs, ".test") {
		t.Errorf("ESCAPE: host processes are visible (%d lines, the test's own pid %s among them)", strings.Count(procs, "\n"), self)
	}
	if text, failed := s.Call(t, "read_file", map[string]any{"path": marker}); !failed {
		t.Errorf("ESCAPE: the host's /tmp is visible: read %s: %q", marker, text)
	}
	if out, status := s.Run(t, "sh", "-c", "echo x > /dev/null && echo ok > /tmp/private && cat /tmp/private"); status != 0 || strings.TrimSpace(out) != "ok" {
		t.Errorf("/dev/null or the private /tmp is broken: %q (status %d)", out, status)
	}
}

// TestStartedInRootDirectory: the client starts the server in "/" under
// the default policy. Before the fix, "." made the whole disk writable and
// the bind of "/" brought back the host's /proc and /tmp.
func TestStartedInRootDirectory(t *testing.T) {
	ForEachUser(t, func(t *testing.T, u User) {
		w := NewWorld(t, u)
		marker := hostTmpMarker(t)
		s := w.ConnectIn(t, "/", []string{testbin.Probe(t)})
		s.MustBlock(t, "write the project from a server started in /", "write_file", map[string]any{"path": filepath.Join(w.Project, "owned"), "content": "x"})
		s.MustBlock(t, "write the home from a server started in /", "write_file", map[string]any{"path": filepath.Join(w.Home, "owned"), "content": "x"})
		checkIsolation(t, s, marker)
		var hint []string
		for _, l := range strings.Split(s.Stderr(), "\n") {
			if strings.Contains(l, "filesystem.allowWrite") && strings.Contains(l, "not made writable") {
				hint = append(hint, l)
			}
		}
		if len(hint) != 1 {
			t.Errorf("want one stderr line saying how to grant a writable directory, got %q in:\n%s", hint, s.Stderr())
		}
	})
}

// TestStartedInHomeDirectory: the client starts the server in the home
// directory under the default policy; "." must not make the home writable.
func TestStartedInHomeDirectory(t *testing.T) {
	ForEachUser(t, func(t *testing.T, u User) {
		w := NewWorld(t, u)
		s := w.ConnectIn(t, w.Home, []string{testbin.Probe(t)})
		for _, p := range []string{"owned", ".bashrc", "project/owned"} {
			s.MustBlock(t, "write ~/"+p+" from a server started in ~", "write_file", map[string]any{"path": filepath.Join(w.Home, p), "content": "x"})
		}
		if !strings.Contains(s.Stderr(), "not made writable") {
			t.Errorf("no stderr hint about the working directory:\n%s", s.Stderr())
		}
	})
}

// persistenceFiles are existing files under the home through which a
// write gets code run outside the sandbox later.
var persistenceFiles = []string{
	".bashrc",
	".profile",
	".zshenv",
	".local/bin/git",
	".config/git/config",
	".config/fish/config.fish",
	".config/systemd/user/default.target.wants/x.service",
	".config/autostart/x.desktop",
	".config/environment.d/10-x.conf",
	".inputrc",
	".xprofile",
	".pam_environment",
	".ssh/authorized_keys",
}

// TestPersistencePointsStayReadOnlyInWritableHome: the user made the home
// writable explicitly (allowWrite ["~"]); the server writes the files that
// run code at the next login, shell, git command or desktop session.
func TestPersistencePointsStayReadOnlyInWritableHome(t *testing.T) {
	ForEachUser(t, func(t *testing.T, u User) {
		w := NewWorld(t, u)
		for _, f := range persistenceFiles {
			w.Write(t, filepath.Join("home", f), "# original\n")
		}
		settings := w.Settings(t, `{"filesystem": {"allowWrite": ["~"], "allowRead": ["~/.ssh"]}}`)
		s := w.ConnectIn(t, w.Home, []string{testbin.Probe(t)}, "--settings", settings)
		if text, failed := s.Call(t, "write_file", map[string]any{"path": filepath.Join(w.Home, "notes.txt"), "content": "x"}); failed {
			t.Fatalf("the home the user made writable: %s", text)
		}
		for _, f := range persistenceFiles {
			p := filepath.Join(w.Home, f)
			s.MustBlock(t, "write ~/"+f, "write_file", map[string]any{"path": p, "content": "touch /var/tmp/pwned\n"})
			if b, _ := os.ReadFile(p); string(b) != "# original\n" {
				t.Errorf("ESCAPE: ~/%s on the host now reads %q", f, b)
			}
		}
	})
}

// TestMissingPersistencePointsCannotBeCreated: the same with files that
// do not exist yet. Passes only with the seccomp broker that refuses
// creating protected paths.
func TestMissingPersistencePointsCannotBeCreated(t *testing.T) {
	ForEachUser(t, func(t *testing.T, u User) {
		w := NewWorld(t, u)
		w.Mkdir(t, "home/.local/bin")
		w.Mkdir(t, "home/.config")
		settings := w.Settings(t, `{"filesystem": {"allowWrite": ["~"]}}`)
		s := w.ConnectIn(t, w.Home, []string{testbin.Probe(t)}, "--settings", settings)
		for _, f := range []string{".local/bin/ls", ".config/systemd/user/evil.service", ".config/fish/config.fish", ".zshrc", ".config/git/config"} {
			p := filepath.Join(w.Home, f)
			s.Call(t, "run", map[string]any{"argv": []string{"mkdir", "-p", filepath.Dir(p)}})
			s.MustBlock(t, "create ~/"+f, "write_file", map[string]any{"path": p, "content": "touch /var/tmp/pwned\n"})
		}
	})
}

// TestWholeDiskWritableKeepsIsolation: allowWrite ["/"] written on
// purpose makes the disk writable, but the fresh /proc, the PID namespace,
// /dev/null and the private /tmp stay.
func TestWholeDiskWritableKeepsIsolation(t *testing.T) {
	ForEachUser(t, func(t *testing.T, u User) {
		w := NewWorld(t, u)
		marker := hostTmpMarker(t)
		settings := w.Settings(t, `{"filesystem": {"allowWrite": ["/"]}}`)
		s := w.Connect(t, "--settings", settings)
		if text, failed := s.Call(t, "write_file", map[string]any{"path": filepath.Join(w.Root, "anywhere"), "content": "x"}); failed {
			t.Errorf("allowWrite [\"/\"] should make the disk writable: %s", text)
		}
		checkIsolation(t, s, marker)
	})
}
