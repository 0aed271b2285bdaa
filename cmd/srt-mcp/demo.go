package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"
	"time"

	"github.com/srt-mcp/srt-mcp/internal/mcpclient"
	"github.com/srt-mcp/srt-mcp/internal/workspace"
)

// runDemo plays an MCP client against the probe server running under
// srt-mcp with the built-in default policy, in a throw-away home and
// project, and prints what the sandbox allowed and blocked.
func runDemo(args []string, stdout, stderr io.Writer) int {
	cmd := newCommand("demo", "", `Plays an MCP client against the probe server running under srt-mcp with the
built-in default policy, in a throw-away home and project, and prints what
the sandbox allowed and blocked. Exit 0 when every step behaved as the
policy says, 1 otherwise.
`)
	if code, done := cmd.parse(args, stdout, stderr); done {
		return code
	}
	if cmd.NArg() > 0 {
		return cmd.usageError(stderr, errors.New("takes no arguments"))
	}
	code, err := demo(stdout)
	if err != nil {
		fmt.Fprintln(stderr, "srt-mcp demo:", err)
		return 1
	}
	return code
}

func demo(stdout io.Writer) (int, error) {
	w, err := workspace.New("srt-mcp-demo-", version)
	if err != nil {
		return 1, err
	}
	defer w.Remove()
	secret, err := w.Write("home/.ssh/id_ed25519", "-----BEGIN OPENSSH PRIVATE KEY----- (demo secret)\n")
	if err != nil {
		return 1, err
	}
	for rel, content := range map[string]string{
		"home/.bashrc":                  "# demo bashrc\n",
		"home/project/README.md":        "# demo project\n",
		"home/project/.git/config":      "[core]\n",
		"home/project/.git/hooks/.keep": "",
	} {
		if _, err := w.Write(rel, content); err != nil {
			return 1, err
		}
	}
	// A host service on a unix socket, like docker.sock or an ssh-agent.
	sock := filepath.Join(w.Root, "agent.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		return 1, err
	}
	defer ln.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var serverLog strings.Builder
	c, name, err := w.ProbeClient(ctx, &serverLog, "--trace-dir", filepath.Join(w.Root, "traces"))
	if err != nil {
		return 1, fmt.Errorf("%w\n%s", err, serverLog.String())
	}
	defer c.Close()
	fmt.Fprintf(stdout, "srt-mcp demo: MCP server %q runs under srt-mcp (built-in default policy)\n", name)
	fmt.Fprintf(stdout, "  home    %s\n  project %s (working directory: the only writable place)\n\n", w.Home, w.Project)

	steps := []struct {
		what      string
		tool      string
		args      map[string]any
		wantBlock bool
	}{
		{"read the project README", "read_file", map[string]any{"path": filepath.Join(w.Project, "README.md")}, false},
		{"write a new file in the project", "write_file", map[string]any{"path": filepath.Join(w.Project, "notes.txt")}, false},
		{"read the SSH private key ~/.ssh/id_ed25519", "read_file", map[string]any{"path": secret}, true},
		{"write ~/.bashrc (outside the project)", "write_file", map[string]any{"path": filepath.Join(w.Home, ".bashrc")}, true},
		{"plant a git hook in project/.git/hooks", "write_file", map[string]any{"path": filepath.Join(w.Project, ".git/hooks/pre-commit")}, true},
		{"rewrite project/.git/config", "write_file", map[string]any{"path": filepath.Join(w.Project, ".git/config")}, true},
		{"connect to a host unix socket (agent.sock)", "connect_unix", map[string]any{"path": sock}, true},
		{"open a direct TCP connection to 1.1.1.1:443", "connect_tcp", map[string]any{"address": "1.1.1.1:443"}, true},
		{"fetch http://example.com/ through the proxy", "http_get", map[string]any{"url": "http://example.com/"}, true},
	}
	failures := 0
	for _, s := range steps {
		text, failed, err := mcpclient.CallTool(ctx, c, s.tool, s.args)
		if err != nil {
			return 1, err
		}
		blocked := failed || strings.HasPrefix(text, "403\n")
		verdict := "allowed"
		if blocked {
			verdict = "BLOCKED"
		}
		mark := "ok"
		if blocked != s.wantBlock {
			mark = "UNEXPECTED"
			failures++
		}
		fmt.Fprintf(stdout, "  %-8s %-46s %s  %s\n", verdict, s.what, mark, mcpclient.FirstLine(strings.TrimPrefix(text, "403\n")))
	}
	if text, _, err := mcpclient.CallTool(ctx, c, "list_processes", nil); err == nil {
		n := len(strings.Split(strings.TrimSpace(text), "\n"))
		fmt.Fprintf(stdout, "  %-8s %-46s ok  %d processes visible (the host's are hidden)\n", "hidden", "list the host's processes", n)
	}
	c.Close()
	fmt.Fprintf(stdout, "\nWhat srt-mcp reported on stderr (the MCP client's server log):\n")
	for _, l := range strings.Split(serverLog.String(), "\n") {
		if strings.HasPrefix(l, "srt-mcp: denied") {
			fmt.Fprintf(stdout, "  %s\n", l)
		}
	}
	if failures > 0 {
		fmt.Fprintf(stdout, "\n%d step(s) did not behave as the policy says\n", failures)
		return 1, nil
	}
	fmt.Fprintf(stdout, "\nEvery step behaved as the policy says.\n")
	return 0, nil
}
