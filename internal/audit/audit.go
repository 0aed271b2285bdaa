// Package audit runs a third-party MCP server under srt-mcp in learn mode,
// with decoy credentials where thieves look, drives it with an MCP client,
// and reports what it touched: the network destinations it tried, the
// files it wrote, the decoys it read, canaries leaving through the proxy,
// the programs it started, and tool descriptions that carry instructions
// aimed at the model.
package audit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/srt-mcp/srt-mcp/internal/mcpclient"
	"github.com/srt-mcp/srt-mcp/internal/workspace"
	"github.com/srt-mcp/srt-mcp/sandbox"

	"github.com/srt-mcp/srt-mcp/internal/trace"
)

// Call is one sample tool call.
type Call struct {
	Tool      string         `json:"tool"`
	Arguments map[string]any `json:"arguments"`
}

// Options configure an audit.
type Options struct {
	SrtMCP       string // the srt-mcp executable to run the server with
	SettingsFile string // "" for ~/.srt-settings.json or the default profile
	Calls        []Call
	Command      []string
	Timeout      time.Duration
}

// Report is what the audit found.
type Report struct {
	Command         []string          `json:"command"`
	Server          string            `json:"server"`
	Version         string            `json:"version"`
	ProtocolVersion string            `json:"protocolVersion"`
	Instructions    string            `json:"instructions,omitempty"`
	Tools           []Tool            `json:"tools"`
	Resources       int               `json:"resources"`
	Prompts         int               `json:"prompts"`
	Calls           []CallResult      `json:"calls"`
	Network         []Observation     `json:"network"`
	Egress          []Observation     `json:"canaryEgress"`
	Writes          []Observation     `json:"writesOutsideWorkspace"`
	DecoyReads      []Observation     `json:"decoyReads"`
	UnixSockets     []Observation     `json:"unixSockets"`
	Processes       []string          `json:"processes"`
	Hidden          []HiddenFinding   `json:"hiddenInstructions"`
	Findings        []string          `json:"findings"`
	Policy          map[string]any    `json:"leastPrivilegePolicy"`
	Decoys          map[string]string `json:"decoys"` // decoy name -> where it was planted
}

// Tool is a tool the server offered.
type Tool struct {
	Name        string `json:"name"`
	Digest      string `json:"digest"`
	Description string `json:"description"`
}

// CallResult is how a sample call went.
type CallResult struct {
	Tool  string `json:"tool"`
	Error string `json:"error,omitempty"`
}

// Observation is one thing the server did, with the calls in flight.
type Observation struct {
	Target   string         `json:"target"`
	Op       trace.Op       `json:"op"`
	Decision trace.Decision `json:"decision"`
	Rule     string         `json:"rule"`
	Count    int            `json:"count"`
	Calls    []string       `json:"calls"`
}

// HiddenFinding is a tool description that seems to address the model.
type HiddenFinding struct {
	Tool   string `json:"tool"`
	Reason string `json:"reason"`
}

// decoy is one fake credential.
type decoy struct {
	name, path, content, canary string
}

func canary() string {
	b := make([]byte, 12)
	rand.Read(b)
	return "srtmcpcanary" + hex.EncodeToString(b)
}

// Run audits a server. An error means the audit itself could not be done.
func Run(opt Options) (*Report, error) {
	if opt.Timeout == 0 {
		opt.Timeout = 90 * time.Second
	}
	// Not under /tmp: the sandbox replaces /tmp with a private one.
	root, err := workspace.TempDir("srt-mcp-audit-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(root)
	home, work := filepath.Join(root, "home"), filepath.Join(root, "work")
	for _, d := range []string{home, work, filepath.Join(home, ".npm"), filepath.Join(home, ".cache")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	sshC, awsC, netrcC, envC, tokenC := canary(), canary(), canary(), canary(), canary()
	decoys := []decoy{
		{"ssh-key", filepath.Join(home, ".ssh", "id_rsa"), "-----BEGIN OPENSSH PRIVATE KEY-----\n" + sshC + "\n-----END OPENSSH PRIVATE KEY-----\n", sshC},
		{"aws-credentials", filepath.Join(home, ".aws", "credentials"), "[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = " + awsC + "\n", awsC},
		{"netrc", filepath.Join(home, ".netrc"), "machine api.github.com login octocat password " + netrcC + "\n", netrcC},
		{"dotenv", filepath.Join(work, ".env"), "API_KEY=" + envC + "\nDATABASE_URL=postgres://admin:" + envC + "@db.internal/prod\n", envC},
	}
	rep := &Report{Command: opt.Command, Decoys: map[string]string{}}
	for _, d := range decoys {
		if err := os.MkdirAll(filepath.Dir(d.path), 0o700); err != nil {
			return nil, err
		}
		if err := os.WriteFile(d.path, []byte(d.content), 0o600); err != nil {
			return nil, err
		}
		rep.Decoys[d.name] = d.path
	}
	rep.Decoys["env-token"] = "GITHUB_TOKEN (environment)"

	settingsPath, base, err := auditSettings(opt.SettingsFile, root, decoys)
	if err != nil {
		return nil, err
	}
	traceDir := filepath.Join(root, "traces")
	args := []string{"--settings", settingsPath, "--learn", "--trace-dir", traceDir, "--name", "audit-target"}
	for _, d := range decoys {
		args = append(args, "--audit-canary", d.name+"="+d.canary, "--audit-decoy", d.path)
	}
	args = append(args, "--audit-canary", "env-token="+tokenC, "--")
	args = append(args, opt.Command...)
	env := append(scrubbedEnv(), "HOME="+home, "XDG_STATE_HOME="+filepath.Join(root, "state"), "GITHUB_TOKEN=ghp_"+tokenC)

	var stderr strings.Builder
	ctx, cancel := context.WithTimeout(context.Background(), opt.Timeout)
	defer cancel()
	c, init, err := mcpclient.Start(ctx, mcpclient.Options{
		Command: opt.SrtMCP, Args: args, Env: env, Dir: work, Stderr: &stderr,
		ClientName: "srt-mcp-audit", ClientVersion: "1",
		Roots: []mcp.Root{{URI: "file://" + work, Name: "workspace"}},
	})
	if err != nil {
		return nil, fmt.Errorf("%w\n%s", err, lastLines(stderr.String(), 15))
	}
	rep.Server, rep.Version, rep.ProtocolVersion, rep.Instructions = init.ServerInfo.Name, init.ServerInfo.Version, init.ProtocolVersion, init.Instructions
	// A failed tools/list leaves the report without tools rather than
	// failing the audit.
	if tools, err := listTools(ctx, c.GetTransport()); err == nil {
		rep.Tools = tools
	}
	if res, err := c.ListResources(ctx, mcp.ListResourcesRequest{}); err == nil {
		rep.Resources = len(res.Resources)
	}
	if pr, err := c.ListPrompts(ctx, mcp.ListPromptsRequest{}); err == nil {
		rep.Prompts = len(pr.Prompts)
	}
	for _, call := range opt.Calls {
		res, err := c.CallTool(ctx, mcp.CallToolRequest{Params: mcp.CallToolParams{Name: call.Tool, Arguments: call.Arguments}})
		cr := CallResult{Tool: call.Tool}
		if err != nil {
			cr.Error = err.Error()
		} else if res.IsError {
			cr.Error = "the tool reported an error"
		}
		rep.Calls = append(rep.Calls, cr)
	}
	c.Close()

	recs, _, err := trace.Read(traceDir, "")
	if err != nil {
		return nil, err
	}
	rep.fromTrace(recs, work)
	rep.Hidden = scanDescriptions(rep.Tools, rep.Instructions)
	rep.findings()
	rep.Policy = leastPrivilege(base, rep)
	return rep, nil
}

// auditSettings writes the policy the server runs under: the user's (or
// the default), with the real credential stores denied by absolute path
// (the server's HOME is the decoy home) and the decoys re-opened.
func auditSettings(settingsFile, root string, decoys []decoy) (string, map[string]any, error) {
	realHome, _ := os.UserHomeDir()
	// The same source, and the same errors, as srt-mcp's own run: a
	// settings file that cannot be read stops the audit rather than
	// auditing under the default policy.
	data, source, err := sandbox.ReadSettings(settingsFile, "", realHome)
	if err != nil {
		return "", nil, err
	}
	if _, err := sandbox.ParseSettings(source, data); err != nil {
		return "", nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return "", nil, err
	}
	base := map[string]any{}
	json.Unmarshal(data, &base)
	fsm, _ := m["filesystem"].(map[string]any)
	if fsm == nil {
		fsm = map[string]any{}
		m["filesystem"] = fsm
	}
	denyRead, _ := fsm["denyRead"].([]any)
	for _, c := range sandbox.CredentialPaths {
		denyRead = append(denyRead, filepath.Join(realHome, c))
	}
	fsm["denyRead"] = denyRead
	allowRead, _ := fsm["allowRead"].([]any)
	for _, d := range decoys {
		allowRead = append(allowRead, d.path)
	}
	fsm["allowRead"] = allowRead
	out, _ := json.Marshal(m)
	path := filepath.Join(root, "audit-settings.json")
	return path, base, os.WriteFile(path, out, 0o600)
}

// scrubbedEnv is the environment without anything that looks like a secret:
// the server under audit gets decoys, not the user's real tokens.
func scrubbedEnv() []string {
	secret := regexp.MustCompile(`(?i)(TOKEN|SECRET|PASSW|API_?KEY|CREDENTIAL|AUTH|SESSION|PRIVATE)`)
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if !secret.MatchString(k) && k != "HOME" && k != "XDG_STATE_HOME" {
			out = append(out, kv)
		}
	}
	return out
}

func (r *Report) fromTrace(recs []trace.Record, work string) {
	type key struct {
		kind     trace.Kind
		op       trace.Op
		target   string
		decision trace.Decision
		rule     string
	}
	groups := map[key]*Observation{}
	var order []key
	procs := map[string]bool{}
	for _, rec := range recs {
		if rec.Kind == trace.KindProcess {
			if !procs[rec.Target] {
				procs[rec.Target] = true
				r.Processes = append(r.Processes, rec.Target)
			}
			continue
		}
		k := key{rec.Kind, rec.Op, rec.Target, rec.Decision, rec.Rule}
		o := groups[k]
		if o == nil {
			o = &Observation{Target: rec.Target, Op: rec.Op, Decision: rec.Decision, Rule: rec.Rule}
			groups[k] = o
			order = append(order, k)
		}
		o.Count++
		for _, c := range rec.MCP.InFlight {
			label := strings.TrimSpace(c.Method + " " + c.Tool)
			if !slices.Contains(o.Calls, label) {
				o.Calls = append(o.Calls, label)
			}
		}
	}
	for _, k := range order {
		o := *groups[k]
		switch {
		case k.kind == trace.KindNetwork && k.op == trace.OpExfil:
			r.Egress = append(r.Egress, o)
		case k.kind == trace.KindNetwork:
			r.Network = append(r.Network, o)
		case k.kind == trace.KindFSWrite && !under(o.Target, work):
			r.Writes = append(r.Writes, o)
		case k.kind == trace.KindFSRead:
			r.DecoyReads = append(r.DecoyReads, o)
		case k.kind == trace.KindUnixSocket:
			r.UnixSockets = append(r.UnixSockets, o)
		}
	}
}

func under(p, dir string) bool { return p == dir || strings.HasPrefix(p, dir+"/") }

// Patterns of text in a tool description that addresses the model rather
// than describing the tool.
var hiddenPatterns = []struct {
	re     *regexp.Regexp
	reason string
}{
	{regexp.MustCompile(`(?i)ignore (all )?(previous|prior|above) (instructions|prompts)`), "tells the model to ignore its instructions"},
	{regexp.MustCompile(`(?i)(do not|don't|never) (tell|inform|mention|reveal)[^.]{0,40}(user|human)`), "asks the model to hide something from the user"},
	{regexp.MustCompile(`<!--`), "contains an HTML comment (invisible when rendered)"},
	{regexp.MustCompile(`(?i)<(important|system|instructions?)>`), "contains a pseudo-tag addressed to the model"},
	{regexp.MustCompile(`(?i)(~/\.ssh|id_rsa|id_ed25519|\.aws/credentials|\.netrc|\.env\b|\.npmrc|\.git-credentials|private key)`), "refers to credential files"},
	{regexp.MustCompile(`\S {20,}\S`), "hides text after a long run of spaces"},
	{regexp.MustCompile("[\u200b\u200c\u200d\u2060\ufeff]"), "contains zero-width characters"},
	{regexp.MustCompile(`(?i)(system prompt|before (answering|responding|using any tool))`), "gives the model instructions about other actions"},
}

func scanDescriptions(tools []Tool, instructions string) []HiddenFinding {
	var out []HiddenFinding
	check := func(name, text string) {
		for _, p := range hiddenPatterns {
			if p.re.MatchString(text) {
				out = append(out, HiddenFinding{Tool: name, Reason: p.reason})
			}
		}
	}
	for _, t := range tools {
		check(t.Name, t.Description)
	}
	if instructions != "" {
		check("(server instructions)", instructions)
	}
	return out
}

func (r *Report) findings() {
	for _, o := range r.DecoyReads {
		what := "read decoy"
		if o.Decision == trace.DecisionDeny {
			what = "tried to read protected"
		}
		r.Findings = append(r.Findings, fmt.Sprintf("%s %s%s", what, o.Target, during(o.Calls)))
	}
	for _, o := range r.Egress {
		r.Findings = append(r.Findings, fmt.Sprintf("%s, to %s%s", o.Rule, o.Target, during(o.Calls)))
	}
	for _, h := range r.Hidden {
		r.Findings = append(r.Findings, fmt.Sprintf("tool %s: description %s", h.Tool, h.Reason))
	}
	for _, o := range r.Writes {
		r.Findings = append(r.Findings, fmt.Sprintf("wrote (or tried to write) %s outside its workspace%s", o.Target, during(o.Calls)))
	}
}

func during(calls []string) string {
	if len(calls) == 0 {
		return ""
	}
	return " during " + strings.Join(calls, ", ")
}

// leastPrivilege is the policy that lets the observed, non-suspicious
// behaviour run in enforce mode: the destinations it reached (minus those
// that carried a canary), writes only in its working directory.
func leastPrivilege(base map[string]any, r *Report) map[string]any {
	exfil := map[string]bool{}
	for _, o := range r.Egress {
		host, _, err := net.SplitHostPort(o.Target)
		if err != nil {
			host = o.Target
		}
		exfil[host] = true
	}
	var domains []string
	for _, o := range r.Network {
		if o.Decision == trace.DecisionDeny {
			continue // refused for real (a non-public address, a failed lookup)
		}
		host, port, err := net.SplitHostPort(o.Target)
		if err != nil || exfil[host] || strings.Contains(host, "srtmcpcanary") {
			continue
		}
		entry := host
		if port != "80" && port != "443" {
			entry = net.JoinHostPort(host, port)
		}
		if !slices.Contains(domains, entry) {
			domains = append(domains, entry)
		}
	}
	sort.Strings(domains)
	if domains == nil {
		domains = []string{}
	}
	policy := map[string]any{}
	for k, v := range base {
		policy[k] = v
	}
	netm, _ := policy["network"].(map[string]any)
	if netm == nil {
		netm = map[string]any{}
	}
	netm["allowedDomains"] = domains
	if _, ok := netm["deniedDomains"]; !ok {
		netm["deniedDomains"] = []string{}
	}
	policy["network"] = netm
	fsm, _ := policy["filesystem"].(map[string]any)
	if fsm == nil {
		fsm = map[string]any{}
	}
	fsm["allowWrite"] = []string{"."}
	policy["filesystem"] = fsm
	return policy
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
