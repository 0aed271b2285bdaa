package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"text/tabwriter"

	"github.com/srt-mcp/srt-mcp/configs"
	"github.com/srt-mcp/srt-mcp/internal/clientconfig"
	"github.com/srt-mcp/srt-mcp/internal/safetext"
	"github.com/srt-mcp/srt-mcp/sandbox"
)

const verifyUsage = `Usage: srt-mcp verify [--fix] [--dry-run] [--json] [FILE...]

Finds the MCP servers configured for this user and project (or in FILE) and
says which run sandboxed. Exit 0 when none is unsandboxed, weak or broken;
1 otherwise; 2 on errors. --fix rewrites unsandboxed local servers to run
through srt-mcp (a backup is kept); --dry-run shows the change instead.
`

func runVerify(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fix := fs.Bool("fix", false, "")
	dryRun := fs.Bool("dry-run", false, "")
	asJSON := fs.Bool("json", false, "")
	if err := fs.Parse(args); err != nil {
		fmt.Fprintf(stderr, "srt-mcp verify: %v\n%s", err, verifyUsage)
		return sandbox.ExitUsage
	}
	home, _ := os.UserHomeDir()
	cwd, _ := os.Getwd()
	var candidates []clientconfig.Candidate
	if fs.NArg() > 0 {
		for _, f := range fs.Args() {
			candidates = append(candidates, clientconfig.Candidate{Path: f})
		}
	} else {
		candidates = clientconfig.Locations(home, cwd, os.Getenv("APPDATA"))
	}
	srtMCP := clientconfig.SrtMCPCommand(exec.LookPath)
	var servers []*clientconfig.Server
	type fileError struct {
		File  string `json:"file"`
		Error string `json:"error"`
	}
	var errs []fileError
	type change struct {
		File   string   `json:"file"`
		Backup string   `json:"backup,omitempty"`
		Fixed  []string `json:"fixed"`
		Diff   string   `json:"diff"`
	}
	var changes []change
	for _, c := range candidates {
		f, err := clientconfig.Load(c.Path, c.Client)
		if err != nil {
			if os.IsNotExist(err) && fs.NArg() == 0 {
				continue // a client that is not installed
			}
			errs = append(errs, fileError{c.Path, err.Error()})
			continue
		}
		for _, s := range f.Servers {
			clientconfig.Classify(s, home)
		}
		if *fix || *dryRun {
			out, fixed, err := f.Rewrite(srtMCP, func(s *clientconfig.Server) string { return configs.ForPackage(s.Args) })
			if err != nil {
				errs = append(errs, fileError{c.Path, "not rewritten: " + err.Error()})
			} else if len(fixed) > 0 {
				ch := change{File: c.Path, Diff: clientconfig.Diff(c.Path, f.Data, out)}
				for _, s := range fixed {
					ch.Fixed = append(ch.Fixed, s.Name)
				}
				if !*dryRun {
					backup, err := clientconfig.WriteAtomic(c.Path, f.Data, out)
					if err != nil {
						errs = append(errs, fileError{c.Path, "not rewritten: " + err.Error()})
						continue
					}
					ch.Backup = backup
					// Report the file as it is now.
					if nf, err := clientconfig.Load(c.Path, f.Client); err == nil {
						for _, s := range nf.Servers {
							clientconfig.Classify(s, home)
						}
						f = nf
					}
				}
				changes = append(changes, ch)
			}
		}
		servers = append(servers, f.Servers...)
	}

	bad := 0
	for _, s := range servers {
		if s.Status == clientconfig.Unsandboxed || s.Status == clientconfig.Weak || s.Status == clientconfig.Broken {
			bad++
		}
	}
	if *asJSON {
		out := struct {
			Servers []*clientconfig.Server `json:"servers"`
			Changes []change               `json:"changes,omitempty"`
			Errors  []fileError            `json:"errors,omitempty"`
		}{servers, changes, errs}
		if out.Servers == nil {
			out.Servers = []*clientconfig.Server{}
		}
		writeJSON(stdout, out)
	} else {
		for _, ch := range changes {
			if *dryRun {
				fmt.Fprint(stdout, safetext.Lines(ch.Diff))
			} else {
				fmt.Fprintf(stdout, "rewrote %s (%s); backup: %s\n", safetext.Line(ch.File), safetext.Line(strings.Join(ch.Fixed, ", ")), safetext.Line(ch.Backup))
			}
		}
		if len(servers) == 0 && len(errs) == 0 {
			fmt.Fprintln(stdout, "no MCP servers configured")
		} else if len(servers) > 0 {
			tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "CLIENT\tFILE\tSERVER\tSTATUS\tDETAIL")
			for _, s := range servers {
				// Names, files and details come from config files a
				// project can ship (.mcp.json, .vscode/mcp.json).
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", safetext.Line(s.Client), safetext.Line(s.File), safetext.Line(s.Name), safetext.Line(string(s.Status)), safetext.Line(s.Detail))
			}
			tw.Flush()
		}
		for _, e := range errs {
			fmt.Fprintf(stderr, "srt-mcp verify: %s: %s\n", safetext.Line(e.File), safetext.Line(e.Error))
		}
	}
	switch {
	case len(errs) > 0:
		return 2
	case bad > 0:
		return 1
	}
	return 0
}
