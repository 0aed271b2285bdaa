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

	"github.com/srt-mcp/srt-mcp/configs"
	"github.com/srt-mcp/srt-mcp/sandbox"
)

const selftestUsage = `Usage: srt-mcp selftest [--settings FILE] [--json]

Runs probes inside the sandbox built from the policy (FILE, else
~/.srt-settings.json, else the built-in default) and prints one row per
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
	asJSON := fl.Bool("json", false, "")
	if err := fl.Parse(args); err != nil || fl.NArg() > 0 {
		fmt.Fprintf(stderr, "srt-mcp selftest: bad arguments\n%s", selftestUsage)
		return sandbox.ExitUsage
	}
	rows, source, err := selftest(*settingsFile)
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
func selftestSettings(settingsFile, decoy string) ([]byte, string, error) {
	home, _ := os.UserHomeDir()
	var data []byte
	var source string
	var err error
	switch {
	case settingsFile != "":
		data, source = nil, settingsFile
		data, err = os.ReadFile(settingsFile)
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

func selftest(settingsFile string) ([]selftestRow, string, error) {
	w, err := newWorkspace("srt-mcp-selftest-")
	if err != nil {
		return nil, "", err
	}
	defer w.remove()
	decoy, err := w.write("home/secrets/decoy-key", "SELFTEST-DECOY-SECRET")
	if err != nil {
		return nil, "", err
	}
	settings, source, err := selftestSettings(settingsFile, decoy)
	if err != nil {
		return nil, source, err
	}
	settingsPath, err := w.write("selftest-settings.json", string(settings))
	if err != nil {
		return nil, source, err
	}
	mcpJSON, _ := w.write("home/project/.mcp.json", `{"mcpServers": {}}`)
	if _, err := w.write("home/project/.git/hooks/.keep", ""); err != nil {
		return nil, source, err
	}
	outside := filepath.Join(w.root, "outside", "written-by-selftest")
	os.MkdirAll(filepath.Dir(outside), 0o755)

	sock := filepath.Join(w.root, "host.sock")
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
	c, _, err := w.probeClient(ctx, &serverLog, "--settings", settingsPath, "--trace-dir", filepath.Join(w.root, "traces"))
	if err != nil {
		return nil, source, fmt.Errorf("%w\n%s", err, serverLog.String())
	}
	defer c.Close()

	var rows []selftestRow
	check := func(protection, tool string, args map[string]any, held func(text string, failed bool) bool, hint string) error {
		text, failed, err := callTool(ctx, c, tool, args)
		if err != nil {
			return err
		}
		row := selftestRow{Protection: protection, Result: "PASS", Detail: "blocked: " + firstLine(text)}
		if !held(text, failed) {
			row.Result, row.Detail, row.Hint = "FAIL", "not blocked: "+firstLine(text), hint
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
				}, "the seccomp broker did not refuse it: is filesystem.denyWrite/allowWrite naming it, or was srt-mcp started without its supervisor?")
		},
		func() error {
			hook := filepath.Join(w.project, ".git", "hooks", "pre-commit")
			return check("new file under .git/hooks", "write_file", map[string]any{"path": hook}, notOnHost(hook),
				"the seccomp broker did not refuse it (srt-mcp without its supervisor?)")
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
			git := filepath.Join(w.project, ".git")
			return check("renaming a protected path's parent (.git)", "fs_ops", map[string]any{"ops": [][]string{
				{"rename", git, git + "-old"}, {"mkdir", git}, {"write", filepath.Join(git, "config"), "[core]\n\tfsmonitor = false\n"}}},
				func(_ string, failed bool) bool {
					_, err := os.Stat(filepath.Join(git, "hooks", ".keep"))
					_, old := os.Stat(git + "-old")
					return failed && err == nil && old != nil
				}, "the seccomp broker did not refuse it; filesystem.allowWrite naming the .git directory itself, or a kernel without seccomp user notification, would")
		},
		func() error {
			hook := filepath.Join(w.project, ".git", "hooks", "pre-commit")
			deep := filepath.Join(w.project, "a", "b", "c", "d")
			mcp := filepath.Join(deep, ".mcp.json")
			return check("creating a missing protected file (.git/hooks/pre-commit, .mcp.json)", "fs_ops", map[string]any{"ops": [][]string{
				{"write", hook, "#!/bin/sh\n"}}},
				func(_ string, failed bool) bool {
					// The same for an .mcp.json four levels down.
					text, deepFailed, err := callTool(ctx, c, "fs_ops", map[string]any{"ops": [][]string{
						{"mkdir", filepath.Dir(filepath.Dir(filepath.Dir(deep)))}, {"mkdir", filepath.Dir(filepath.Dir(deep))},
						{"mkdir", filepath.Dir(deep)}, {"mkdir", deep}, {"write", mcp, "{}"}}})
					_, hookErr := os.Lstat(hook)
					_, mcpErr := os.Lstat(mcp)
					return err == nil && failed && deepFailed && strings.Contains(text, ".mcp.json") && hookErr != nil && mcpErr != nil
				}, "the seccomp broker did not refuse it: only a kernel without seccomp user notification (the server then does not start) or a bug would let it through")
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
