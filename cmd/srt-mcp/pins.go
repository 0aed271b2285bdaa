package main

import (
	"fmt"
	"io"
	"maps"
	"slices"

	"github.com/srt-mcp/srt-mcp/internal/safetext"

	"github.com/srt-mcp/srt-mcp/internal/pins"

	"github.com/srt-mcp/srt-mcp/internal/statedir"
)

func runPins(args []string, stdout, stderr io.Writer) int {
	cmd := newCommand("pins", "show SERVER | srt-mcp pins accept SERVER", `Tool pins record each server's tool definitions on first use. When a later
session sees a changed or new tool, calls to it are blocked until you accept
the change. show lists the accepted tools and the pending changes; accept
makes the pending state the accepted one.
`)
	if code, done := cmd.parse(args, stdout, stderr); done {
		return code
	}
	args = cmd.Args()
	if len(args) != 2 || (args[0] != "show" && args[0] != "accept") {
		return cmd.usageError(stderr, nil)
	}
	dir, server := statedir.Pins(), args[1]
	if args[0] == "accept" {
		before, err := pins.Load(dir, server)
		if err != nil {
			fmt.Fprintln(stderr, "srt-mcp pins:", err)
			return 1
		}
		if before != nil && before.Pending == nil {
			fmt.Fprintf(stdout, "%s: nothing pending; the accepted pins stay\n", safetext.Line(server))
			return 0
		}
		if _, err := pins.Accept(dir, server); err != nil {
			fmt.Fprintln(stderr, "srt-mcp pins:", err)
			return 1
		}
		fmt.Fprintf(stdout, "%s: accepted the pending tool definitions\n", safetext.Line(server))
		return 0
	}
	p, err := pins.Load(dir, server)
	if err != nil || p == nil {
		if err == nil {
			err = fmt.Errorf("no pins recorded for %q", server)
		}
		fmt.Fprintln(stderr, "srt-mcp pins:", err)
		return 1
	}
	// Server and tool names, descriptions and schemas are the server's
	// words: escaped, so they can neither add lines nor drive a terminal.
	fmt.Fprintf(stdout, "%s (updated %s)\n", safetext.Line(p.Server), safetext.Line(p.Updated))
	if p.Accepted != nil {
		fmt.Fprintf(stdout, "accepted: %d tools\n", len(p.Accepted.Tools))
		for _, n := range slices.Sorted(maps.Keys(p.Accepted.Tools)) {
			fmt.Fprintf(stdout, "  %-30s %s\n", safetext.Line(n), safetext.Line(p.Accepted.Tools[n].Digest))
		}
	}
	if p.Pending == nil {
		fmt.Fprintln(stdout, "nothing pending")
		return 0
	}
	fmt.Fprintln(stdout, "pending (calls to these are blocked until `srt-mcp pins accept "+safetext.Line(server)+"`):")
	if p.Accepted != nil && p.Pending.Instructions != p.Accepted.Instructions {
		fmt.Fprintln(stdout, "  server instructions changed (every call is blocked)")
	}
	for _, n := range slices.Sorted(maps.Keys(p.Pending.Tools)) {
		cur := p.Pending.Tools[n]
		old, known := p.Accepted.Tools[n]
		switch {
		case !known:
			fmt.Fprintf(stdout, "  new tool %s:\n%s", safetext.Line(n), safetext.Lines(pins.ToolDiff(n, pins.ToolDef{}, cur, false)))
		case old.Digest != cur.Digest:
			fmt.Fprintf(stdout, "  changed tool %s:\n%s", safetext.Line(n), safetext.Lines(pins.ToolDiff(n, old, cur, true)))
		}
	}
	return 0
}
