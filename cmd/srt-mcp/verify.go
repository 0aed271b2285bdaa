package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/srt-mcp/srt-mcp/internal/clientconfig"
	"github.com/srt-mcp/srt-mcp/internal/safetext"
)

func runVerify(args []string, stdout, stderr io.Writer) int {
	cmd := newCommand("verify", "[--fix] [--dry-run] [--json] [FILE...]", `Finds the MCP servers configured for this user and project (or in FILE) and
says which run sandboxed. Exit 0 when none is unsandboxed, weak or broken;
1 otherwise; 2 on errors.
`)
	fix := cmd.Bool("fix", false, "rewrite unsandboxed local servers to run through srt-mcp (a backup is kept)")
	dryRun := cmd.Bool("dry-run", false, "show the change --fix would make, as a diff, and write nothing")
	asJSON := cmd.Bool("json", false, "print the servers, changes and errors as JSON")
	if code, done := cmd.parse(args, stdout, stderr); done {
		return code
	}
	home, _ := os.UserHomeDir()
	cwd, _ := os.Getwd()
	v := clientconfig.Verify(clientconfig.VerifyOptions{
		Files: cmd.Args(), Home: home, Cwd: cwd, AppData: os.Getenv("APPDATA"),
		SrtMCP: clientconfig.SrtMCPCommand(), PATH: os.Getenv("PATH"),
		Fix: *fix, DryRun: *dryRun,
	})
	if *asJSON {
		writeJSON(stdout, v)
	} else {
		for _, ch := range v.Changes {
			if *dryRun {
				fmt.Fprint(stdout, safetext.Lines(ch.Diff))
			} else {
				fmt.Fprintf(stdout, "rewrote %s (%s); backup: %s\n", safetext.Line(ch.File), safetext.Line(strings.Join(ch.Fixed, ", ")), safetext.Line(ch.Backup))
			}
		}
		if len(v.Servers) == 0 && len(v.Errors) == 0 {
			fmt.Fprintln(stdout, "no MCP servers configured")
		} else if len(v.Servers) > 0 {
			tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "CLIENT\tFILE\tSERVER\tSTATUS\tDETAIL")
			for _, s := range v.Servers {
				// Names, files and details come from config files a
				// project can ship (.mcp.json, .vscode/mcp.json).
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", safetext.Line(s.Client), safetext.Line(s.File), safetext.Line(s.Name), safetext.Line(string(s.Status)), safetext.Line(s.Detail))
			}
			tw.Flush()
		}
		for _, e := range v.Errors {
			fmt.Fprintf(stderr, "srt-mcp verify: %s: %s\n", safetext.Line(e.File), safetext.Line(e.Error))
		}
	}
	switch {
	case len(v.Errors) > 0:
		return 2
	case v.Bad() > 0:
		return 1
	}
	return 0
}
