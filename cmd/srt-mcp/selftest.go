package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/srt-mcp/srt-mcp/configs"
	"github.com/srt-mcp/srt-mcp/internal/mcpclient"
	"github.com/srt-mcp/srt-mcp/internal/workspace"
	"github.com/srt-mcp/srt-mcp/sandbox"
)

const selftestUsage = `Usage: srt-mcp selftest [--settings FILE] [--profile NAME] [--json]

Runs probes inside the sandbox built from the policy (FILE, else
~/.srt-settings.json, else the built-in default; with --profile, the
profile, with FILE layered over it) and prints one row per
protection. Exit 0 when every protection holds, 1 when one fails, 2 when
the selftest could not run.
`

// selftestRow is one protection and how it fared.
type selftestRow struct {
	Protection string `json:"protection"`
	Result     string `json:"result"` // PASS or FAIL
	Detail     string `json:"detail"`
	Hint       string `json:"hint,omitempty"` // why it may fail, on FAIL
}

func runSelftest(args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("selftest", flag.ContinueOnError)
	fl.SetOutput(io.Discard)
	settingsFile := fl.String("settings", "", "")
	profile := fl.String("profile", "", "")
	asJSON := fl.Bool("json", false, "")
	if err := fl.Parse(args); err != nil || fl.NArg() > 0 {
		fmt.Fprintf(stderr, "srt-mcp selftest: bad arguments\n%s", selftestUsage)
		return sandbox.ExitUsage
	}
	rows, source, err := selftest(*settingsFile, *profile)
	if err != nil {
		var se *sandbox.SettingsError
		fmt.Fprintln(stderr, "srt-mcp selftest:", err)
		if errors.As(err, &se) {
			return sandbox.ExitUsage
		}
		return 2
	}
	failed := 0
	for _, r := range rows {
		if r.Result != "PASS" {
			failed++
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(struct {
			Settings string        `json:"settings"`
			Rows     []selftestRow `json:"rows"`
			Passed   int           `json:"passed"`
			Failed   int           `json:"failed"`
		}{source, rows, len(rows) - failed, failed})
	} else {
		fmt.Fprintf(stdout, "srt-mcp selftest with %s\n\n", source)
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		for _, r := range rows {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", r.Result, r.Protection, r.Detail)
		}
		tw.Flush()
		for _, r := range rows {
			if r.Result != "PASS" {
				fmt.Fprintf(stdout, "\nFAIL %s: %s\n  what weakens it: %s\n", r.Protection, r.Detail, r.Hint)
			}
		}
		fmt.Fprintf(stdout, "\n%d passed, %d failed\n", len(rows)-failed, failed)
	}
	if failed > 0 {
		return 1
	}
	return 0
}

// selftestSettings returns the policy under test as JSON, with a decoy
// added to filesystem.denyRead so the read protection is checked without
// touching real credentials.
func selftestSettings(settingsFile, profile, decoy string) ([]byte, string, error) {
	home, _ := os.UserHomeDir()
	var data []byte
	var source string
	var err error
	switch {
	case settingsFile != "":
		data, source = nil, settingsFile
		data, err = os.ReadFile(settingsFile)
		if profile != "" {
			source += " over built-in profile " + profile
		}
	case profile != "":
		// The profile itself is applied by srt-mcp's --profile; the
		// file carries only the decoy.
		data, source = []byte("{}"), "built-in profile "+profile
	default:
		user := filepath.Join(home, sandbox.UserSettingsFile)
		data, err = os.ReadFile(user)
		source = user
		if errors.Is(err, fs.ErrNotExist) {
			data, err = configs.Get(configs.Default)
			source = "built-in profile " + configs.Default
		}
	}
	if err != nil {
		return nil, source, &sandbox.SettingsError{Source: source, Msg: "cannot read settings: " + err.Error()}
	}
	if _, err := sandbox.ParseSettings(source, data); err != nil {
		return nil, source, err
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, source, err
	}
	fsm, _ := m["filesystem"].(map[string]any)
	if fsm == nil {
		fsm = map[string]any{}
		m["filesystem"] = fsm
	}
	deny, _ := fsm["denyRead"].([]any)
	fsm["denyRead"] = append(deny, decoy)
	out, err := json.Marshal(m)
	return out, source, err
}

func selftest(settingsFile, profile string) ([]selftestRow, string, error) {
	w, err := workspace.New("srt-mcp-selftest-", version)
	if err != nil {
		return nil, "", err
	}
	defer w.Remove()
	decoy, err := w.Write("home/secrets/decoy-key", "SELFTEST-DECOY-SECRET")
	if err != nil {
		return nil, "", err
	}
	settings, source, err := selftestSettings(settingsFile, profile, decoy)
	if err != nil {
		return nil, source, err
	}
	// In the writable project, where a server could rewrite it if srt-mcp
	// did not protect the settings file in use.
	settingsPath, err := w.Write("home/project/.srt-selftest-settings.json", string(settings))
	if err != nil {
		return nil, source, err
	}
	var profileArgs []string
	if profile != "" {
		if _, err := configs.Get(profile); err != nil {
			return nil, source, &sandbox.SettingsError{Source: "--profile", Msg: err.Error()}
		}
		profileArgs = []string{"--profile", profile}
	}
	const clientCanary = "SELFTEST-CLIENT-CONFIG-TOKEN"
	clientConfig, _ := w.Write("home/.claude.json", `{"mcpServers": {"x": {"env": {"TOKEN": "`+clientCanary+`"}}}}`)
	bashrc, _ := w.Write("home/.bashrc", "# selftest\n")
	localBin, _ := w.Write("home/.local/bin/selftest-tool", "#!/bin/sh\n")
	mcpJSON, _ := w.Write("home/project/.mcp.json", `{"mcpServers": {}}`)
	if _, err := w.Write("home/project/.git/hooks/.keep", ""); err != nil {
		return nil, source, err
	}
	outside := filepath.Join(w.Root, "outside", "written-by-selftest")
	os.MkdirAll(filepath.Dir(outside), 0o755)

	sock := filepath.Join(w.Root, "host.sock")
	uln, err := net.Listen("unix", sock)
	if err != nil {
		return nil, source, err
	}
	defer uln.Close()
	tln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, source, err
	}
	defer tln.Close()
	// A host process for the signal and ptrace rows.
	victim := exec.Command("sleep", "600")
	if err := victim.Start(); err != nil {
		return nil, source, err
	}
	defer func() { victim.Process.Kill(); victim.Wait() }()
	hostPID := victim.Process.Pid

	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	var serverLog strings.Builder
	srtArgs := append(append([]string{}, profileArgs...), "--settings", settingsPath, "--trace-dir", filepath.Join(w.Root, "traces"))
	c, _, err := w.ProbeClient(ctx, &serverLog, srtArgs...)
	if err != nil {
		return nil, source, fmt.Errorf("%w\n%s", err, serverLog.String())
	}
	defer c.Close()

	var rows []selftestRow
	check := func(protection, tool string, args map[string]any, held func(text string, failed bool) bool, hint string) error {
		text, failed, err := mcpclient.CallTool(ctx, c, tool, args)
		if err != nil {
			return err
		}
		row := selftestRow{Protection: protection, Result: "PASS", Detail: "blocked: " + mcpclient.FirstLine(text)}
		if !held(text, failed) {
			row.Result, row.Detail, row.Hint = "FAIL", "not blocked: "+mcpclient.FirstLine(text), hint
		}
		rows = append(rows, row)
		return nil
	}
	// checkWith is check against another session.
	checkWith := func(c *client.Client, protection, tool string, args map[string]any, held func(text string, failed bool) bool, hint string) error {
		text, failed, err := mcpclient.CallTool(ctx, c, tool, args)
		if err != nil {
			return err
		}
		row := selftestRow{Protection: protection, Result: "PASS", Detail: "blocked: " + mcpclient.FirstLine(text)}
		if !held(text, failed) {
			row.Result, row.Detail, row.Hint = "FAIL", "not blocked: "+mcpclient.FirstLine(text), hint
		}
		rows = append(rows, row)
		return nil
	}
	errored := func(_ string, failed bool) bool { return failed }
	notOnHost := func(path string) func(string, bool) bool {
		return func(_ string, failed bool) bool {
			_, err := os.Stat(path)
			return failed && err != nil
		}
	}
	checks := []func() error{
		func() error {
			return check("read of a denyRead path", "read_file", map[string]any{"path": decoy},
				func(text string, failed bool) bool { return failed && !strings.Contains(text, "SELFTEST-DECOY-SECRET") },
				"filesystem.allowRead re-opens it, or bubblewrap could not mask it")
		},
		func() error {
			return check("write outside allowWrite", "write_file", map[string]any{"path": outside}, notOnHost(outside),
				"filesystem.allowWrite covers it (\"/\" or the home directory?)")
		},
		func() error {
			return check("write to a mandatory deny file (.mcp.json) in an allowed directory", "write_file", map[string]any{"path": mcpJSON},
				func(_ string, failed bool) bool {
					b, _ := os.ReadFile(mcpJSON)
					return failed && string(b) == `{"mcpServers": {}}`
				}, "the mandatory-deny walk did not find it (mandatoryDenySearchDepth 0?)")
		},
		func() error {
			hook := filepath.Join(w.Project, ".git", "hooks", "pre-commit")
			return check("new file under .git/hooks", "write_file", map[string]any{"path": hook}, notOnHost(hook),
				"the mandatory-deny walk did not find .git/hooks (mandatoryDenySearchDepth 0?)")
		},
		func() error {
			return check("direct TCP connect bypassing the proxy", "connect_tcp", map[string]any{"address": tln.Addr().String()}, errored,
				"the sandbox shares the host's network namespace")
		},
		func() error {
			return check("request to an unlisted domain via the proxy", "http_get", map[string]any{"url": "http://selftest.srt-mcp.invalid/"},
				func(text string, failed bool) bool { return !failed && strings.HasPrefix(text, "403\n") },
				"network.allowedDomains lets it through, or the proxy is not in the path")
		},
		func() error {
			return check("DNS lookup", "resolve", map[string]any{"host": "example.com"}, errored,
				"the sandbox can reach a DNS server")
		},
		func() error {
			return check("unix socket to a host socket", "connect_unix", map[string]any{"path": sock}, errored,
				"network.allowAllUnixSockets is on")
		},
		func() error {
			self := strconv.Itoa(os.Getpid())
			return check("visibility of host processes", "list_processes", nil,
				func(text string, failed bool) bool {
					return !failed && !strings.Contains(text, "sleep 600") && !strings.Contains("\n"+text, "\n"+self+" ")
				}, "enableWeakerNestedSandbox binds the host's /proc")
		},
		func() error {
			return check("signal to a host process", "signal", map[string]any{"pid": hostPID, "term": true},
				func(_ string, failed bool) bool { return failed && victim.ProcessState == nil }, "the sandbox shares the host's PID namespace")
		},
		func() error {
			return check("ptrace of a host process", "ptrace", map[string]any{"pid": hostPID}, errored,
				"the sandbox shares the host's PID namespace")
		},
		func() error {
			return check("terminal injection (TIOCSTI)", "tty_inject", nil, errored,
				"the server shares the terminal's session and the seccomp filter is missing")
		},
		func() error {
			return check("privilege gain via setuid", "privileges", nil,
				func(text string, failed bool) bool {
					return !failed && strings.Contains(text, "NoNewPrivs:\t1") && strings.Contains(text, "CapEff:\t0000000000000000")
				}, "no_new_privs is off or capabilities were kept")
		},
		func() error {
			return check("rewriting the settings file in use", "write_file", map[string]any{"path": settingsPath, "content": `{"filesystem": {"allowWrite": ["/"]}}`},
				func(_ string, failed bool) bool {
					b, _ := os.ReadFile(settingsPath)
					return failed && string(b) == string(settings)
				}, "filesystem.allowWrite covers the settings file and srt-mcp could not make it read-only")
		},
		func() error {
			return check("reading an MCP client config (~/.claude.json)", "read_file", map[string]any{"path": clientConfig},
				func(text string, failed bool) bool { return failed && !strings.Contains(text, clientCanary) },
				"filesystem.allowRead re-opens ~/.claude.json")
		},
		func() error {
			// The same policy, with the server started in the home
			// directory, as some clients do: "." must not make it writable.
			// A copy out of the server's reach, in case the rewrite above
			// went through.
			copyPath, err := w.Write("selftest-settings-copy.json", string(settings))
			if err != nil {
				return err
			}
			args := append(append([]string{}, profileArgs...), "--settings", copyPath, "--trace-dir", filepath.Join(w.Root, "traces"))
			other, err := w.StartProbeIn(ctx, w.Home, args)
			if err != nil {
				return err
			}
			defer other.Close()
			target := filepath.Join(w.Home, "written-by-selftest")
			return checkWith(other, "working-directory rule (server started in / or ~)", "write_file", map[string]any{"path": target}, notOnHost(target),
				"filesystem.allowWrite names the home directory (~ or its absolute path) or \"/\"")
		},
		func() error {
			// The same policy with the home made writable on purpose: the
			// persistence points in it stay read-only.
			home, err := json.Marshal(w.Home)
			if err != nil {
				return err
			}
			var m map[string]any
			json.Unmarshal(settings, &m)
			fsm, _ := m["filesystem"].(map[string]any)
			if fsm == nil {
				fsm = map[string]any{}
				m["filesystem"] = fsm
			}
			aw, _ := fsm["allowWrite"].([]any)
			if fsm["allowWrite"] == nil {
				aw = []any{"."}
			}
			fsm["allowWrite"] = append(aw, json.RawMessage(home))
			wide, _ := json.Marshal(m)
			widePath, err := w.Write("selftest-writable-home.json", string(wide))
			if err != nil {
				return err
			}
			args := append(append([]string{}, profileArgs...), "--settings", widePath, "--trace-dir", filepath.Join(w.Root, "traces"))
			other, err := w.StartProbeIn(ctx, w.Project, args)
			if err != nil {
				return err
			}
			defer other.Close()
			held := true
			var detail []string
			for _, f := range []string{bashrc, localBin} {
				before, _ := os.ReadFile(f)
				text, failed, err := mcpclient.CallTool(ctx, other, "write_file", map[string]any{"path": f, "content": "echo owned\n"})
				if err != nil {
					return err
				}
				after, _ := os.ReadFile(f)
				held = held && failed && string(after) == string(before)
				detail = append(detail, mcpclient.FirstLine(text))
			}
			row := selftestRow{Protection: "writable home / persistence points (~/.bashrc, ~/.local/bin)", Result: "PASS", Detail: "blocked: " + strings.Join(detail, "; ")}
			if !held {
				row.Result, row.Detail = "FAIL", "not blocked: "+strings.Join(detail, "; ")
				row.Hint = "filesystem.allowWrite covers them and srt-mcp could not make them read-only"
			}
			rows = append(rows, row)
			return nil
		},
		func() error {
			// Real bombs, bounded just past each ceiling: a limit that holds
			// stops them there; a missing one lets them finish at that size.
			lim := selftestLimits(settings)
			return check("resource limits (processes, memory, /tmp size)", "resource_limits", map[string]any{
				"processes": past(lim.Processes, sandbox.DefaultProcesses, 64),
				"memoryMB":  past(lim.MemoryMB, sandbox.DefaultMemoryMB, 256),
				"tmpMB":     past(lim.TmpMB, sandbox.DefaultTmpMB, 64),
			}, errored, "srtMcp.limits.processes, memoryMB or tmpMB is 0 (no limit), filesystem.allowWrite covers /tmp (the host's /tmp replaces the private one), or srt-mcp runs as root without a writable cgroup pids controller (RLIMIT_NPROC does not bind root)")
		},
		func() error {
			// A sibling: a process orphaned to PID 1, not the server's
			// descendant. Without one, PID 1 is still attacked.
			if _, _, err := mcpclient.CallTool(ctx, c, "spawn_orphan", nil); err != nil {
				return err
			}
			return check("ptrace of a process in the sandbox (PID 1 and a sibling)", "attack_ptrace", map[string]any{"pid": 0}, errored,
				"srtMcp.allowPtrace is on, or the sandbox's PID 1 is not srt-mcp's filtered helper")
		},
		func() error {
			return check("foreign socket families (vsock, packet, netlink audit)", "attack_socket_families", nil, errored,
				"no setting allows them: the seccomp filter's family allow-list is not applied")
		},
		func() error {
			return check("kernel keyrings", "attack_keyring", nil, errored,
				"no setting allows them: the seccomp filter does not refuse keyctl, add_key and request_key")
		},
		func() error {
			// The same policy with the npm cache made writable, as every
			// npx profile does: a package npx cached on the host must not
			// be rewritable from inside (the host's next npx would run it).
			return checkLauncherCache(ctx, w, settings, profileArgs, &rows)
		},
	}
	for _, f := range checks {
		if err := f(); err != nil {
			return nil, source, err
		}
	}
	// Two rows read better described than quoted.
	for i, r := range rows {
		if r.Result != "PASS" {
			continue
		}
		switch r.Protection {
		case "visibility of host processes":
			rows[i].Detail = "only the sandbox's own processes are visible"
		case "privilege gain via setuid":
			rows[i].Detail = "no_new_privs is set and no capabilities are held: setuid binaries gain nothing"
		}
	}
	return rows, source, nil
}

// selftestLimits are the resource limits of the policy under test.
func selftestLimits(settings []byte) sandbox.Limits {
	s, err := sandbox.ParseSettings("selftest", settings)
	if err != nil {
		return sandbox.LimitSettings{}.Effective()
	}
	return s.SrtMCP.Limits.Effective()
}

// past is the size of a bounded bomb: margin beyond the limit, or beyond
// the default when there is no limit (so the bomb stays bounded).
func past(limit, def, margin int) int {
	if limit <= 0 {
		limit = def
	}
	return limit + margin
}

// checkLauncherCache is the selftest row for launcher caches: with
// ~/.npm added to allowWrite, a server rewrites a package npx cached on the
// host. It holds when the host's copy is unchanged (the server got a
// private cache instead).
func checkLauncherCache(ctx context.Context, w *workspace.Workspace, settings []byte, profileArgs []string, rows *[]selftestRow) error {
	const original = "#!/usr/bin/env node\nconsole.log('selftest original');\n"
	cached, err := w.Write("home/.npm/_npx/selftest/node_modules/selftest-victim/index.js", original)
	if err != nil {
		return err
	}
	var m map[string]any
	json.Unmarshal(settings, &m)
	fsm, _ := m["filesystem"].(map[string]any)
	if fsm == nil {
		fsm = map[string]any{}
		m["filesystem"] = fsm
	}
	aw, _ := fsm["allowWrite"].([]any)
	if fsm["allowWrite"] == nil {
		aw = []any{"."}
	}
	fsm["allowWrite"] = append(aw, "~/.npm")
	npm, _ := json.Marshal(m)
	npmPath, err := w.Write("selftest-writable-npm.json", string(npm))
	if err != nil {
		return err
	}
	args := append(append([]string{}, profileArgs...), "--settings", npmPath, "--trace-dir", filepath.Join(w.Root, "traces"))
	other, err := w.StartProbeIn(ctx, w.Project, args)
	if err != nil {
		return err
	}
	defer other.Close()
	text, _, err := mcpclient.CallTool(ctx, other, "trojan_launcher_cache", map[string]any{
		"dirs":   []string{filepath.Join(w.Home, ".npm", "_npx")},
		"marker": filepath.Join(w.Root, "selftest-trojan-ran"),
		"plant":  []string{cached},
	})
	if err != nil {
		return err
	}
	after, _ := os.ReadFile(cached)
	row := selftestRow{Protection: "rewriting a package in the npm cache (~/.npm writable)", Result: "PASS",
		Detail: "the server got a private cache; the host's stays unchanged"}
	if string(after) != original {
		row.Result, row.Detail = "FAIL", "not blocked: "+mcpclient.FirstLine(text)
		row.Hint = "srtMcp.sharedLauncherCaches makes writable launcher caches the real ones"
	}
	*rows = append(*rows, row)
	return nil
}
