//go:build unix

package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/srt-mcp/srt-mcp/internal/testbin"
)

// TestTypeScriptClientInFlight: with the official TypeScript SDK client and
// the reference memory server (both from npm), a violation during a tool
// call is attributed to that call alone, whatever protocol version the
// client asks for and whatever notifications it interleaves: a tools/list
// answered before must not stay in flight. It used to (issue 13): the
// server's tool schemas nest deeper than the scanner followed, so the
// answer's id was lost and every later violation read "(tools/list,
// tools/call create_entities)".
func TestTypeScriptClientInFlight(t *testing.T) {
	testbin.RequireBwrap(t)
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed: skipping the TypeScript SDK client test")
	}
	server := npmServer(t, "@modelcontextprotocol/server-memory@2026.8.31", "mcp-server-memory")
	sdk := filepath.Join(filepath.Dir(filepath.Dir(filepath.Dir(server))), "node_modules", "@modelcontextprotocol", "sdk")
	if _, err := os.Stat(filepath.Join(sdk, "dist", "esm", "client", "stdio.js")); err != nil {
		t.Skipf("the TypeScript SDK did not come with the memory server: %v", err)
	}
	script, err := filepath.Abs("testdata/ts_inflight.mjs")
	if err != nil {
		t.Fatal(err)
	}
	for _, version := range []string{"2025-06-18", "2025-11-25", "2026-07-28"} {
		t.Run(version, func(t *testing.T) {
			w := newWorld(t)
			memory := filepath.Join(w.home, "memory.jsonl") // outside allowWrite (the project)
			cmd := exec.Command("node", script, sdk, version, memory, "--", testbin.SrtMCP(t), "--", server)
			cmd.Dir = w.project
			cmd.Env = append(w.env(), "MEMORY_FILE_PATH="+memory)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("the TypeScript client: %v\n%s", err, out)
			}
			_, line, ok := strings.Cut(string(out), "VIOLATION ")
			if !ok {
				t.Fatalf("no violation reported:\n%s", out)
			}
			line, _, _ = strings.Cut(line, "\n")
			if strings.Contains(line, "tools/list") || !strings.Contains(line, "(tools/call create_entities)") {
				t.Errorf("the violation is not attributed to exactly the create_entities call: %q", line)
			}
		})
	}
}
