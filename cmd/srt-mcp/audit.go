package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/srt-mcp/srt-mcp/internal/audit"
	"github.com/srt-mcp/srt-mcp/sandbox"
)

type callFlags []audit.Call

func (c *callFlags) String() string { return "" }
func (c *callFlags) Set(v string) error {
	tool, args, ok := strings.Cut(v, "=")
	call := audit.Call{Tool: tool, Arguments: map[string]any{}}
	if ok && args != "" {
		if err := json.Unmarshal([]byte(args), &call.Arguments); err != nil {
			return fmt.Errorf("--call %s: arguments are not a JSON object: %v", tool, err)
		}
	}
	*c = append(*c, call)
	return nil
}

func runAudit(args []string, stdout, stderr io.Writer) int {
	cmd := newCommand("audit", `[--settings FILE] [--call TOOL=JSON]... [--calls FILE] [--json]
                     [--write-policy FILE] [--timeout DURATION] -- COMMAND [ARG...]`, `Runs COMMAND sandboxed in learn mode with decoy credentials, acts as its MCP
client (initialize, tools/list, resources/list, prompts/list, then the
sample calls), and reports what it touched. Exit 0 when clean, 1 on
findings (decoy read, canary egress, hidden instructions, writes outside the
workspace), 2 when the audit could not run.
`)
	settings := cmd.String("settings", "", "run the server under the srt settings in `FILE` (default: ~/.srt-settings.json,\nelse the built-in default)")
	var calls callFlags
	cmd.Var(&calls, "call", "a sample call, `TOOL=JSON` with the arguments as a JSON object; repeatable")
	callsFile := cmd.String("calls", "", "read sample calls from `FILE`: a JSON array of {\"tool\", \"arguments\"}")
	asJSON := cmd.Bool("json", false, "print the report as JSON")
	writePolicy := cmd.String("write-policy", "", "write the least-privilege policy to `FILE`")
	timeout := cmd.Duration("timeout", 90*time.Second, "give up on the server after `DURATION`")
	if code, done := cmd.parse(args, stdout, stderr); done {
		return code
	}
	if cmd.NArg() == 0 {
		return cmd.usageError(stderr, fmt.Errorf("no server command"))
	}
	if *callsFile != "" {
		data, err := os.ReadFile(*callsFile)
		var more []audit.Call
		if err == nil {
			err = json.Unmarshal(data, &more)
		}
		if err != nil {
			fmt.Fprintf(stderr, "srt-mcp audit: --calls %s: %v (want a JSON array of {\"tool\", \"arguments\"})\n", *callsFile, err)
			return 2
		}
		calls = append(calls, more...)
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(stderr, "srt-mcp audit:", err)
		return 2
	}
	rep, err := audit.Run(audit.Options{SrtMCP: self, SettingsFile: *settings, Calls: calls, Command: cmd.Args(), Timeout: *timeout})
	if err != nil {
		fmt.Fprintln(stderr, "srt-mcp audit: could not audit:", err)
		return 2
	}
	if *writePolicy != "" {
		data, _ := json.MarshalIndent(rep.Policy, "", "  ")
		if err := os.WriteFile(*writePolicy, append(data, '\n'), 0o644); err != nil {
			fmt.Fprintln(stderr, "srt-mcp audit:", err)
			return 2
		}
		if _, err := sandbox.ParseSettings(*writePolicy, data); err != nil {
			fmt.Fprintln(stderr, "srt-mcp audit: the written policy does not parse:", err)
			return 2
		}
	}
	if *asJSON {
		writeJSON(stdout, rep)
	} else {
		fmt.Fprint(stdout, rep.Markdown())
	}
	if !rep.Clean() {
		return 1
	}
	return 0
}
