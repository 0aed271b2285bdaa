package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/srt-mcp/srt-mcp/sandbox"
)

// command owns one sub-command's flags, help text and -h/--help. A
// sub-command declares each flag once, with its description (a `NAME` in
// backquotes is the value's placeholder) and default, and its help lists
// them from there. A flag with an empty description is hidden.
type command struct {
	name     string            // as typed after srt-mcp
	synopsis string            // what follows "srt-mcp NAME" in the usage line
	about    string            // what it does and its exit codes
	short    map[string]string // long flag name -> its one-letter alias
	*flag.FlagSet
}

func newCommand(name, synopsis, about string) *command {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	// parse reports errors itself, once, with the help.
	fs.SetOutput(io.Discard)
	return &command{name: name, synopsis: synopsis, about: about, FlagSet: fs}
}

// alias makes -short (and --short) a second name of the flag --long,
// sharing its value. srt's one-letter flags (-s, -d, -c, -V) are aliases,
// so an srt command line works with srt-mcp in srt's place. The help shows
// both names on the long flag's line.
func (c *command) alias(short, long string) {
	f := c.Lookup(long)
	if f == nil {
		panic("alias of an undefined flag --" + long)
	}
	c.Var(f.Value, short, "") // no description: listed with --long
	if c.short == nil {
		c.short = map[string]string{}
	}
	c.short[long] = short
}

// help is the sub-command's help text.
func (c *command) help() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Usage: srt-mcp %s", c.name)
	if c.synopsis != "" {
		b.WriteString(" " + c.synopsis)
	}
	b.WriteString("\n")
	if c.about != "" {
		b.WriteString("\n" + c.about)
	}
	if flags := c.flagHelp(); flags != "" {
		b.WriteString("\nFlags:\n" + flags)
	}
	return b.String()
}

// flagHelp lists the visible flags, one per line (continuation lines of a
// description indented under it), with their defaults.
func (c *command) flagHelp() string {
	type line struct{ left, desc string }
	var lines []line
	width := 0
	c.VisitAll(func(f *flag.Flag) {
		if f.Usage == "" {
			return
		}
		placeholder, desc := flag.UnquoteUsage(f)
		left := "--" + f.Name
		if len(f.Name) == 1 {
			left = "-" + f.Name
		}
		if s, ok := c.short[f.Name]; ok {
			left = "-" + s + ", " + left
		}
		if placeholder != "" && !isBool(f) {
			left += " " + placeholder
		}
		if !isZeroDefault(f) {
			// On a line of its own after a description of several.
			sep := " "
			if strings.Contains(desc, "\n") {
				sep = "\n"
			}
			desc += sep + "(default " + f.DefValue + ")"
		}
		lines = append(lines, line{left, desc})
		width = max(width, len(left))
	})
	var b strings.Builder
	indent := strings.Repeat(" ", 2+width+3)
	for _, l := range lines {
		desc := strings.ReplaceAll(l.desc, "\n", "\n"+indent)
		fmt.Fprintf(&b, "  %-*s   %s\n", width, l.left, desc)
	}
	return b.String()
}

func isBool(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

func isZeroDefault(f *flag.Flag) bool {
	switch f.DefValue {
	case "", "false", "0", "[]":
		return true
	}
	return false
}

// describing, when set, makes parse hand its command over and stop
// before parsing anything: how completion and the man page read every
// sub-command's flags and help from the command that owns them, without
// running the sub-command (describeAll).
var describing func(*command)

// parse parses args. When the sub-command must stop there, done is true
// and code is its exit code: -h or --help prints the help on stdout (0); a
// bad flag prints the error and the help on stderr (2).
func (c *command) parse(args []string, stdout, stderr io.Writer) (code int, done bool) {
	if describing != nil {
		describing(c)
		return 0, true
	}
	err := c.Parse(args)
	switch {
	case err == nil:
		return 0, false
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(stdout, c.help())
		return 0, true
	}
	return c.usageError(stderr, err), true
}

// usageError reports a bad command line, err (if any) then the help, on
// stderr, and returns the exit code for it.
func (c *command) usageError(stderr io.Writer, err error) int {
	if err != nil {
		fmt.Fprintf(stderr, "srt-mcp %s: %v\n", c.name, err)
	}
	fmt.Fprint(stderr, c.help())
	return sandbox.ExitUsage
}
