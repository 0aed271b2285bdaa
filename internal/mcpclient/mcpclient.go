// Package mcpclient is the one MCP client srt-mcp's own commands use (demo,
// selftest, audit): it starts a stdio server, initializes the session and
// reads tool answers as text.
package mcpclient

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
)

// protocolVersion is the MCP revision the client speaks.
const protocolVersion = "2025-11-25"

// Options say how to start the server and who the client says it is.
type Options struct {
	Command string
	Args    []string
	Env     []string
	Dir     string    // the server's working directory
	Stderr  io.Writer // the server's stderr (srt-mcp's denials land here)

	ClientName, ClientVersion string
	// Roots, when not nil, are offered to the server: the client
	// announces the roots capability and answers roots/list with them.
	Roots []mcp.Root
}

// Start starts the server and initializes the session. On error nothing is
// left running.
func Start(ctx context.Context, opt Options) (*client.Client, *mcp.InitializeResult, error) {
	tr := transport.NewStdioWithOptions(opt.Command, opt.Env, opt.Args,
		transport.WithCommandFunc(func(_ context.Context, command string, env []string, args []string) (*exec.Cmd, error) {
			cmd := exec.Command(command, args...)
			cmd.Env, cmd.Dir = env, opt.Dir
			return cmd, nil
		}),
		transport.WithCommandStderrWriter(opt.Stderr))
	clientOpts := []client.ClientOption{client.WithProtocolVersion(protocolVersion)}
	params := mcp.InitializeParams{
		ProtocolVersion: protocolVersion,
		ClientInfo:      mcp.Implementation{Name: opt.ClientName, Version: opt.ClientVersion},
	}
	if opt.Roots != nil {
		clientOpts = append(clientOpts, client.WithRootsHandler(roots(opt.Roots)))
		params.Capabilities.Roots = &struct {
			ListChanged bool `json:"listChanged,omitempty"`
		}{}
	}
	c := client.NewClient(tr, clientOpts...)
	if err := c.Start(ctx); err != nil {
		return nil, nil, err
	}
	init, err := c.Initialize(ctx, mcp.InitializeRequest{Params: params})
	if err != nil {
		c.Close()
		return nil, nil, fmt.Errorf("initialize: %w", err)
	}
	return c, init, nil
}

type roots []mcp.Root

func (r roots) ListRoots(context.Context, mcp.ListRootsRequest) (*mcp.ListRootsResult, error) {
	return &mcp.ListRootsResult{Roots: r}, nil
}

// callTimeout bounds one tool call, so a probe that hangs inside the
// sandbox fails its row instead of stalling the whole run.
const callTimeout = 30 * time.Second

// CallTool returns a tool's text and whether the tool reported an error.
func CallTool(ctx context.Context, c *client.Client, tool string, args map[string]any) (string, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	res, err := c.CallTool(ctx, mcp.CallToolRequest{Params: mcp.CallToolParams{Name: tool, Arguments: args}})
	if err != nil {
		return "", false, fmt.Errorf("%s: %w", tool, err)
	}
	return Text(res), res.IsError, nil
}

// Text is a tool result's text content, one part a line.
func Text(r *mcp.CallToolResult) string {
	var parts []string
	for _, c := range r.Content {
		if t, ok := c.(mcp.TextContent); ok {
			parts = append(parts, t.Text)
		}
	}
	return strings.Join(parts, "\n")
}

// Line is the first line of a tool's answer, whole: for --json, where
// the end of an error (its errno) must not be lost.
func Line(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// FirstLine is the first line of a tool's answer, cut to fit a table row.
func FirstLine(s string) string {
	s = Line(s)
	if len(s) > 70 {
		s = s[:70] + "…"
	}
	return s
}
