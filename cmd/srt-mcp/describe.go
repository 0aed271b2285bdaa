package main

import (
	"flag"
	"io"
	"sort"
	"strings"
)

// cmdDoc is one sub-command as its command declares it: what completion
// and the man page are generated from.
type cmdDoc struct {
	name, synopsis, about string
	flags                 []flagDoc
}

// flagDoc is one visible flag.
type flagDoc struct {
	long, short string // names without dashes; short may be ""
	placeholder string // the value's placeholder ("" for a bool flag)
	desc        string // one line
	def         string // the default, "" when zero
}

// summary is the first sentence of the command's about text, on one line.
func (d cmdDoc) summary() string {
	about := strings.Join(strings.Fields(d.about), " ")
	for _, sep := range []string{". ", " (", ": ", "; "} {
		if i := strings.Index(about, sep); i >= 0 {
			about = about[:i]
		}
	}
	return strings.TrimSuffix(about, ".")
}

// describeAll returns srt-mcp's run command and every sub-command (sorted),
// read from the commands themselves.
func describeAll() (root cmdDoc, subs []cmdDoc) {
	run, _ := newRunCommand()
	root = describeCommand(run)
	root.about = "runs an MCP server inside an OS sandbox and relays its stdio"
	names := make([]string, 0, len(subcommands))
	for name := range subcommands {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		var got *command
		describing = func(c *command) { got = c }
		subcommands[name](nil, io.Discard, io.Discard)
		describing = nil
		if got != nil {
			subs = append(subs, describeCommand(got))
		}
	}
	for _, c := range extraCommands() {
		subs = append(subs, describeCommand(c))
	}
	sort.Slice(subs, func(i, j int) bool { return subs[i].name < subs[j].name })
	return root, subs
}

func describeCommand(c *command) cmdDoc {
	d := cmdDoc{name: c.name, synopsis: c.synopsis, about: c.about}
	c.VisitAll(func(f *flag.Flag) {
		if f.Usage == "" {
			return // hidden, or a one-letter alias listed with its flag
		}
		placeholder, desc := flag.UnquoteUsage(f)
		if isBool(f) {
			placeholder = ""
		}
		fd := flagDoc{long: f.Name, short: c.short[f.Name], placeholder: placeholder, desc: strings.Join(strings.Fields(desc), " ")}
		if !isZeroDefault(f) {
			fd.def = f.DefValue
		}
		d.flags = append(d.flags, fd)
	})
	return d
}
