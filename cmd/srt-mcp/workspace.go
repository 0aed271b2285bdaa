package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
)

// workspace is a throw-away user for the demo and selftest: a home and a
// project inside it, plus a copy of srt-mcp to run as the probe server. It
// is not under /tmp: the sandbox gives the server a private /tmp, so files
// there would be invisible rather than protected.
type workspace struct {
	root, home, project string
	server              string // srt-mcp's copy, run as "server __probe"
}

func newWorkspace(prefix string) (*workspace, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cache, 0o700); err != nil {
		return nil, err
	}
	root, err := os.MkdirTemp(cache, prefix)
	if err != nil {
		return nil, err
	}
	w := &workspace{root: root, home: filepath.Join(root, "home"), project: filepath.Join(root, "home", "project")}
	if err := os.MkdirAll(w.project, 0o755); err != nil {
		w.remove()
		return nil, err
	}
	self, err := os.Executable()
	if err != nil {
		w.remove()
		return nil, err
	}
	// A copy inside the project stays reachable even when this binary
	// lives under /tmp (go run).
	w.server = filepath.Join(w.project, ".srt-mcp-probe-server")
	if err := copyFile(self, w.server); err != nil {
		w.remove()
		return nil, err
	}
	return w, nil
}

func (w *workspace) remove() { os.RemoveAll(w.root) }

// write creates a file (and its directories) below the workspace root.
func (w *workspace) write(rel, content string) (string, error) {
	p := filepath.Join(w.root, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return "", err
	}
	return p, os.WriteFile(p, []byte(content), 0o644)
}

// probeClient runs the probe under srt-mcp (with srtArgs) in the project,
// with HOME set to the workspace's home, and returns an initialized client.
func (w *workspace) probeClient(ctx context.Context, serverLog io.Writer, srtArgs ...string) (*client.Client, string, error) {
	return w.probeClientIn(ctx, w.project, filepath.Join(w.root, "state"), serverLog, srtArgs...)
}

// probeClientIn is probeClient with the server started in dir and
// srt-mcp's state (tool pins) in state.
func (w *workspace) probeClientIn(ctx context.Context, dir, state string, serverLog io.Writer, srtArgs ...string) (*client.Client, string, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, "", err
	}
	// XDG_CACHE_HOME too: private launcher caches go there, and must
	// vanish with the workspace.
	env := append(os.Environ(), "HOME="+w.home, "XDG_STATE_HOME="+state, "XDG_CACHE_HOME="+filepath.Join(w.home, ".cache"))
	args := append(append(append([]string{}, srtArgs...), "--"), w.server, "__probe")
	tr := transport.NewStdioWithOptions(self, env, args,
		transport.WithCommandFunc(func(_ context.Context, command string, env []string, args []string) (*exec.Cmd, error) {
			cmd := exec.Command(command, args...)
			cmd.Env = env
			cmd.Dir = dir
			return cmd, nil
		}),
		transport.WithCommandStderrWriter(serverLog))
	c := client.NewClient(tr, client.WithProtocolVersion("2025-11-25"))
	if err := c.Start(ctx); err != nil {
		return nil, "", err
	}
	init, err := c.Initialize(ctx, mcp.InitializeRequest{Params: mcp.InitializeParams{
		ProtocolVersion: "2025-11-25",
		ClientInfo:      mcp.Implementation{Name: "srt-mcp", Version: version},
	}})
	if err != nil {
		c.Close()
		return nil, "", fmt.Errorf("initialize: %w", err)
	}
	return c, init.ServerInfo.Name, nil
}

// callTool returns a tool's text and whether the tool reported an error.
func callTool(ctx context.Context, c *client.Client, tool string, args map[string]any) (string, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	res, err := c.CallTool(ctx, mcp.CallToolRequest{Params: mcp.CallToolParams{Name: tool, Arguments: args}})
	if err != nil {
		return "", false, fmt.Errorf("%s: %w", tool, err)
	}
	return resultText(res), res.IsError, nil
}

func resultText(r *mcp.CallToolResult) string {
	var parts []string
	for _, c := range r.Content {
		if t, ok := c.(mcp.TextContent); ok {
			parts = append(parts, t.Text)
		}
	}
	return strings.Join(parts, "\n")
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
