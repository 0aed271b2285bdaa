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

	"github.com/srt-mcp/srt-mcp/internal/probe"
	"github.com/srt-mcp/srt-mcp/netfilter"
	"github.com/srt-mcp/srt-mcp/sandbox"
	"github.com/srt-mcp/srt-mcp/shim"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

const usage = `srt-mcp runs an MCP server inside a sandbox and relays its stdio.

Usage:
  srt-mcp [flags] [--] COMMAND [ARG...]   run COMMAND sandboxed (MCP stdio server)
  srt-mcp demo                            run a probe MCP server sandboxed and show what was blocked
  srt-mcp traces [--suggest] [--json]     summarise violation traces; suggest settings from them
  srt-mcp audit [flags] -- COMMAND...     run a third-party server under observation and report
  srt-mcp profiles [--json]               list the built-in policy profiles
  srt-mcp pins show|accept SERVER         show or accept changed tool definitions
  srt-mcp selftest [--settings FILE] [--json]
                                          prove the sandbox holds on this machine
  srt-mcp verify [--fix] [--dry-run] [--json] [FILE...]
                                          find MCP servers that run unsandboxed; wrap them
  srt-mcp version                         print the version

Flags (before COMMAND; everything after COMMAND belongs to the server):
  --settings FILE   srt settings file (default: ~/.srt-settings.json, else the built-in default)
  --profile NAME    built-in policy profile (srt-mcp profiles); with --settings, the file
                    is layered over it: allow lists extend, deny lists tighten
  --grace DURATION  shutdown grace period after stdin closes, and after SIGTERM (default 2s)
  --name NAME       server name in traces (default: from its initialize response, else the command)
  --trace-dir DIR   where violation traces go (default $XDG_STATE_HOME/srt-mcp/traces)
  --learn           let network destinations outside the policy through, recorded as would-deny
                    (filesystem rules stay enforced)
  --observe=false   do not report filesystem and unix-socket violations (saves a supervisor
                    round trip per read-only open; protected paths are still refused and reported)
  --debug           print the bubblewrap command line to stderr

To run a server whose command is named like a srt-mcp sub-command, put -- before it.

Exit codes: the server's own status (128+N if killed by signal N);
2 for a usage or settings error; 69 when the sandbox cannot be applied.
In both error cases the server is never started.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
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
		case "demo":
			return runDemo(args[1:], stdout, stderr)
		case "traces":
			return runTraces(args[1:], stdout, stderr)
		case "verify":
			return runVerify(args[1:], stdout, stderr)
		case "selftest":
			return runSelftest(args[1:], stdout, stderr)
		case "profiles":
			return runProfiles(args[1:], stdout, stderr)
		case "audit":
			return runAudit(args[1:], stdout, stderr)
		case "pins":
			return runPins(args[1:], stdout, stderr)
		case "version":
			fmt.Fprintln(stdout, "srt-mcp", version)
			return 0
		case "help":
			fmt.Fprint(stdout, usage)
			return 0
		}
	}
	fs := flag.NewFlagSet("srt-mcp", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	settingsFile := fs.String("settings", "", "")
	profile := fs.String("profile", "", "")
	grace := fs.Duration("grace", shim.DefaultGrace, "")
	debug := fs.Bool("debug", false, "")
	traceDir := fs.String("trace-dir", "", "")
	name := fs.String("name", "", "")
	learn := fs.Bool("learn", false, "")
	observe := fs.Bool("observe", true, "")
	// Hidden: set by srt-mcp audit for the run it observes.
	var auditOpt *shim.AuditOptions
	auditFlags := func() *shim.AuditOptions {
		if auditOpt == nil {
			auditOpt = &shim.AuditOptions{Canaries: map[string]string{}}
		}
		return auditOpt
	}
	fs.Func("audit-canary", "", func(v string) error {
		name, value, ok := strings.Cut(v, "=")
		if !ok || len(value) < 16 {
			return fmt.Errorf("--audit-canary wants NAME=VALUE with a value of 16 characters or more")
		}
		auditFlags().Canaries[name] = value
		return nil
	})
	fs.Func("audit-decoy", "", func(v string) error {
		auditFlags().Decoys = append(auditFlags().Decoys, v)
		return nil
	})
	showVersion := fs.Bool("version", false, "")
	// flag stops at the first non-flag argument, so the server's own flags
	// (srt-mcp npx -y pkg --verbose) are never taken for ours.
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, usage)
			return 0
		}
		return shim.FailClosed(stdin, stdout, stderr, fmt.Errorf("%v (see srt-mcp --help)", err), sandbox.ExitUsage)
	}
	if *showVersion {
		fmt.Fprintln(stdout, "srt-mcp", version)
		return 0
	}
	argv := fs.Args()
	if len(argv) == 0 {
		return shim.FailClosed(stdin, stdout, stderr, errors.New("no server command given (usage: srt-mcp [flags] [--] COMMAND [ARG...])"), sandbox.ExitUsage)
	}
	policy, err := loadPolicy(*settingsFile, *profile)
	if err != nil {
		code := sandbox.ExitUsage
		return shim.FailClosed(stdin, stdout, stderr, err, code)
	}
	return shim.Run(shim.Options{
		Policy: policy,
		Argv:   argv,
		Env:    os.Environ(),
		Stdin:  stdin,
		Stdout: stdout,
		Stderr: stderr,
		Grace:  *grace,
		Debug:  *debug,

		TraceDir:  *traceDir,
		Name:      *name,
		Learn:     *learn,
		NoObserve: !*observe,
		Audit:     auditOpt,
	})
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
