package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
)

// runDemo plays an MCP client against the probe server running under
// srt-mcp with the built-in default policy, in a throw-away home and
// project, and prints what the sandbox allowed and blocked.
func runDemo(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintln(stderr, "srt-mcp demo takes no arguments")
		return 2
	}
	code, err := demo(stdout, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "srt-mcp demo:", err)
		return 1
	}
	return code
}

func demo(stdout, stderr io.Writer) (int, error) {
	// Not under /tmp: the sandbox gives the server a private, empty /tmp, so
	// a demo home there would be invisible rather than protected.
	cache, err := os.UserCacheDir()
	if err != nil {
		return 1, err
	}
	if err := os.MkdirAll(cache, 0o700); err != nil {
		return 1, err
	}
	root, err := os.MkdirTemp(cache, "srt-mcp-demo-")
	if err != nil {
		return 1, err
	}
	defer os.RemoveAll(root)
	home := filepath.Join(root, "home")
	project := filepath.Join(home, "project")
	secret := filepath.Join(home, ".ssh", "id_ed25519")
	for _, d := range []string{filepath.Join(home, ".ssh"), filepath.Join(project, ".git", "hooks")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return 1, err
		}
	}
	files := map[string]string{
		secret:                                "-----BEGIN OPENSSH PRIVATE KEY----- (demo secret)\n",
		filepath.Join(home, ".bashrc"):        "# demo bashrc\n",
		filepath.Join(project, "README.md"):   "# demo project\n",
		filepath.Join(project, ".git/config"): "[core]\n",
	}
	for p, content := range files {
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			return 1, err
		}
	}
	// A host service on a unix socket, like docker.sock or an ssh-agent.
	sock := filepath.Join(root, "agent.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		return 1, err
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()

	// The server is srt-mcp's own probe mode. A copy inside the project keeps
	// it reachable even when this binary lives under /tmp (go run), which the
	// sandbox replaces with a private, empty /tmp.
	self, err := os.Executable()
	if err != nil {
		return 1, err
	}
	server := filepath.Join(project, ".srt-mcp-demo-server")
	if err := copyFile(self, server); err != nil {
		return 1, err
	}

	env := append(os.Environ(), "HOME="+home)
	var serverLog strings.Builder
	tr := transport.NewStdioWithOptions(self, env, []string{"--", server, "__probe"},
		transport.WithCommandFunc(func(ctx context.Context, command string, env []string, args []string) (*execCmd, error) {
			cmd := newCmd(ctx, command, args...)
			cmd.Env = env
			cmd.Dir = project
			return cmd, nil
		}),
		transport.WithCommandStderrWriter(&serverLog))
	c := client.NewClient(tr, client.WithProtocolVersion("2025-11-25"))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := c.Start(ctx); err != nil {
		return 1, err
	}
	defer c.Close()
	init, err := c.Initialize(ctx, mcp.InitializeRequest{Params: mcp.InitializeParams{
		ProtocolVersion: "2025-11-25",
		ClientInfo:      mcp.Implementation{Name: "srt-mcp-demo", Version: version},
	}})
	if err != nil {
		return 1, fmt.Errorf("initialize: %w\n%s", err, serverLog.String())
	}
	fmt.Fprintf(stdout, "srt-mcp demo: MCP server %q runs under srt-mcp (built-in default policy)\n", init.ServerInfo.Name)
	fmt.Fprintf(stdout, "  home    %s\n  project %s (working directory: the only writable place)\n\n", home, project)

	type step struct {
		what      string
		tool      string
		args      map[string]any
		wantBlock bool
	}
	steps := []step{
		{"read the project README", "read_file", map[string]any{"path": filepath.Join(project, "README.md")}, false},
		{"write a new file in the project", "write_file", map[string]any{"path": filepath.Join(project, "notes.txt")}, false},
		{"read the SSH private key ~/.ssh/id_ed25519", "read_file", map[string]any{"path": secret}, true},
		{"write ~/.bashrc (outside the project)", "write_file", map[string]any{"path": filepath.Join(home, ".bashrc")}, true},
		{"plant a git hook in project/.git/hooks", "write_file", map[string]any{"path": filepath.Join(project, ".git/hooks/pre-commit")}, true},
		{"rewrite project/.git/config", "write_file", map[string]any{"path": filepath.Join(project, ".git/config")}, true},
		{"connect to a host unix socket (agent.sock)", "connect_unix", map[string]any{"path": sock}, true},
		{"open a direct TCP connection to 1.1.1.1:443", "connect_tcp", map[string]any{"address": "1.1.1.1:443"}, true},
	}
	failures := 0
	for _, s := range steps {
		res, err := c.CallTool(ctx, mcp.CallToolRequest{Params: mcp.CallToolParams{Name: s.tool, Arguments: s.args}})
		if err != nil {
			return 1, fmt.Errorf("%s: %w", s.tool, err)
		}
		blocked := res.IsError
		verdict := "allowed"
		if blocked {
			verdict = "BLOCKED"
		}
		mark := "ok"
		if blocked != s.wantBlock {
			mark = "UNEXPECTED"
			failures++
		}
		fmt.Fprintf(stdout, "  %-8s %-46s %s  %s\n", verdict, s.what, mark, firstLine(resultText(res)))
	}
	res, err := c.CallTool(ctx, mcp.CallToolRequest{Params: mcp.CallToolParams{Name: "list_processes"}})
	if err == nil {
		n := len(strings.Split(strings.TrimSpace(resultText(res)), "\n"))
		fmt.Fprintf(stdout, "  %-8s %-46s ok  %d processes visible (the host's are hidden)\n", "hidden", "list the host's processes", n)
	}
	if failures > 0 {
		fmt.Fprintf(stdout, "\n%d step(s) did not behave as the policy says\n", failures)
		return 1, nil
	}
	fmt.Fprintf(stdout, "\nEvery step behaved as the policy says.\n")
	return 0, nil
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

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 70 {
		s = s[:70] + "…"
	}
	return s
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
