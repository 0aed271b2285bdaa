package selftest

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/srt-mcp/srt-mcp/internal/mcpclient"
	"github.com/srt-mcp/srt-mcp/sandbox"
)

// row is one protection: the attack that probes it and what weakens it.
type row struct {
	protection string
	// hint names what would make the row fail: the setting (or the
	// missing kernel feature) that weakens the protection.
	hint string
	// described, when set, is the PASS detail instead of the probe's
	// answer: for rows that read better described than quoted.
	described string
	// probe performs the attack from inside the sandbox.
	probe func(e *env) (outcome, error)
}

// outcome is how an attack went.
type outcome struct {
	held   bool   // the protection held: the attack was stopped
	answer string // the probe's answer, quoted in the detail
}

func (r row) result(o outcome) Row {
	if !o.held {
		return Row{Protection: r.protection, Result: "FAIL", Detail: "not blocked: " + o.answer, Hint: r.hint}
	}
	if r.described != "" {
		return Row{Protection: r.protection, Result: "PASS", Detail: r.described}
	}
	return Row{Protection: r.protection, Result: "PASS", Detail: "blocked: " + o.answer}
}

// attackRow is the common row: a probe tool that attacks on its own (no
// arguments) and returns an error result when the attack was stopped.
func attackRow(protection, tool, hint string) row {
	return row{protection: protection, hint: hint, probe: func(e *env) (outcome, error) {
		return e.call(tool, nil, errored)
	}}
}

// errored: the attack was refused.
func errored(_ string, failed bool) bool { return failed }

// notOnHost: the attack was refused and the file it wrote is not on the host.
func notOnHost(path string) func(string, bool) bool {
	return func(_ string, failed bool) bool {
		_, err := os.Stat(path)
		return failed && err != nil
	}
}

// rows are the selftest's protections, in the order they are printed. Add
// a row at the END (tests and users compare the order): usually
// attackRow("what it protects", "probe_tool", "the setting that weakens it").
var rows = []row{
	{
		protection: "read of a denyRead path",
		hint:       "filesystem.allowRead re-opens it, or bubblewrap could not mask it",
		probe: func(e *env) (outcome, error) {
			return e.call("read_file", map[string]any{"path": e.decoy},
				func(text string, failed bool) bool { return failed && !strings.Contains(text, decoySecret) })
		},
	},
	{
		protection: "write outside allowWrite",
		hint:       "filesystem.allowWrite covers it (\"/\" or the home directory?)",
		probe: func(e *env) (outcome, error) {
			return e.call("write_file", map[string]any{"path": e.outside}, notOnHost(e.outside))
		},
	},
	{
		protection: "write to a mandatory deny file (.mcp.json) in an allowed directory",
		hint:       "the seccomp broker did not refuse it: is filesystem.denyWrite/allowWrite naming it, or was srt-mcp started without its supervisor?",
		probe: func(e *env) (outcome, error) {
			return e.call("write_file", map[string]any{"path": e.mcpJSON},
				func(_ string, failed bool) bool {
					b, _ := os.ReadFile(e.mcpJSON)
					return failed && string(b) == mcpJSONContent
				})
		},
	},
	{
		protection: "new file under .git/hooks",
		hint:       "the seccomp broker did not refuse it (srt-mcp without its supervisor?)",
		probe: func(e *env) (outcome, error) {
			hook := filepath.Join(e.w.Project, ".git", "hooks", "pre-commit")
			return e.call("write_file", map[string]any{"path": hook}, notOnHost(hook))
		},
	},
	{
		protection: "direct TCP connect bypassing the proxy",
		hint:       "the sandbox shares the host's network namespace",
		probe: func(e *env) (outcome, error) {
			return e.call("connect_tcp", map[string]any{"address": e.tcpAddr}, errored)
		},
	},
	{
		protection: "request to an unlisted domain via the proxy",
		hint:       "network.allowedDomains lets it through, or the proxy is not in the path",
		probe: func(e *env) (outcome, error) {
			return e.call("http_get", map[string]any{"url": "http://selftest.srt-mcp.invalid/"},
				func(text string, failed bool) bool { return !failed && strings.HasPrefix(text, "403\n") })
		},
	},
	{
		protection: "DNS lookup",
		hint:       "the sandbox can reach a DNS server",
		probe: func(e *env) (outcome, error) {
			return e.call("resolve", map[string]any{"host": "example.com"}, errored)
		},
	},
	{
		protection: "unix socket to a host socket",
		hint:       "network.allowAllUnixSockets is on",
		probe: func(e *env) (outcome, error) {
			return e.call("connect_unix", map[string]any{"path": e.sock}, errored)
		},
	},
	{
		protection: "visibility of host processes",
		hint:       "enableWeakerNestedSandbox binds the host's /proc",
		described:  "only the sandbox's own processes are visible",
		probe: func(e *env) (outcome, error) {
			self := strconv.Itoa(os.Getpid())
			return e.call("list_processes", nil, func(text string, failed bool) bool {
				return !failed && !strings.Contains(text, "sleep 600") && !strings.Contains("\n"+text, "\n"+self+" ")
			})
		},
	},
	{
		protection: "signal to a host process",
		hint:       "the sandbox shares the host's PID namespace",
		probe: func(e *env) (outcome, error) {
			return e.call("signal", map[string]any{"pid": e.victim.Process.Pid, "term": true},
				func(_ string, failed bool) bool { return failed && e.victim.ProcessState == nil })
		},
	},
	{
		protection: "ptrace of a host process",
		hint:       "the sandbox shares the host's PID namespace",
		probe: func(e *env) (outcome, error) {
			return e.call("ptrace", map[string]any{"pid": e.victim.Process.Pid}, errored)
		},
	},
	attackRow("terminal injection (TIOCSTI)", "tty_inject",
		"the server shares the terminal's session and the seccomp filter is missing"),
	{
		protection: "privilege gain via setuid",
		hint:       "no_new_privs is off or capabilities were kept",
		described:  "no_new_privs is set and no capabilities are held: setuid binaries gain nothing",
		probe: func(e *env) (outcome, error) {
			return e.call("privileges", nil, func(text string, failed bool) bool {
				return !failed && strings.Contains(text, "NoNewPrivs:\t1") && strings.Contains(text, "CapEff:\t0000000000000000")
			})
		},
	},
	{
		protection: "rewriting the settings file in use",
		hint:       "filesystem.allowWrite covers the settings file and srt-mcp could not make it read-only",
		probe: func(e *env) (outcome, error) {
			return e.call("write_file", map[string]any{"path": e.settingsPath, "content": `{"filesystem": {"allowWrite": ["/"]}}`},
				func(_ string, failed bool) bool {
					b, _ := os.ReadFile(e.settingsPath)
					return failed && string(b) == string(e.settings)
				})
		},
	},
	{
		protection: "reading an MCP client config (~/.claude.json)",
		hint:       "filesystem.allowRead re-opens ~/.claude.json",
		probe: func(e *env) (outcome, error) {
			return e.call("read_file", map[string]any{"path": e.clientConfig},
				func(text string, failed bool) bool { return failed && !strings.Contains(text, clientCanary) })
		},
	},
	{
		// The same policy, with the server started in the home directory,
		// as some clients do: "." must not make it writable. A copy out of
		// the server's reach, in case the rewrite above went through.
		protection: "working-directory rule (server started in / or ~)",
		hint:       "filesystem.allowWrite names the home directory (~ or its absolute path) or \"/\"",
		probe: func(e *env) (outcome, error) {
			other, err := e.sessionWith(e.w.Home, "selftest-settings-copy.json", e.settings)
			if err != nil {
				return outcome{}, err
			}
			defer other.Close()
			target := filepath.Join(e.w.Home, "written-by-selftest")
			return e.callIn(other, "write_file", map[string]any{"path": target}, notOnHost(target))
		},
	},
	{
		// The same policy with the home made writable on purpose: the
		// persistence points in it stay read-only.
		protection: "writable home / persistence points (~/.bashrc, ~/.local/bin)",
		hint:       "filesystem.allowWrite covers them and srt-mcp could not make them read-only",
		probe: func(e *env) (outcome, error) {
			wide, err := withAllowWrite(e.settings, e.w.Home)
			if err != nil {
				return outcome{}, err
			}
			other, err := e.sessionWith(e.w.Project, "selftest-writable-home.json", wide)
			if err != nil {
				return outcome{}, err
			}
			defer other.Close()
			held := true
			var answers []string
			for _, f := range []string{e.bashrc, e.localBin} {
				before, _ := os.ReadFile(f)
				text, failed, err := mcpclient.CallTool(e.ctx, other, "write_file", map[string]any{"path": f, "content": "echo owned\n"})
				if err != nil {
					return outcome{}, err
				}
				after, _ := os.ReadFile(f)
				held = held && failed && string(after) == string(before)
				answers = append(answers, mcpclient.Line(text))
			}
			return outcome{held: held, answer: strings.Join(answers, "; ")}, nil
		},
	},
	{
		// Real bombs, bounded just past each ceiling: a limit that holds
		// stops them there; a missing one lets them finish at that size.
		protection: "resource limits (processes, memory, /tmp size)",
		hint:       "srtMcp.limits.processes, memoryMB or tmpMB is 0 (no limit), filesystem.allowWrite covers /tmp (the host's /tmp replaces the private one), or srt-mcp runs as root without a writable cgroup pids controller (RLIMIT_NPROC does not bind root)",
		probe: func(e *env) (outcome, error) {
			lim := limits(e.settings)
			return e.call("resource_limits", map[string]any{
				"processes": past(lim.Processes, sandbox.DefaultProcesses, 64),
				"memoryMB":  past(lim.MemoryMB, sandbox.DefaultMemoryMB, 256),
				"tmpMB":     past(lim.TmpMB, sandbox.DefaultTmpMB, 64),
			}, errored)
		},
	},
	{
		// A sibling: a process orphaned to PID 1, not the server's
		// descendant. Without one, PID 1 is still attacked.
		protection: "ptrace of a process in the sandbox (PID 1 and a sibling)",
		hint:       "srtMcp.allowPtrace is on, or the sandbox's PID 1 is not srt-mcp's filtered helper",
		probe: func(e *env) (outcome, error) {
			if _, _, err := mcpclient.CallTool(e.ctx, e.session, "spawn_orphan", nil); err != nil {
				return outcome{}, err
			}
			return e.call("attack_ptrace", map[string]any{"pid": 0}, errored)
		},
	},
	attackRow("foreign socket families (vsock, packet, netlink audit)", "attack_socket_families",
		"no setting allows them: the seccomp filter's family allow-list is not applied"),
	attackRow("kernel keyrings", "attack_keyring",
		"no setting allows them: the seccomp filter does not refuse keyctl, add_key and request_key"),
	{
		// The same policy with the npm cache made writable, as every npx
		// profile does: a package npx cached on the host must not be
		// rewritable from inside (the host's next npx would run it). It
		// holds when the host's copy is unchanged (the server got a
		// private cache instead).
		protection: "rewriting a package in the npm cache (~/.npm writable)",
		hint:       "srtMcp.sharedLauncherCaches makes writable launcher caches the real ones",
		described:  "the server got a private cache; the host's stays unchanged",
		probe: func(e *env) (outcome, error) {
			const original = "#!/usr/bin/env node\nconsole.log('selftest original');\n"
			cached, err := e.w.Write("home/.npm/_npx/selftest/node_modules/selftest-victim/index.js", original)
			if err != nil {
				return outcome{}, err
			}
			npm, err := withAllowWrite(e.settings, "~/.npm")
			if err != nil {
				return outcome{}, err
			}
			other, err := e.sessionWith(e.w.Project, "selftest-writable-npm.json", npm)
			if err != nil {
				return outcome{}, err
			}
			defer other.Close()
			return e.callIn(other, "trojan_launcher_cache", map[string]any{
				"dirs":   []string{filepath.Join(e.w.Home, ".npm", "_npx")},
				"marker": filepath.Join(e.w.Root, "selftest-trojan-ran"),
				"plant":  []string{cached},
			}, func(string, bool) bool {
				after, _ := os.ReadFile(cached)
				return string(after) == original
			})
		},
	},
	{
		protection: "renaming a protected path's parent (.git)",
		hint:       "the seccomp broker did not refuse it; filesystem.allowWrite naming the .git directory itself, or a kernel without seccomp user notification, would",
		probe: func(e *env) (outcome, error) {
			git := filepath.Join(e.w.Project, ".git")
			return e.call("fs_ops", map[string]any{"ops": [][]string{
				{"rename", git, git + "-old"}, {"mkdir", git}, {"write", filepath.Join(git, "config"), "[core]\n\tfsmonitor = false\n"}}},
				func(_ string, failed bool) bool {
					_, err := os.Stat(filepath.Join(git, "hooks", ".keep"))
					_, old := os.Stat(git + "-old")
					return failed && err == nil && old != nil
				})
		},
	},
	{
		protection: "creating a missing protected file (.git/hooks/pre-commit, .mcp.json)",
		hint:       "the seccomp broker did not refuse it: only a kernel without seccomp user notification (the server then does not start) or a bug would let it through",
		probe: func(e *env) (outcome, error) {
			hook := filepath.Join(e.w.Project, ".git", "hooks", "pre-commit")
			deep := filepath.Join(e.w.Project, "a", "b", "c", "d")
			mcp := filepath.Join(deep, ".mcp.json")
			first, err := e.call("fs_ops", map[string]any{"ops": [][]string{{"write", hook, "#!/bin/sh\n"}}}, errored)
			if err != nil || !first.held {
				return first, err
			}
			// The same for an .mcp.json four levels down.
			return e.call("fs_ops", map[string]any{"ops": [][]string{
				{"mkdir", filepath.Dir(filepath.Dir(filepath.Dir(deep)))}, {"mkdir", filepath.Dir(filepath.Dir(deep))},
				{"mkdir", filepath.Dir(deep)}, {"mkdir", deep}, {"write", mcp, "{}"}}},
				func(text string, failed bool) bool {
					_, hookErr := os.Lstat(hook)
					_, mcpErr := os.Lstat(mcp)
					return failed && strings.Contains(text, ".mcp.json") && hookErr != nil && mcpErr != nil
				})
		},
	},
	attackRow("writing host kernel settings (/proc/sys, sysrq-trigger)", "attack_kernel_knobs",
		"the sandbox's /proc/sys is writable: a bubblewrap that skipped srt-mcp's read-only binds, or enableWeakerNestedSandbox with the host's /proc"),
}
