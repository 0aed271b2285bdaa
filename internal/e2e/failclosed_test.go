//go:build unix

package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/srt-mcp/srt-mcp/internal/testbin"
)

// envWithPath replaces PATH in the world's environment.
func envWithPath(w *world, path string) []string {
	var env []string
	for _, kv := range w.env() {
		if !strings.HasPrefix(kv, "PATH=") {
			env = append(env, kv)
		}
	}
	return append(env, "PATH="+path)
}

// expectRefusal sends an initialize and a server/discover (the opening of
// newer protocol versions) and checks that both are answered with the
// shim's error, containing want, and that nothing else reaches stdout.
func expectRefusal(t *testing.T, r *rawShim, want ...string) {
	t.Helper()
	r.send(t, initialize)
	r.send(t, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	r.send(t, `{"jsonrpc":"2.0","id":"d","method":"server/discover","params":{}}`)
	for _, id := range []string{"1", `"d"`} {
		rep := r.recv(t)
		if string(rep.ID) != id || rep.Error == nil {
			t.Fatalf("reply %+v, want an error for id %s", rep, id)
		}
		if rep.Error.Code != -32001 {
			t.Errorf("error code %d, want -32001", rep.Error.Code)
		}
		for _, w := range want {
			if !strings.Contains(rep.Error.Message, w) {
				t.Errorf("error message %q lacks %q", rep.Error.Message, w)
			}
		}
	}
	r.stdin.Close()
	if rest, _ := r.stdout.ReadString(0); rest != "" {
		t.Errorf("more on stdout after the refusals: %q", rest)
	}
}

func TestFailClosedWithoutBubblewrap(t *testing.T) {
	w := newWorld(t)
	empty := t.TempDir()
	r := startRawShim(t, w.project, envWithPath(w, empty), "--", testbin.Probe(t))
	expectRefusal(t, r, "bubblewrap (bwrap) is not installed", "apt install bubblewrap")
	if code := r.exitCode(t); code != 69 {
		t.Errorf("exit %d, want 69", code)
	}
	if !strings.Contains(r.stderr.String(), "bubblewrap (bwrap) is not installed") {
		t.Errorf("stderr does not say why:\n%s", r.stderr.String())
	}
}

func TestFailClosedWhenUserNamespacesAreUnavailable(t *testing.T) {
	w := newWorld(t)
	// A stand-in for bwrap on a machine where user namespaces are disabled:
	// it fails the way bwrap does there, before anything runs.
	dir := t.TempDir()
	fake := filepath.Join(dir, "bwrap")
	script := "#!/bin/sh\necho 'bwrap: No permission to create new namespace, likely because the kernel does not allow non-privileged user namespaces.' >&2\nexit 1\n"
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	r := startRawShim(t, w.project, envWithPath(w, dir), "--", testbin.Probe(t))
	expectRefusal(t, r, "could not start the MCP server in its sandbox", "user namespaces")
	if code := r.exitCode(t); code != 69 {
		t.Errorf("exit %d, want 69", code)
	}
	if !strings.Contains(r.stderr.String(), "unprivileged user namespaces are disabled") {
		t.Errorf("stderr gives no fix:\n%s", r.stderr.String())
	}
}

func TestFailClosedWhenServerCommandIsMissing(t *testing.T) {
	testbin.RequireBwrap(t)
	w := newWorld(t)
	r := startRawShim(t, w.project, w.env(), "--", "/nonexistent/server")
	expectRefusal(t, r, "not found inside the sandbox")
	if code := r.exitCode(t); code != 69 {
		t.Errorf("exit %d, want 69", code)
	}
}

func TestFailClosedOnSettingsTypo(t *testing.T) {
	w := newWorld(t)
	s := w.settings(t, `{"filesystem": {"denyReed": ["~/.ssh"]}}`)
	r := startRawShim(t, w.project, w.env(), "--settings", s, "--", testbin.Probe(t))
	expectRefusal(t, r, `filesystem.denyReed: unknown key (did you mean "denyRead"?)`)
	if code := r.exitCode(t); code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
}

func TestFailClosedOnUnreadableSettings(t *testing.T) {
	w := newWorld(t)
	r := startRawShim(t, w.project, w.env(), "--settings", filepath.Join(w.root, "missing.json"), "--", testbin.Probe(t))
	expectRefusal(t, r, "cannot read settings")
	if code := r.exitCode(t); code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
}
