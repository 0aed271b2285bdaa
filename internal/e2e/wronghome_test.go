//go:build unix

package e2e

import (
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/srt-mcp/srt-mcp/internal/testbin"
)

// TestEscapeWrongHOME: with HOME pointing elsewhere (an MCP client entry's
// env, sudo -E, a service's HOME=/), the account's real home lost every
// protection: ~/.ssh and ~/.claude.json readable, and with the server
// started in the home, ~/.bash_profile writable (found by an outside
// review). The account's home from the password database is protected
// too. It needs an account whose home the test may point at its world, so
// it runs as root, for an unprivileged account it creates.
func TestEscapeWrongHOME(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root, to create an account whose home is the test's world")
	}
	testbin.RequireBwrap(t)
	// An account of its own, created with the world as its home and
	// removed afterwards (usermod refuses to move the home of an account
	// with running processes).
	const name = "srtmcp-e2e-home"
	exec.Command("userdel", name).Run() // left over from an interrupted run
	w := NewWorld(t, User{Name: "user", UID: 0, GID: 0})
	if out, err := exec.Command("useradd", "--system", "--user-group", "--no-create-home", "--home-dir", w.Home, "--shell", "/usr/sbin/nologin", name).CombinedOutput(); err != nil {
		t.Fatalf("useradd: %v\n%s", err, out)
	}
	t.Cleanup(func() { exec.Command("userdel", name).Run() })
	acct, err := user.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(acct.Uid)
	gid, _ := strconv.Atoi(acct.Gid)
	w.User = User{Name: "user", UID: uid, GID: gid}
	w.Write(t, "home/.claude.json", `{"token": "CANARY-CLAUDE"}`)
	w.Write(t, "home/.bash_profile", "# profile\n") // chowns the whole world to the account
	elsewhere := w.Mkdir(t, "elsewhere")
	w.Env = append(w.Env, "HOME="+elsewhere)

	s := w.ConnectIn(t, w.Project, []string{testbin.Probe(t)})
	for _, f := range []string{".ssh/id_rsa", ".claude.json"} {
		text := s.MustBlock(t, "read ~/"+f+" of the real home", "read_file", map[string]any{"path": filepath.Join(w.Home, f)})
		if strings.Contains(text, "SECRET") || strings.Contains(text, "CANARY") {
			t.Errorf("ESCAPE: read %s", f)
		}
	}
	// Started in the real home: "." must not make it writable.
	s = w.ConnectIn(t, w.Home, []string{testbin.Probe(t)})
	s.MustBlock(t, "write ~/.bash_profile", "write_file", map[string]any{"path": filepath.Join(w.Home, ".bash_profile"), "content": "echo PWNED\n"})
	if b, _ := os.ReadFile(filepath.Join(w.Home, ".bash_profile")); string(b) != "# profile\n" {
		t.Errorf("ESCAPE: ~/.bash_profile is now %q", b)
	}
}
