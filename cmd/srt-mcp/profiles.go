package main

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/srt-mcp/srt-mcp/configs"
)

func runProfiles(args []string, stdout, stderr io.Writer) int {
	cmd := newCommand("profiles", "[--json]", `Lists the built-in policy profiles: the server each is for, what it allows,
and why.
`)
	asJSON := cmd.Bool("json", false, "print the profiles as JSON")
	if code, done := cmd.parse(args, stdout, stderr); done {
		return code
	}
	if cmd.NArg() > 0 {
		return cmd.usageError(stderr, fmt.Errorf("unexpected argument %q", cmd.Arg(0)))
	}
	var out []configs.Info
	for _, n := range configs.Names() {
		out = append(out, configs.Describe(n))
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(out)
		return 0
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PROFILE\tFOR\tALLOWS")
	for _, i := range out {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", i.Name, i.Server, i.Allows)
	}
	tw.Flush()
	fmt.Fprintln(stdout, "\nWhy:")
	for _, i := range out {
		fmt.Fprintf(stdout, "  %s: %s\n", i.Name, i.Why)
	}
	fmt.Fprintln(stdout, "\nUse: srt-mcp --profile NAME [--settings FILE] -- COMMAND...  (the file extends or tightens the profile)")
	return 0
}
