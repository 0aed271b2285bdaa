package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/srt-mcp/srt-mcp/internal/selftest"
	"github.com/srt-mcp/srt-mcp/sandbox"
)

// selftestDetailWidth is how much of a row's detail the text table shows.
const selftestDetailWidth = 80

func runSelftest(args []string, stdout, stderr io.Writer) int {
	cmd := newCommand("selftest", "[--settings FILE] [--profile NAME] [--json]", `Runs probes inside the sandbox built from the policy (FILE, else
~/.srt-settings.json, else the built-in default; with --profile, the
profile, with FILE layered over it) and prints one row per
protection. Exit 0 when every protection holds, 1 when one fails, 2 when
the selftest could not run.
`)
	settingsFile := cmd.String("settings", "", "test the srt settings in `FILE`")
	profile := cmd.String("profile", "", "test the built-in policy profile `NAME` (srt-mcp profiles), with FILE layered over it")
	asJSON := cmd.Bool("json", false, "print the rows as JSON")
	if code, done := cmd.parse(args, stdout, stderr); done {
		return code
	}
	if cmd.NArg() > 0 {
		return cmd.usageError(stderr, fmt.Errorf("unexpected argument %q", cmd.Arg(0)))
	}
	rows, source, err := selftest.Run(selftest.Options{SettingsFile: *settingsFile, Profile: *profile, Version: version})
	if err != nil {
		var se *sandbox.SettingsError
		fmt.Fprintln(stderr, "srt-mcp selftest:", err)
		if errors.As(err, &se) {
			return sandbox.ExitUsage
		}
		return 2
	}
	failed := 0
	for _, r := range rows {
		if !r.Passed() {
			failed++
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(struct {
			Settings string         `json:"settings"`
			Rows     []selftest.Row `json:"rows"`
			Passed   int            `json:"passed"`
			Failed   int            `json:"failed"`
		}{source, rows, len(rows) - failed, failed})
	} else {
		fmt.Fprintf(stdout, "srt-mcp selftest with %s\n\n", source)
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		for _, r := range rows {
			// Cut for the table only: --json and the FAIL notes keep it whole.
			fmt.Fprintf(tw, "%s\t%s\t%s\n", r.Result, r.Protection, fit(r.Detail, selftestDetailWidth, false))
		}
		tw.Flush()
		for _, r := range rows {
			if !r.Passed() {
				fmt.Fprintf(stdout, "\nFAIL %s: %s\n  what weakens it: %s\n", r.Protection, r.Detail, r.Hint)
			}
		}
		fmt.Fprintf(stdout, "\n%d passed, %d failed\n", len(rows)-failed, failed)
	}
	if failed > 0 {
		return 1
	}
	return 0
}
