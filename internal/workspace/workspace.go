// Package workspace makes the throw-away directories srt-mcp's own
// commands run servers in: a scratch directory for the audit, and for the
// demo and selftest a whole fake user (a home, a project inside it, and a
// copy of srt-mcp to run as the probe server).
//
// None of them is under /tmp: the sandbox gives the server a private /tmp,
// so files there would be invisible to it rather than protected from it.
package workspace

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/mark3labs/mcp-go/client"
	"github.com/srt-mcp/srt-mcp/internal/mcpclient"
)

// TempDir creates a new directory, named with prefix, under the user's
// cache directory. The caller removes it.
func TempDir(prefix string) (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(cache, 0o700); err != nil {
		return "", err
	}
	return os.MkdirTemp(cache, prefix)
}

// Workspace is a throw-away user for the demo and selftest.
type Workspace struct {
	Root, Home, Project string
	server              string // srt-mcp's copy, run as "server __probe"
	version             string // srt-mcp's version, as the probe's client
}

// New creates a workspace. version is what the probe's client reports as
// its own version.
func New(prefix, version string) (*Workspace, error) {
	root, err := TempDir(prefix)
	if err != nil {
		return nil, err
	}
	w := &Workspace{Root: root, Home: filepath.Join(root, "home"), Project: filepath.Join(root, "home", "project"), version: version}
	if err := os.MkdirAll(w.Project, 0o755); err != nil {
		w.Remove()
		return nil, err
	}
	self, err := os.Executable()
	if err != nil {
		w.Remove()
		return nil, err
	}
	// A copy inside the project stays reachable even when this binary
	// lives under /tmp (go run).
	w.server = filepath.Join(w.Project, ".srt-mcp-probe-server")
	if err := copyFile(self, w.server); err != nil {
		w.Remove()
		return nil, err
	}
	return w, nil
}

// Remove deletes the workspace.
func (w *Workspace) Remove() { os.RemoveAll(w.Root) }

// Write creates a file (and its directories) below the workspace root and
// returns its path.
func (w *Workspace) Write(rel, content string) (string, error) {
	p := filepath.Join(w.Root, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return "", err
	}
	return p, os.WriteFile(p, []byte(content), 0o644)
}

// ProbeClient runs the probe under srt-mcp (with srtArgs) in the project,
// with HOME set to the workspace's home, and returns an initialized client
// and the server's name.
func (w *Workspace) ProbeClient(ctx context.Context, serverLog io.Writer, srtArgs ...string) (*client.Client, string, error) {
	return w.ProbeClientIn(ctx, w.Project, filepath.Join(w.Root, "state"), serverLog, srtArgs...)
}

// ProbeClientIn is ProbeClient with the server started in dir and
// srt-mcp's state (tool pins) in state.
func (w *Workspace) ProbeClientIn(ctx context.Context, dir, state string, serverLog io.Writer, srtArgs ...string) (*client.Client, string, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, "", err
	}
	// XDG_CACHE_HOME too: private launcher caches go there, and must
	// vanish with the workspace.
	env := append(os.Environ(), "HOME="+w.Home, "XDG_STATE_HOME="+state, "XDG_CACHE_HOME="+filepath.Join(w.Home, ".cache"))
	args := append(append(append([]string{}, srtArgs...), "--"), w.server, "__probe")
	c, init, err := mcpclient.Start(ctx, mcpclient.Options{
		Command: self, Args: args, Env: env, Dir: dir, Stderr: serverLog,
		ClientName: "srt-mcp", ClientVersion: w.version,
	})
	if err != nil {
		return nil, "", err
	}
	return c, init.ServerInfo.Name, nil
}

// StartProbeIn starts another probe session in dir, with its own state so
// an earlier session's tool pins (tied to its policy) do not block its
// calls. The server's stderr is part of the error.
func (w *Workspace) StartProbeIn(ctx context.Context, dir string, srtArgs []string) (*client.Client, error) {
	state, err := os.MkdirTemp(w.Root, "state-")
	if err != nil {
		return nil, err
	}
	var log strings.Builder
	c, _, err := w.ProbeClientIn(ctx, dir, state, &log, srtArgs...)
	if err != nil {
		return nil, fmt.Errorf("%w\n%s", err, log.String())
	}
	return c, nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
