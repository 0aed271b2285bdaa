package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/srt-mcp/srt-mcp/internal/safetext"

	"github.com/srt-mcp/srt-mcp/internal/trace"

	"github.com/srt-mcp/srt-mcp/internal/statedir"
)

func runTraces(args []string, stdout, stderr io.Writer) int {
	cmd := newCommand("traces", "[--trace-dir DIR] [--server NAME] [--suggest] [--min-count N] [--json]", `Summarises the violation traces: counts by kind and target, and the tools
that caused them. --suggest proposes settings that would allow targets seen
at least --min-count times, with the evidence. It never edits settings.
`)
	dir := cmd.String("trace-dir", statedir.Traces(), "read the traces in `DIR`")
	server := cmd.String("server", "", "only the server named `NAME`, as the summary shows it (or its trace file's name)")
	suggest := cmd.Bool("suggest", false, "propose settings that would allow what was denied, with the evidence")
	minCount := cmd.Int("min-count", 3, "suggest only targets denied at least `N` times")
	asJSON := cmd.Bool("json", false, "print the summaries (and suggestions, with a settings patch) as JSON")
	if code, done := cmd.parse(args, stdout, stderr); done {
		return code
	}
	if cmd.NArg() > 0 {
		return cmd.usageError(stderr, fmt.Errorf("unexpected argument %q", cmd.Arg(0)))
	}
	records, bad, err := trace.Read(*dir, *server)
	if trace.IsUnknownServer(err) {
		fmt.Fprintf(stderr, "srt-mcp traces: %s\n", safetext.Line(err.Error()))
		return 1
	}
	if err != nil {
		fmt.Fprintf(stderr, "srt-mcp traces: %v\n", err)
		return 1
	}
	if bad > 0 {
		fmt.Fprintf(stderr, "srt-mcp traces: skipped %d malformed lines\n", bad)
	}
	sums := trace.Summarize(records)
	var sugs map[string][]trace.Suggestion
	if *suggest {
		sugs = map[string][]trace.Suggestion{}
		for _, s := range sums {
			sugs[s.Server] = trace.Suggest(s, *minCount)
		}
	}
	if !*asJSON {
		if *server == "" && len(sums) > 0 {
			// Which names --server takes: the ones people see, not the
			// sanitised file names.
			fmt.Fprintf(stdout, "servers with traces: %s\n  (one of them: srt-mcp traces --server NAME)\n\n", safetext.Line(strings.Join(trace.Servers(records), ", ")))
		}
		trace.WriteSummaries(stdout, sums, sugs, *minCount)
		return 0
	}
	type serverOut struct {
		trace.Summary
		Suggestions []trace.Suggestion `json:"suggestions,omitempty"`
		Patch       map[string]any     `json:"patch,omitempty"`
	}
	out := struct {
		Servers []serverOut `json:"servers"`
	}{Servers: []serverOut{}}
	for _, s := range sums {
		o := serverOut{Summary: s}
		if sugs != nil {
			o.Suggestions = sugs[s.Server]
			o.Patch = trace.Patch(o.Suggestions)
		}
		out.Servers = append(out.Servers, o)
	}
	if writeJSON(stdout, out) != nil {
		return 1
	}
	return 0
}

// writeJSON prints v as indented JSON. The output is valid JSON either way;
// safetext.JSON also escapes the bidi, C1 and other format characters that
// encoding/json leaves raw, for whoever reads it in a terminal.
func writeJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(safetext.JSON(b), '\n'))
	return err
}
