package main

import (
	"fmt"
	"io"
	"strings"
)

// runMan prints the manual page, generated from the same commands as the
// help and the completion scripts.
func runMan(args []string, stdout, stderr io.Writer) int {
	cmd := newManCommand()
	if code, done := cmd.parse(args, stdout, stderr); done {
		return code
	}
	if cmd.NArg() > 0 {
		return cmd.usageError(stderr, fmt.Errorf("unexpected argument %q", cmd.Arg(0)))
	}
	root, subs := describeAll()
	fmt.Fprint(stdout, manPage(root, subs, version))
	return 0
}

// roff escapes text for a roff line: backslashes, hyphens (so they stay
// minus signs people can copy) and a leading control character.
func roff(s string) string {
	s = strings.NewReplacer(`\`, `\e`, "-", `\-`).Replace(s)
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	return s
}

// roffText escapes every line of a paragraph of help text; indented
// lines (examples) are kept as they are laid out.
func roffText(text string) string {
	var b strings.Builder
	literal := false
	for _, line := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		indented := strings.HasPrefix(line, "  ")
		if indented != literal {
			if indented {
				b.WriteString(".nf\n")
			} else {
				b.WriteString(".fi\n")
			}
			literal = indented
		}
		if line == "" {
			b.WriteString(".PP\n")
		} else {
			b.WriteString(roff(line) + "\n")
		}
	}
	if literal {
		b.WriteString(".fi\n")
	}
	return b.String()
}

func manFlags(b *strings.Builder, d cmdDoc) {
	for _, f := range d.flags {
		b.WriteString(".TP\n")
		var names []string
		if f.short != "" {
			names = append(names, `\fB\-`+roff(f.short)+`\fR`)
		}
		dash := `\-\-`
		if len(f.long) == 1 {
			dash = `\-`
		}
		names = append(names, `\fB`+dash+roff(f.long)+`\fR`)
		line := strings.Join(names, ", ")
		if f.placeholder != "" {
			line += ` \fI` + roff(f.placeholder) + `\fR`
		}
		b.WriteString(line + "\n" + roff(f.desc))
		if f.def != "" {
			b.WriteString(" (default " + roff(f.def) + ")")
		}
		b.WriteString("\n")
	}
}

func manPage(root cmdDoc, subs []cmdDoc, version string) string {
	var b strings.Builder
	fmt.Fprintf(&b, ".TH SRT\\-MCP 1 \"\" \"srt-mcp %s\" \"User Commands\"\n", roff(version))
	b.WriteString(".SH NAME\nsrt\\-mcp \\- run an MCP server inside an OS sandbox and relay its stdio\n")
	b.WriteString(".SH SYNOPSIS\n")
	b.WriteString(".B srt\\-mcp\n" + roff(root.synopsis) + "\n")
	b.WriteString(".br\n.B srt\\-mcp\n[flags] \\-c \\(aqCOMMAND STRING\\(aq\n")
	for _, s := range subs {
		fmt.Fprintf(&b, ".br\n.B srt\\-mcp %s\n", roff(s.name))
		if syn := strings.Join(strings.Fields(s.synopsis), " "); syn != "" {
			b.WriteString(roff(syn) + "\n")
		}
	}
	b.WriteString(".SH DESCRIPTION\n")
	b.WriteString(roffText(usageHeader[:strings.Index(usageHeader, "\n")]))
	b.WriteString(".PP\nPut srt\\-mcp in front of an MCP server's command in a client's configuration.\n")
	b.WriteString(".SH OPTIONS\n")
	manFlags(&b, root)
	b.WriteString(".PP\n" + roffText(strings.TrimSpace(usageFooter)))
	b.WriteString(".SH COMMANDS\n")
	for _, s := range subs {
		fmt.Fprintf(&b, ".SS \"srt\\-mcp %s\"\n", roff(s.name))
		b.WriteString(roffText(s.about))
		if len(s.flags) > 0 {
			manFlags(&b, s)
		}
	}
	b.WriteString(".SH FILES\n.TP\n.I ~/.srt\\-settings.json\nthe srt settings used when no \\-\\-settings is given\n")
	b.WriteString(".SH SEE ALSO\n.BR bwrap (1)\n")
	return b.String()
}
