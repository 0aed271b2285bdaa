package main

import (
	"fmt"
	"io"
	"os"
	"strings"

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
	wide := cmd.Bool("wide", false, "do not shorten the table to 100 columns")
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
		printVerification(stdout, stderr, v, home, *fix, *dryRun, *wide)
	}
	switch {
	case len(v.Errors) > 0:
		return 2
	case v.Bad() > 0:
		return 1
	}
	return 0
}

// tableWidth is what verify's table is kept within, unless --wide.
const tableWidth = 100

func printVerification(stdout, stderr io.Writer, v *clientconfig.Verification, home string, fix, dryRun, wide bool) {
	for _, ch := range v.Changes {
		if dryRun {
			fmt.Fprint(stdout, safetext.Lines(ch.Diff))
		} else {
			fmt.Fprintf(stdout, "rewrote %s (%s); backup: %s\n", safetext.Line(ch.File), safetext.Line(strings.Join(ch.Fixed, ", ")), safetext.Line(ch.Backup))
		}
	}
	for _, f := range v.Empty {
		fmt.Fprintf(stdout, "%s: %s\n", safetext.Line(f), clientconfig.EmptyFileNote)
	}
	if len(v.Servers) == 0 && len(v.Errors) == 0 && len(v.Empty) == 0 {
		fmt.Fprintln(stdout, "no MCP servers configured")
	} else if len(v.Servers) > 0 {
		rows := [][]string{{"CLIENT", "FILE", "SERVER", "STATUS", "DETAIL"}}
		for _, s := range v.Servers {
			// Names, files and details come from config files a
			// project can ship (.mcp.json, .vscode/mcp.json).
			file := shortPath(s.File, home)
			if s.Project != "" {
				file += " [" + shortPath(s.Project, home) + "]"
			}
			rows = append(rows, []string{safetext.Line(s.Client), safetext.Line(file), safetext.Line(s.Name), safetext.Line(string(s.Status)), safetext.Line(s.Detail)})
		}
		limit := tableWidth
		if wide {
			limit = 0
		}
		const file, detail = 1, 4
		writeTable(stdout, rows, limit, []int{file, detail}, map[int]int{file: 24, detail: 30}, map[int]bool{file: true})
	}
	for _, e := range v.Errors {
		fmt.Fprintf(stderr, "srt-mcp verify: %s: %s\n", safetext.Line(e.File), safetext.Line(e.Error))
	}
	if len(v.Servers) > 0 {
		fmt.Fprintln(stdout, summary(v, fix, dryRun, wide))
	}
}

// summary is verify's last line: the servers by status, and what to do.
func summary(v *clientconfig.Verification, fix, dryRun, wide bool) string {
	n := v.Counts()
	var parts []string
	for _, st := range []string{clientconfig.Sandboxed, clientconfig.Unsandboxed, clientconfig.Weak, clientconfig.Broken, clientconfig.Container, clientconfig.Remote} {
		if n[st] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n[st], st))
		}
	}
	plural := "s"
	if len(v.Servers) == 1 {
		plural = ""
	}
	lines := []string{fmt.Sprintf("\n%d server%s: %s.", len(v.Servers), plural, strings.Join(parts, ", "))}
	switch {
	case n[clientconfig.Unsandboxed] > 0 && dryRun:
		lines = append(lines, "srt-mcp verify --fix makes the change above.")
	case n[clientconfig.Unsandboxed] > 0 && !fix:
		lines = append(lines, "Run srt-mcp verify --fix to wrap the unsandboxed ones (--dry-run shows the change first).")
	}
	if n[clientconfig.Weak]+n[clientconfig.Broken] > 0 {
		hint := "Weak and broken entries need a person: see DETAIL"
		if !wide {
			hint += " (--wide or --json for all of it)"
		}
		lines = append(lines, hint+".")
	}
	return strings.Join(lines, "\n")
}

// shortPath writes a path under the home directory as ~/….
func shortPath(p, home string) string {
	if home != "" && home != "/" && strings.HasPrefix(p, home+string(os.PathSeparator)) {
		return "~" + p[len(home):]
	}
	return p
}
