// Command srt-mcp runs an MCP server inside an OS sandbox and relays its
// stdio, so it can stand in for the server's command in any MCP client
// configuration:
//
//	{"command": "srt-mcp", "args": ["--settings", "policy.json", "--", "npx", "-y", "some-mcp-server"]}
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/srt-mcp/srt-mcp/internal/probe"
	"github.com/srt-mcp/srt-mcp/netfilter"
	"github.com/srt-mcp/srt-mcp/sandbox"
	"github.com/srt-mcp/srt-mcp/shim"

	"github.com/srt-mcp/srt-mcp/internal/audit"
)

const usageHeader = `srt-mcp runs an MCP server inside a sandbox and relays its stdio.

Usage:
  srt-mcp [flags] [--] COMMAND [ARG...]   run COMMAND sandboxed (MCP stdio server)
  srt-mcp [flags] -c 'COMMAND STRING'     run it through /bin/sh -c sandboxed (srt's -c)
  srt-mcp demo                            run a probe MCP server sandboxed and show what was blocked
  srt-mcp traces [--suggest] [--json]     summarise violation traces; suggest settings from them
  srt-mcp audit [flags] -- COMMAND...     run a third-party server under observation and report
  srt-mcp profiles [--json]               list the built-in policy profiles
  srt-mcp pins list|show|accept SERVER    list, show or accept tool pins
  srt-mcp selftest [--settings FILE] [--profile NAME] [--json]
                                          prove the sandbox holds on this machine
  srt-mcp verify [--fix] [--dry-run] [--json] [FILE...]
                                          find MCP servers that run unsandboxed; wrap them
  srt-mcp version                         print the version
  srt-mcp completion bash|zsh|fish        print a shell completion script
  srt-mcp man                             print the manual page (roff)

Flags (before COMMAND; everything after COMMAND belongs to the server):
`

const usageFooter = `
srt's own flags (-s, -d, -c, -V, -h) mean what they mean to srt, so an srt
command line keeps working with srt-mcp in srt's place.
To run a server whose command is named like a srt-mcp sub-command, put -- before it.

Exit codes: the server's own status (128+N if killed by signal N);
2 for a usage or settings error; 69 when the sandbox cannot be applied.
In both error cases the server is never started.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// subcommands are srt-mcp's sub-commands for people, by name. Each parses
// its own flags (see command) and answers -h, --help and srt-mcp help NAME.
var subcommands = map[string]func(args []string, stdout, stderr io.Writer) int{
	"demo":     runDemo,
	"traces":   runTraces,
	"verify":   runVerify,
	"selftest": runSelftest,
	"profiles": runProfiles,
	"audit":    runAudit,
	"pins":     runPins,
}

// runSubcommand runs a sub-command and checks every write to stdout at
// once: a report or a JSON document cut short by a full disk must not
// exit 0 as if it were whole.
func runSubcommand(name string, sub func([]string, io.Writer, io.Writer) int, args []string, stdout, stderr io.Writer) int {
	out := &checkedWriter{w: stdout}
	code := sub(args, out, stderr)
	if out.err != nil {
		fmt.Fprintf(stderr, "srt-mcp %s: cannot write the output: %v\n", name, out.err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// checkedWriter keeps the first write error, and writes nothing after it.
type checkedWriter struct {
	w   io.Writer
	err error
}

func (c *checkedWriter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.w.Write(p)
	c.err = err
	return n, err
}

func run(args []string, stdin, stdout, stderr *os.File) int {
	if len(args) > 0 {
		switch args[0] {
		case sandbox.HelperCommand:
			return sandbox.RunHelper(args[1:])
		case sandbox.ConnectCommand:
			if len(args) != 4 {
				fmt.Fprintln(stderr, "usage: srt-mcp __connect PROXY HOST PORT")
				return sandbox.ExitUsage
			}
			if err := netfilter.ConnectStdio(args[1], args[2], args[3]); err != nil {
				fmt.Fprintln(stderr, "srt-mcp: connect:", err)
				return 1
			}
			return 0
		case "__probe":
			if err := probe.Serve(); err != nil {
				fmt.Fprintln(stderr, "probe:", err)
				return 1
			}
			return 0
		case "version":
			if code, done := newVersionCommand().parse(args[1:], stdout, stderr); done {
				return code
			}
			fmt.Fprintln(stdout, "srt-mcp", version)
			return 0
		case "completion":
			return runSubcommand("completion", runCompletion, args[1:], stdout, stderr)
		case "man":
			return runSubcommand("man", runMan, args[1:], stdout, stderr)
		case "help":
			if len(args) == 1 {
				fmt.Fprint(stdout, usage())
				return 0
			}
			if sub, ok := subcommands[args[1]]; ok && len(args) == 2 {
				return runSubcommand(args[1], sub, []string{"--help"}, stdout, stderr)
			}
			for _, c := range extraCommands() {
				if c.name == args[1] && len(args) == 2 {
					fmt.Fprint(stdout, c.help())
					return 0
				}
			}
			fmt.Fprintf(stderr, "srt-mcp help: no sub-command %q (see srt-mcp --help)\n", strings.Join(args[1:], " "))
			return sandbox.ExitUsage
		}
		if sub, ok := subcommands[args[0]]; ok {
			return runSubcommand(args[0], sub, args[1:], stdout, stderr)
		}
	}
	cmd, f := newRunCommand()
	// flag stops at the first non-flag argument, so the server's own flags
	// (srt-mcp npx -y pkg --verbose) are never taken for ours.
	if err := cmd.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, usage())
			return 0
		}
		return shim.FailClosed(stdin, stdout, stderr, fmt.Errorf("%v (see srt-mcp --help)", err), sandbox.ExitUsage)
	}
	if f.help {
		fmt.Fprint(stdout, usage())
		return 0
	}
	if f.showVersion {
		fmt.Fprintln(stdout, "srt-mcp", version)
		return 0
	}
	argv, err := serverArgv(f.commandString, cmd.Args())
	if err != nil {
		return shim.FailClosed(stdin, stdout, stderr, err, sandbox.ExitUsage)
	}
	policy, err := loadPolicy(f.settingsFile, f.profile)
	if err != nil {
		return shim.FailClosed(stdin, stdout, stderr, err, sandbox.ExitUsage)
	}
	var observer shim.Observer // nil unless the audit flags made one (never a nil *audit.Observer)
	if f.audit != nil {
		observer = f.audit
	}
	return shim.Run(shim.Options{
		Policy: policy,
		Argv:   argv,
		Env:    os.Environ(),
		Stdin:  stdin,
		Stdout: stdout,
		Stderr: stderr,
		Grace:  f.grace,
		Debug:  f.debug,

		TraceDir:  f.traceDir,
		Name:      f.name,
		Learn:     f.learn,
		NoObserve: !f.observe,
		Observer:  observer,
	})
}

// serverArgv is the command to run sandboxed: srt's -c 'COMMAND STRING'
// runs the string through /bin/sh -c inside the sandbox (as srt does),
// otherwise the arguments after the flags are the command.
func serverArgv(commandString string, args []string) ([]string, error) {
	switch {
	case commandString != "" && len(args) > 0:
		return nil, fmt.Errorf("give either -c 'COMMAND STRING' or a COMMAND, not both (got -c and %q; see srt-mcp --help)", args[0])
	case commandString != "":
		return []string{"/bin/sh", "-c", commandString}, nil
	case len(args) == 0:
		return nil, errors.New("no server command given (usage: srt-mcp [flags] [--] COMMAND [ARG...]; see srt-mcp --help)")
	}
	return args, nil
}

// usage is srt-mcp's help: the sub-commands, then the flags of its main use.
func usage() string {
	run, _ := newRunCommand()
	return usageHeader + run.flagHelp() + usageFooter
}

// runFlags are srt-mcp's flags when it runs a server.
type runFlags struct {
	settingsFile, profile, traceDir, name string
	grace                                 time.Duration
	commandString                         string
	debug, learn, observe, showVersion    bool
	help                                  bool
	audit                                 *audit.Observer // set by srt-mcp audit for the run it observes
}

func newRunCommand() (*command, *runFlags) {
	cmd := newCommand("", "[flags] [--] COMMAND [ARG...]", "")
	f := &runFlags{}
	cmd.StringVar(&f.settingsFile, "settings", "", "read srt settings from `FILE` (default: ~/.srt-settings.json, else the built-in default)")
	cmd.StringVar(&f.profile, "profile", "", "start from the built-in policy profile `NAME` (srt-mcp profiles); with --settings,\nthe file is layered over it: allow lists extend, deny lists tighten")
	cmd.DurationVar(&f.grace, "grace", shim.DefaultGrace, "wait `DURATION` for the server to exit after stdin closes, and after SIGTERM")
	cmd.StringVar(&f.name, "name", "", "call the server `NAME` in traces (default: from its initialize response, else the command)")
	cmd.StringVar(&f.traceDir, "trace-dir", "", "write violation traces to `DIR` (default $XDG_STATE_HOME/srt-mcp/traces)")
	cmd.BoolVar(&f.learn, "learn", false, "let network destinations outside the policy through, recorded as would-deny\n(filesystem rules stay enforced)")
	cmd.BoolVar(&f.observe, "observe", true, "report filesystem and unix-socket violations (--observe=false saves a supervisor\nround trip per read-only open; protected paths are still refused and reported)")
	cmd.BoolVar(&f.debug, "debug", false, "print the bubblewrap command line to stderr")
	cmd.BoolVar(&f.showVersion, "version", false, "print the version")
	cmd.StringVar(&f.commandString, "c", "", "run `'COMMAND STRING'` with /bin/sh -c in the sandbox, instead of COMMAND")
	// srt's one-letter names, so an srt command line can switch binaries
	// (-h is the flag package's own).
	cmd.alias("s", "settings")
	cmd.alias("d", "debug")
	cmd.alias("V", "version")
	cmd.BoolVar(&f.help, "help", false, "print this help (srt-mcp SUB --help: a sub-command's)")
	cmd.alias("h", "help")
	// Hidden (no description): set by srt-mcp audit for the run it observes.
	auditOpt := func() *audit.Observer {
		if f.audit == nil {
			f.audit = &audit.Observer{Canaries: map[string]string{}}
		}
		return f.audit
	}
	cmd.Func("audit-canary", "", func(v string) error {
		name, value, ok := strings.Cut(v, "=")
		if !ok || len(value) < 16 {
			return fmt.Errorf("--audit-canary wants NAME=VALUE with a value of 16 characters or more")
		}
		auditOpt().Canaries[name] = value
		return nil
	})
	cmd.Func("audit-decoy", "", func(v string) error {
		auditOpt().Decoys = append(auditOpt().Decoys, v)
		return nil
	})
	return cmd, f
}

func loadPolicy(settingsFile, profile string) (*sandbox.Policy, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return nil, fmt.Errorf("cannot find the home directory: %w", err)
	}
	cwd, err := os.Getwd()
	if err != nil {
		return nil, fmt.Errorf("cannot find the working directory: %w", err)
	}
	settings, source, err := sandbox.LoadSettings(settingsFile, profile, home)
	if err != nil {
		return nil, err
	}
	return sandbox.Resolve(settings, source, cwd, home)
}
