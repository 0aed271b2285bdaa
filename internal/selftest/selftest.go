// Package selftest proves, on this machine and with the user's policy, that
// the sandbox holds: it runs srt-mcp's probe server inside the sandbox in a
// throw-away workspace and makes it attempt each attack in the rows table
// (rows.go). A row passes when the attack was stopped.
package selftest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/srt-mcp/srt-mcp/configs"
	"github.com/srt-mcp/srt-mcp/internal/mcpclient"
	"github.com/srt-mcp/srt-mcp/internal/workspace"
	"github.com/srt-mcp/srt-mcp/sandbox"
)

// Row is one protection and how it fared.
type Row struct {
	Protection string `json:"protection"`
	Result     string `json:"result"` // PASS or FAIL
	Detail     string `json:"detail"`
	Hint       string `json:"hint,omitempty"` // why it may fail, on FAIL
}

// Passed reports whether the protection held.
func (r Row) Passed() bool { return r.Result == "PASS" }

// Options choose the policy under test, as srt-mcp's own flags do.
type Options struct {
	SettingsFile string // --settings
	Profile      string // --profile
	Version      string // srt-mcp's version, reported by the probe's client
}

// Run runs every row and returns them in table order, with a description
// of the policy under test. An error means the selftest itself could not
// run; a *sandbox.SettingsError means the policy is unusable.
func Run(opt Options) ([]Row, string, error) {
	w, err := workspace.New("srt-mcp-selftest-", opt.Version)
	if err != nil {
		return nil, "", err
	}
	defer w.Remove()
	decoy, err := w.Write("home/secrets/decoy-key", decoySecret)
	if err != nil {
		return nil, "", err
	}
	settings, source, userSettings, err := settingsUnderTest(opt.SettingsFile, opt.Profile, decoy)
	if err != nil {
		return nil, source, err
	}
	// Resolve it here, as the run will, so that a policy srt-mcp refuses
	// is reported against the user's file: the run reads a copy in the
	// workspace, whose name means nothing to the user.
	if err := resolves(settings, source, opt.Profile, w.Project, w.Home); err != nil {
		return nil, source, err
	}
	// In the writable project, where a server could rewrite it if srt-mcp
	// did not protect the settings file in use.
	settingsPath, err := w.Write("home/project/.srt-selftest-settings.json", string(settings))
	if err != nil {
		return nil, source, err
	}
	var profileArgs []string
	if opt.Profile != "" {
		if _, err := configs.Get(opt.Profile); err != nil {
			return nil, source, &sandbox.SettingsError{Source: "--profile", Msg: err.Error()}
		}
		profileArgs = []string{"--profile", opt.Profile}
	}
	e := &env{w: w, settings: settings, settingsPath: settingsPath, profileArgs: profileArgs, decoy: decoy}
	e.clientConfig, _ = w.Write("home/.claude.json", `{"mcpServers": {"x": {"env": {"TOKEN": "`+clientCanary+`"}}}}`)
	e.bashrc, _ = w.Write("home/.bashrc", "# selftest\n")
	e.localBin, _ = w.Write("home/.local/bin/selftest-tool", "#!/bin/sh\n")
	e.mcpJSON, _ = w.Write("home/project/.mcp.json", mcpJSONContent)
	if _, err := w.Write("home/project/.git/hooks/.keep", ""); err != nil {
		return nil, source, err
	}
	e.outside = filepath.Join(w.Root, "outside", "written-by-selftest")
	if err := os.MkdirAll(filepath.Dir(e.outside), 0o755); err != nil {
		return nil, source, err
	}

	e.sock = filepath.Join(w.Root, "host.sock")
	uln, err := net.Listen("unix", e.sock)
	if err != nil {
		return nil, source, err
	}
	defer uln.Close()
	tln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, source, err
	}
	defer tln.Close()
	e.tcpAddr = tln.Addr().String()
	// A host process for the signal and ptrace rows.
	e.victim = exec.Command("sleep", "600")
	if err := e.victim.Start(); err != nil {
		return nil, source, err
	}
	defer func() { e.victim.Process.Kill(); e.victim.Wait() }()

	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	e.ctx = ctx
	var serverLog strings.Builder
	c, _, err := w.ProbeClient(ctx, &serverLog, e.srtArgs(settingsPath)...)
	if err != nil {
		// Whatever still names the copy names the user's file instead.
		msg := strings.ReplaceAll(fmt.Sprintf("%v\n%s", err, serverLog.String()), settingsPath, source)
		return nil, source, errors.New(strings.TrimSpace(msg))
	}
	defer c.Close()
	e.session = c

	// The policy's documents, for naming the setting behind a FAIL.
	layers := []layer{{source, userSettings}}
	if opt.Profile != "" {
		data, _ := configs.Get(opt.Profile)
		layers = append([]layer{{"built-in profile " + opt.Profile, data}}, layers...)
	}
	var out []Row
	for _, r := range rows {
		o, err := r.probe(e)
		if err != nil {
			return nil, source, err
		}
		res := r.result(o)
		if !res.Passed() {
			res.Hint = failHint(r.protection, r.hint, layers)
		}
		out = append(out, res)
	}
	return out, source, nil
}

const (
	decoySecret    = "SELFTEST-DECOY-SECRET"
	clientCanary   = "SELFTEST-CLIENT-CONFIG-TOKEN"
	mcpJSONContent = `{"mcpServers": {}}`
)

// env is what the rows attack and the session they attack it from.
type env struct {
	ctx          context.Context
	w            *workspace.Workspace
	session      *client.Client // the probe under the policy under test
	settings     []byte         // the policy under test, as srt-mcp reads it
	settingsPath string         // where that policy lies, in the writable project
	profileArgs  []string       // --profile NAME, or nothing

	decoy, outside, sock, tcpAddr           string
	clientConfig, bashrc, localBin, mcpJSON string
	victim                                  *exec.Cmd // a host process
}

// srtArgs are srt-mcp's flags for a session under the policy in settingsPath.
func (e *env) srtArgs(settingsPath string) []string {
	return append(append([]string{}, e.profileArgs...), "--settings", settingsPath, "--trace-dir", filepath.Join(e.w.Root, "traces"))
}

// call runs a tool in the main session; held judges its answer.
func (e *env) call(tool string, args map[string]any, held func(text string, failed bool) bool) (outcome, error) {
	return e.callIn(e.session, tool, args, held)
}

// callIn is call in another session.
func (e *env) callIn(c *client.Client, tool string, args map[string]any, held func(text string, failed bool) bool) (outcome, error) {
	text, failed, err := mcpclient.CallTool(e.ctx, c, tool, args)
	if err != nil {
		return outcome{}, err
	}
	return outcome{held: held(text, failed), answer: mcpclient.Line(text)}, nil
}

// sessionWith starts another probe session, started in dir, under the
// policy in settings (written to the workspace under name, out of the
// server's reach).
func (e *env) sessionWith(dir, name string, settings []byte) (*client.Client, error) {
	path, err := e.w.Write(name, string(settings))
	if err != nil {
		return nil, err
	}
	return e.w.StartProbeIn(e.ctx, dir, e.srtArgs(path))
}
