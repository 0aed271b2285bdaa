package audit

import (
	"fmt"
	"strings"

	"github.com/srt-mcp/srt-mcp/internal/safetext"
)

// Clean reports whether the audit found nothing that makes it fail.
func (r *Report) Clean() bool { return len(r.Findings) == 0 }

// Markdown renders the report for people.
func (r *Report) Markdown() string {
	var b strings.Builder
	// Nearly every string here is the server's (its name, tool names and
	// descriptions, the paths and hosts it tried): each one is escaped, so
	// it can neither add lines to the report nor drive a terminal.
	p := func(format string, args ...any) {
		for i, a := range args {
			if s, ok := a.(string); ok {
				args[i] = safetext.Line(s)
			}
		}
		fmt.Fprintf(&b, format+"\n", args...)
	}
	// cell escapes a table cell: first for people, then the Markdown pipe
	// (in that order, so the pipe's backslash is not doubled).
	cell := func(s string) escaped { return escaped(strings.ReplaceAll(safetext.Line(s), "|", "\\|")) }
	p("# srt-mcp audit: %s %s", r.Server, r.Version)
	p("")
	p("- command: `%s`", strings.Join(r.Command, " "))
	p("- protocol version: %s", r.ProtocolVersion)
	p("- tools: %d, resources: %d, prompts: %d", len(r.Tools), r.Resources, r.Prompts)
	if r.Clean() {
		p("- **result: clean** (no decoy read, no canary egress, no hidden instructions, no writes outside the workspace)")
	} else {
		p("- **result: %d finding(s)**", len(r.Findings))
	}
	p("")
	if !r.Clean() {
		p("## Findings")
		p("")
		for _, f := range r.Findings {
			p("- %s", f)
		}
		p("")
	}
	section := func(title string, obs []Observation, empty string) {
		p("## %s", title)
		p("")
		if len(obs) == 0 {
			p("%s", empty)
			p("")
			return
		}
		p("| target | op | decision | rule | count | during |")
		p("|---|---|---|---|---|---|")
		for _, o := range obs {
			p("| `%s` | %s | %s | %s | %d | %s |", o.Target, o.Op, o.Decision, cell(o.Rule), o.Count, strings.Join(o.Calls, ", "))
		}
		p("")
	}
	section("Network destinations", r.Network, "None.")
	section("Canaries leaving through the proxy", r.Egress, "None seen (TLS inside CONNECT tunnels cannot be inspected; host names always are).")
	section("Decoys and protected files read", r.DecoyReads, "None.")
	section("Files written outside the workspace", r.Writes, "None.")
	section("Unix sockets", r.UnixSockets, "None.")
	p("## Programs started")
	p("")
	if len(r.Processes) == 0 {
		p("None observed.")
	}
	for _, proc := range r.Processes {
		p("- `%s`", proc)
	}
	p("")
	p("## Tools")
	p("")
	p("| tool | digest | description |")
	p("|---|---|---|")
	for _, t := range r.Tools {
		desc := strings.Join(strings.Fields(t.Description), " ")
		if len(desc) > 120 {
			desc = desc[:120] + "…"
		}
		p("| %s | `%s` | %s |", t.Name, t.Digest, cell(desc))
	}
	p("")
	if len(r.Hidden) > 0 {
		p("## Hidden instructions in descriptions")
		p("")
		for _, h := range r.Hidden {
			p("- %s: %s", h.Tool, h.Reason)
		}
		p("")
	}
	if len(r.Calls) > 0 {
		p("## Sample calls")
		p("")
		for _, c := range r.Calls {
			status := "ok"
			if c.Error != "" {
				status = c.Error
			}
			p("- %s: %s", c.Tool, status)
		}
		p("")
	}
	p("## Decoys planted")
	p("")
	for name, where := range r.Decoys {
		p("- %s: `%s`", name, where)
	}
	return b.String()
}

// escaped is text already made safe; Markdown's p prints it as it is.
type escaped string
