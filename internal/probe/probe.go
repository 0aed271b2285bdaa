// Package probe is an MCP server whose tools try the things a sandbox must
// stop: read and write files, list processes, reach unix sockets, dial out,
// run commands. Tests, the demo and selftest run it inside the sandbox and
// read the outcome of each attempt from the tool results.
package probe

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// Name is the serverInfo.name the probe reports.
const Name = "srt-mcp-probe"

// New builds the probe server.
func New() *server.MCPServer {
	s := server.NewMCPServer(Name, "1.0.0", server.WithToolCapabilities(false))
	str := func(name, desc string) mcp.ToolOption {
		return mcp.WithString(name, mcp.Required(), mcp.Description(desc))
	}

	s.AddTool(mcp.NewTool("read_file", mcp.WithDescription("Read a file and return its content."),
		str("path", "file to read")),
		func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			data, err := os.ReadFile(req.GetString("path", ""))
			if err != nil {
				return mcp.NewToolResultError(err.Error()), nil
			}
			return mcp.NewToolResultText(string(data)), nil
		})
	s.AddTool(mcp.NewTool("write_file", mcp.WithDescription("Create or overwrite a file."),
		str("path", "file to write"), mcp.WithString("content", mcp.Description("text to write"))),
		func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			path := req.GetString("path", "")
			if err := os.WriteFile(path, []byte(req.GetString("content", "probe")), 0o644); err != nil {
				return mcp.NewToolResultError(err.Error()), nil
			}
			return mcp.NewToolResultText("wrote " + path), nil
		})
	s.AddTool(mcp.NewTool("list_dir", mcp.WithDescription("List a directory."), str("path", "directory")),
		func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			entries, err := os.ReadDir(req.GetString("path", ""))
			if err != nil {
				return mcp.NewToolResultError(err.Error()), nil
			}
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			return mcp.NewToolResultText(strings.Join(names, "\n")), nil
		})
	s.AddTool(mcp.NewTool("list_processes", mcp.WithDescription("List the processes visible in /proc, as 'pid cmdline' lines.")),
		func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return mcp.NewToolResultText(listProcesses()), nil
		})
	s.AddTool(mcp.NewTool("connect_unix", mcp.WithDescription("Connect to a unix socket."), str("path", "socket path")),
		func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			c, err := net.DialTimeout("unix", req.GetString("path", ""), 2*time.Second)
			if err != nil {
				return mcp.NewToolResultError(err.Error()), nil
			}
			c.Close()
			return mcp.NewToolResultText("connected"), nil
		})
	s.AddTool(mcp.NewTool("connect_tcp", mcp.WithDescription("Open a TCP connection directly, bypassing any proxy."), str("address", "host:port")),
		func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			c, err := net.DialTimeout("tcp", req.GetString("address", ""), 2*time.Second)
			if err != nil {
				return mcp.NewToolResultError(err.Error()), nil
			}
			c.Close()
			return mcp.NewToolResultText("connected"), nil
		})
	s.AddTool(mcp.NewTool("env", mcp.WithDescription("Return the environment, one VAR=value per line, sorted.")),
		func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			env := os.Environ()
			sort.Strings(env)
			return mcp.NewToolResultText(strings.Join(env, "\n")), nil
		})
	s.AddTool(mcp.NewTool("bytes", mcp.WithDescription("Return a text of n bytes."), mcp.WithNumber("n", mcp.Required())),
		func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return mcp.NewToolResultText(Pattern(req.GetInt("n", 0))), nil
		})
	s.AddTool(mcp.NewTool("echo_len", mcp.WithDescription("Return the length of the text it was given."), str("text", "any text")),
		func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return mcp.NewToolResultText(strconv.Itoa(len(req.GetString("text", "")))), nil
		})
	s.AddTool(mcp.NewTool("exit", mcp.WithDescription("Exit the server at once with the given status, without replying."),
		mcp.WithNumber("code", mcp.Required())),
		func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			fmt.Fprintf(os.Stderr, "probe: exiting with status %d as asked\n", req.GetInt("code", 0))
			os.Exit(req.GetInt("code", 0))
			return nil, nil
		})
	s.AddTool(mcp.NewTool("run", mcp.WithDescription("Run a command (argv as a JSON array of strings) and return its exit status and combined output."),
		mcp.WithArray("argv", mcp.Required(), mcp.WithStringItems())),
		func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			argv := req.GetStringSlice("argv", nil)
			if len(argv) == 0 {
				return mcp.NewToolResultError("empty argv"), nil
			}
			cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
			out, err := cmd.CombinedOutput()
			status := 0
			if err != nil {
				status = -1
				if ee, ok := err.(*exec.ExitError); ok {
					status = ee.ExitCode()
				}
			}
			return mcp.NewToolResultText(fmt.Sprintf("exit %d\n%s", status, out)), nil
		})
	return s
}

// Serve runs the probe on stdio.
func Serve() error { return server.ServeStdio(New()) }

// Pattern returns n bytes of a repeating, position-dependent ASCII pattern,
// so a test can verify a large payload byte for byte.
func Pattern(n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[(i*7+i/len(alphabet))%len(alphabet)]
	}
	return string(b)
}

func listProcesses() string {
	entries, _ := os.ReadDir("/proc")
	var lines []string
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		lines = append(lines, e.Name()+" "+strings.TrimSpace(strings.ReplaceAll(string(cmdline), "\x00", " ")))
	}
	return strings.Join(lines, "\n")
}
