package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/srt-mcp/srt-mcp/internal/safetext"
	"github.com/srt-mcp/srt-mcp/sandbox"

	"github.com/srt-mcp/srt-mcp/internal/pins"

	"github.com/srt-mcp/srt-mcp/internal/statedir"
)

func runPins(args []string, stdout, stderr io.Writer) int {
	cmd := newCommand("pins", "list | show SERVER | accept SERVER", `Tool pins record each server's tool definitions at its first tools/list.
When a later session sees a changed or new tool, calls to it are blocked
until you accept the change. Pins belong to the server you configured:
its command line after --, or --name when you gave one; never the name the
server reports for itself.

list shows every server's pins: key, name (--name), status, command line.
show lists the accepted tools and the pending changes; accept makes the
pending state the accepted one. SERVER is the --name you gave, the key
that list shows, the server's command line after -- (srt-mcp pins show --
npx -y some-server), or, when only one configured server reported it, the
name the server reports.
`)
	if code, done := cmd.parse(args, stdout, stderr); done {
		return code
	}
	args = cmd.Args()
	dir := statedir.Pins()
	switch {
	case len(args) == 1 && args[0] == "list":
		return listPins(dir, stdout, stderr)
	case len(args) >= 2 && (args[0] == "show" || args[0] == "accept"):
	default:
		return cmd.usageError(stderr, nil)
	}
	p, err := resolvePins(dir, args[1:])
	if err != nil {
		fmt.Fprintln(stderr, "srt-mcp pins:", err)
		return 1
	}
	ref := pinsRef(p)
	if args[0] == "accept" {
		if p.Legacy() {
			fmt.Fprintf(stderr, "srt-mcp pins: %s is a pin file from an older srt-mcp, keyed by the name the server reported; it is only read to seed a configured server's first pins. Accept the server's own pins (srt-mcp pins list).\n", safetext.Line(p.Server))
			return 1
		}
		if p.Pending == nil {
			fmt.Fprintf(stdout, "%s: nothing pending; the accepted pins stay\n", safetext.Line(ref))
			return 0
		}
		if _, err := pins.Accept(dir, p.Key); err != nil {
			fmt.Fprintln(stderr, "srt-mcp pins:", err)
			return 1
		}
		fmt.Fprintf(stdout, "%s: accepted the pending tool definitions\n", safetext.Line(ref))
		return 0
	}
	// Server and tool names, descriptions and schemas are the server's
	// words: escaped, so they can neither add lines nor drive a terminal.
	if p.Legacy() {
		fmt.Fprintf(stdout, "%s (legacy pin file, keyed by the name the server reported; updated %s)\n", safetext.Line(p.Server), safetext.Line(p.Updated))
	} else {
		fmt.Fprintf(stdout, "%s (updated %s)\n", safetext.Line(ref), safetext.Line(p.Updated))
		fmt.Fprintf(stdout, "key: %s\ncommand: %s\nserver reports itself as: %s\n", safetext.Line(p.Key), safetext.Line(strings.Join(p.Command, " ")), safetext.Line(p.Server))
	}
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
	fmt.Fprintln(stdout, "pending (calls to these are blocked until `srt-mcp pins accept "+safetext.Line(ref)+"`):")
	var accepted map[string]pins.ToolDef
	if p.Accepted != nil {
		accepted = p.Accepted.Tools
		if p.Pending.Instructions != p.Accepted.Instructions {
			fmt.Fprintln(stdout, "  server instructions changed (every call is blocked)")
		}
	}
	for _, n := range slices.Sorted(maps.Keys(p.Pending.Tools)) {
		cur := p.Pending.Tools[n]
		old, known := accepted[n]
		switch {
		case !known:
			fmt.Fprintf(stdout, "  new tool %s:\n%s", safetext.Line(n), safetext.Lines(pins.ToolDiff(n, pins.ToolDef{}, cur, false)))
		case old.Digest != cur.Digest:
			fmt.Fprintf(stdout, "  changed tool %s:\n%s", safetext.Line(n), safetext.Lines(pins.ToolDiff(n, old, cur, true)))
		}
	}
	return 0
}

// pinsRef is how a pin file is named back to the user: --name, else key.
func pinsRef(p *pins.PinFile) string {
	if p.Name != "" {
		return p.Name
	}
	return p.Key
}

// resolvePins finds the pin file the user means by args: "-- argv..." (the
// configured command line, keyed as srt-mcp keys it), the --name given to
// srt-mcp, a key as pins list shows it, or the name servers report for
// themselves when exactly one pin file matches (a legacy file last).
func resolvePins(dir string, args []string) (*pins.PinFile, error) {
	if args[0] == "--" {
		if len(args) == 1 {
			return nil, fmt.Errorf("no command line after --")
		}
		return loadPins(dir, sandbox.LauncherKey(args[1:], ""), strings.Join(args[1:], " "))
	}
	if len(args) != 1 {
		return nil, fmt.Errorf("one SERVER, or -- and a command line")
	}
	ref := args[0]
	for _, key := range []string{sandbox.LauncherKey(nil, ref), ref} {
		if p, err := pins.Load(dir, key); err != nil || p != nil {
			return p, err
		}
	}
	all, _ := pins.List(dir)
	var reported []*pins.PinFile
	var legacy *pins.PinFile
	for _, p := range all {
		switch {
		case p.Legacy() && p.Server == ref:
			legacy = p
		case !p.Legacy() && p.Server == ref:
			reported = append(reported, p)
		}
	}
	switch {
	case len(reported) == 1:
		return reported[0], nil
	case len(reported) > 1:
		var keys []string
		for _, p := range reported {
			keys = append(keys, pinsRef(p))
		}
		return nil, fmt.Errorf("%d configured servers report the name %q; name one: %s", len(reported), safetext.Line(ref), safetext.Line(strings.Join(keys, ", ")))
	case legacy != nil:
		return legacy, nil
	}
	return nil, fmt.Errorf("no pins recorded for %q (srt-mcp pins list shows them)", safetext.Line(ref))
}

func loadPins(dir, key, what string) (*pins.PinFile, error) {
	p, err := pins.Load(dir, key)
	if err == nil && p == nil {
		err = fmt.Errorf("no pins recorded for %q (key %s; srt-mcp pins list shows them)", safetext.Line(what), key)
	}
	return p, err
}

// listPins prints one line per pin file: key, name, status, command line.
func listPins(dir string, stdout, stderr io.Writer) int {
	all, errs := pins.List(dir)
	for _, err := range errs {
		fmt.Fprintln(stderr, "srt-mcp pins:", err)
	}
	if len(all) == 0 && len(errs) == 0 {
		fmt.Fprintln(stdout, "no pins recorded")
		return 0
	}
	fmt.Fprintf(stdout, "%-40s %-20s %-8s %s\n", "KEY", "NAME", "STATUS", "COMMAND")
	for _, p := range all {
		status := "ok"
		if p.Pending != nil {
			status = "pending"
		}
		key, name, command := p.Key, p.Name, strings.Join(p.Command, " ")
		if p.Legacy() {
			key, status, command = "(legacy)", "legacy", "(reported as "+p.Server+")"
		}
		if name == "" {
			name = "-"
		}
		fmt.Fprintf(stdout, "%-40s %-20s %-8s %s\n", safetext.Line(key), safetext.Line(name), status, safetext.Line(command))
	}
	if len(errs) > 0 {
		return 1
	}
	return 0
}
