// Package sandbox holds srt-mcp's policy model (the srt settings format,
// parsed strictly and normalised into absolute, symlink-resolved paths) and
// the platform backends that enforce it.
package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
)

// Settings is the srt settings format (~/.srt-settings.json) as written by
// the user, before paths are resolved. Every key srt documents is known
// here; keys srt-mcp cannot honour are rejected by name rather than ignored,
// because a dropped key may be a dropped protection.
type Settings struct {
	Network    NetworkSettings
	Filesystem FilesystemSettings

	// IgnoreViolations maps a command pattern ("*" for all) to paths whose
	// violations are not reported.
	IgnoreViolations map[string][]string

	EnableWeakerNestedSandbox    bool
	EnableWeakerNetworkIsolation bool
	// MandatoryDenySearchDepth is nil when unset (the default applies).
	MandatoryDenySearchDepth *int
	AllowPty                 bool

	// MCP is srt-mcp's extension: policy at the level of MCP tools.
	MCP MCPSettings
	// SrtMCP is srt-mcp's own section ("srtMcp"): sandbox settings that
	// srt has no key for.
	SrtMCP SrtMCPSettings

	// set records which keys the file gave (dotted paths), so layering can
	// tell "false" from "not said".
	set map[string]bool
	// files are the settings files these settings were read from (absolute
	// paths, as named), set by LoadSettings: Resolve protects them, so a
	// server cannot rewrite the policy of its own next launch.
	files []string
}

// MCPSettings is the "mcp" object, srt-mcp's extension of the srt format.
type MCPSettings struct {
	// ToolsAllow and ToolsDeny are glob patterns (path.Match syntax) on tool
	// names. With an allow list, only matching tools are offered; deny wins.
	ToolsAllow []string
	ToolsDeny  []string
	// Pin (default true) records tool definitions on first use and blocks
	// calls to tools whose definition changes until the user accepts it.
	Pin *bool
}

// SrtMCPSettings is the "srtMcp" object, srt-mcp's own settings for the
// sandbox itself. Pointers are nil when unset, so a default applies.
type SrtMCPSettings struct {
	// AllowPtrace lets the server use ptrace, process_vm_readv/writev and
	// pidfd_getfd on processes inside its own sandbox (debuggers, profilers).
	// Refused by default.
	AllowPtrace bool
	Limits      LimitSettings
	// SharedLauncherCaches lets a writable launcher cache (~/.npm,
	// ~/.cache/uv, …) be the user's real one instead of a private copy per
	// server. Off by default: code planted there runs outside the sandbox.
	SharedLauncherCaches bool
}

// MinMemoryMB is the smallest memory limit srt-mcp accepts.
const MinMemoryMB = 256

// LimitSettings is "srtMcp.limits": resource ceilings for everything the
// server starts. 0 means no limit; nil means srt-mcp's default.
type LimitSettings struct {
	Processes *int // tasks (processes and threads) in the sandbox
	MemoryMB  *int // resident memory of the sandbox, MiB
	TmpMB     *int // size of the private /tmp, MiB
}

// NetworkSettings is the "network" object.
type NetworkSettings struct {
	AllowedDomains      []string
	DeniedDomains       []string
	DeniedDomainReasons map[string]string
	StrictAllowlist     bool
	AllowUnixSockets    []string
	AllowAllUnixSockets bool
	AllowLocalBinding   bool
	AllowMachLookup     []string
}

// FilesystemSettings is the "filesystem" object. A nil slice means the key
// was absent; an empty slice means it was given as [].
type FilesystemSettings struct {
	DenyRead       []string
	AllowRead      []string
	AllowWrite     []string
	DenyWrite      []string
	AllowGitConfig bool
}

// SettingsError is a settings problem tied to one key. The CLI maps it to
// exit code 2.
type SettingsError struct {
	Source string // file name, or "built-in profile"
	Key    string // dotted path, e.g. "filesystem.allowWrite"
	Msg    string
}

func (e *SettingsError) Error() string {
	if e.Key == "" {
		return fmt.Sprintf("%s: %s", e.Source, e.Msg)
	}
	return fmt.Sprintf("%s: %s: %s", e.Source, e.Key, e.Msg)
}

// unsupported lists srt keys that srt-mcp knows but will not honour, with the
// reason given to the user. Accepting them silently would change what the
// user believes is enforced.
var unsupported = map[string]string{
	"network.httpProxyPort":  "srt-mcp always runs its own filtering proxy; an external proxy port is not supported",
	"network.socksProxyPort": "srt-mcp always runs its own filtering proxy; an external proxy port is not supported",
	"network.mitmProxy":      "MITM proxy routing is not supported by srt-mcp",
	"network.parentProxy":    "an upstream proxy is not supported by srt-mcp yet",
	"network.tlsTerminate":   "TLS termination is not supported by srt-mcp",
	"network.filterRequest":  "request filter callbacks exist only in srt's library API",
	"filesystem.disabled":    "srt-mcp does not run servers without filesystem protection",
	"credentials":            "credential masking is not supported by srt-mcp; list credential files in filesystem.denyRead",
	"windows":                "srt-mcp has no Windows backend",
}

// ignoredKeys are srt keys that configure srt's helper binaries. srt-mcp
// needs no helper binaries, so they change nothing about enforcement and an
// existing srt config that sets them keeps working.
var ignoredKeys = map[string]bool{"ripgrep": true, "seccomp": true}

// ParseSettings reads srt settings strictly: unknown keys, keys srt-mcp cannot
// honour, wrong types and duplicate keys are errors naming the key.
func ParseSettings(source string, data []byte) (*Settings, error) {
	if err := checkDuplicateKeys(data); err != nil {
		return nil, &SettingsError{Source: source, Msg: err.Error()}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var root any
	if err := dec.Decode(&root); err != nil {
		return nil, &SettingsError{Source: source, Msg: "not valid JSON: " + jsonErrorAt(data, err)}
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, &SettingsError{Source: source, Msg: "not valid JSON: unexpected data after the top-level object"}
	}
	r := &reader{source: source}
	s := r.settings(root)
	if r.err != nil {
		return nil, r.err
	}
	return s, nil
}

type reader struct {
	source string
	err    error
}

func (r *reader) fail(key, format string, args ...any) {
	if r.err == nil {
		r.err = &SettingsError{Source: r.source, Key: key, Msg: fmt.Sprintf(format, args...)}
	}
}

// object checks that v is an object whose keys are all in known (or in the
// unsupported/ignored tables) and returns it.
func (r *reader) object(key string, v any, known ...string) map[string]any {
	m, ok := v.(map[string]any)
	if !ok {
		r.fail(key, "want an object, got %s", jsonType(v))
		return nil
	}
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		full := join(key, k)
		if why, bad := unsupported[full]; bad {
			r.fail(full, "not supported: %s", why)
			continue
		}
		if key == "" && ignoredKeys[k] {
			continue
		}
		if !contains(known, k) {
			if s := suggest(k, known); s != "" {
				r.fail(full, "unknown key (did you mean %q?)", s)
			} else {
				r.fail(full, "unknown key (known keys here: %s)", strings.Join(known, ", "))
			}
		}
	}
	return m
}

func (r *reader) strings(key string, v any) []string {
	arr, ok := v.([]any)
	if !ok {
		r.fail(key, "want an array of strings, got %s", jsonType(v))
		return nil
	}
	out := make([]string, 0, len(arr))
	for i, e := range arr {
		s, ok := e.(string)
		if !ok {
			r.fail(fmt.Sprintf("%s[%d]", key, i), "want a string, got %s", jsonType(e))
			return nil
		}
		if s == "" {
			r.fail(fmt.Sprintf("%s[%d]", key, i), "empty string")
			return nil
		}
		out = append(out, s)
	}
	return out
}

// globs reads a list of tool-name patterns and checks their syntax.
func (r *reader) globs(key string, v any) []string {
	list := r.strings(key, v)
	for i, g := range list {
		if _, err := path.Match(g, ""); err != nil {
			r.fail(fmt.Sprintf("%s[%d]", key, i), "bad pattern %q: %v", g, err)
		}
	}
	return list
}

func (r *reader) boolean(key string, v any) bool {
	b, ok := v.(bool)
	if !ok {
		r.fail(key, "want true or false, got %s", jsonType(v))
	}
	return b
}

func (r *reader) settings(root any) *Settings {
	s := &Settings{set: map[string]bool{}}
	m := r.object("", root, "network", "filesystem", "ignoreViolations",
		"enableWeakerNestedSandbox", "enableWeakerNetworkIsolation",
		"mandatoryDenySearchDepth", "allowPty", "mcp", "srtMcp")
	if m == nil {
		return s
	}
	for k, v := range m {
		s.set[k] = true
		if sub, ok := v.(map[string]any); ok {
			for k2 := range sub {
				s.set[k+"."+k2] = true
			}
		}
	}
	if v, ok := m["mcp"]; ok {
		mm := r.object("mcp", v, "tools", "pin")
		if t, ok := mm["tools"]; ok {
			tm := r.object("mcp.tools", t, "allow", "deny")
			if a, ok := tm["allow"]; ok {
				s.MCP.ToolsAllow = r.globs("mcp.tools.allow", a)
			}
			if d, ok := tm["deny"]; ok {
				s.MCP.ToolsDeny = r.globs("mcp.tools.deny", d)
			}
		}
		if p, ok := mm["pin"]; ok {
			b := r.boolean("mcp.pin", p)
			s.MCP.Pin = &b
		}
	}
	if v, ok := m["srtMcp"]; ok {
		sm := r.object("srtMcp", v, "allowPtrace", "limits", "sharedLauncherCaches")
		if b, ok := sm["allowPtrace"]; ok {
			s.SrtMCP.AllowPtrace = r.boolean("srtMcp.allowPtrace", b)
		}
		if b, ok := sm["sharedLauncherCaches"]; ok {
			s.SrtMCP.SharedLauncherCaches = r.boolean("srtMcp.sharedLauncherCaches", b)
		}
		if l, ok := sm["limits"]; ok {
			s.set["srtMcp.limits"] = true
			lm := r.object("srtMcp.limits", l, "processes", "memoryMB", "tmpMB")
			for k, dst := range map[string]**int{"processes": &s.SrtMCP.Limits.Processes, "memoryMB": &s.SrtMCP.Limits.MemoryMB, "tmpMB": &s.SrtMCP.Limits.TmpMB} {
				if v, ok := lm[k]; ok {
					*dst = r.count("srtMcp.limits."+k, v)
				}
			}
			// Without a cgroup the memory limit is RLIMIT_DATA, which binds
			// srt-mcp's own helper (PID 1) too: its threads' stacks alone
			// take tens of MiB, and below this it cannot start the server.
			if m := s.SrtMCP.Limits.MemoryMB; m != nil && *m > 0 && *m < MinMemoryMB {
				r.fail("srtMcp.limits.memoryMB", "want 0 (no limit) or at least %d, got %d: the sandbox's own init process needs that much", MinMemoryMB, *m)
			}
		}
	}
	if v, ok := m["network"]; ok {
		n := r.object("network", v, "allowedDomains", "deniedDomains", "deniedDomainReasons",
			"strictAllowlist", "allowUnixSockets", "allowAllUnixSockets", "allowLocalBinding",
			"allowMachLookup")
		for k, v := range n {
			key := "network." + k
			switch k {
			case "allowedDomains":
				s.Network.AllowedDomains = r.strings(key, v)
			case "deniedDomains":
				s.Network.DeniedDomains = r.strings(key, v)
			case "deniedDomainReasons":
				s.Network.DeniedDomainReasons = r.stringMap(key, v)
			case "strictAllowlist":
				s.Network.StrictAllowlist = r.boolean(key, v)
			case "allowUnixSockets":
				s.Network.AllowUnixSockets = r.strings(key, v)
			case "allowAllUnixSockets":
				s.Network.AllowAllUnixSockets = r.boolean(key, v)
			case "allowLocalBinding":
				s.Network.AllowLocalBinding = r.boolean(key, v)
			case "allowMachLookup":
				s.Network.AllowMachLookup = r.strings(key, v)
			}
		}
	}
	if v, ok := m["filesystem"]; ok {
		f := r.object("filesystem", v, "denyRead", "allowRead", "allowWrite", "denyWrite", "allowGitConfig")
		for k, v := range f {
			key := "filesystem." + k
			switch k {
			case "denyRead":
				s.Filesystem.DenyRead = r.strings(key, v)
			case "allowRead":
				s.Filesystem.AllowRead = r.strings(key, v)
			case "allowWrite":
				s.Filesystem.AllowWrite = r.strings(key, v)
			case "denyWrite":
				s.Filesystem.DenyWrite = r.strings(key, v)
			case "allowGitConfig":
				s.Filesystem.AllowGitConfig = r.boolean(key, v)
			}
		}
	}
	if v, ok := m["ignoreViolations"]; ok {
		obj, isObj := v.(map[string]any)
		if !isObj {
			r.fail("ignoreViolations", "want an object mapping command patterns to path lists, got %s", jsonType(v))
		}
		s.IgnoreViolations = map[string][]string{}
		for pattern, paths := range obj {
			s.IgnoreViolations[pattern] = r.strings("ignoreViolations."+pattern, paths)
		}
	}
	if v, ok := m["enableWeakerNestedSandbox"]; ok {
		s.EnableWeakerNestedSandbox = r.boolean("enableWeakerNestedSandbox", v)
	}
	if v, ok := m["enableWeakerNetworkIsolation"]; ok {
		s.EnableWeakerNetworkIsolation = r.boolean("enableWeakerNetworkIsolation", v)
	}
	if v, ok := m["allowPty"]; ok {
		s.AllowPty = r.boolean("allowPty", v)
	}
	if v, ok := m["mandatoryDenySearchDepth"]; ok {
		n, isNum := v.(json.Number)
		d, err := n.Int64()
		if !isNum || err != nil || d < 0 || d > 32 {
			r.fail("mandatoryDenySearchDepth", "want a whole number from 0 to 32, got %v", v)
		} else {
			depth := int(d)
			s.MandatoryDenySearchDepth = &depth
		}
	}
	return s
}

// count reads a whole number from 0 (no limit) to 1<<30.
func (r *reader) count(key string, v any) *int {
	n, isNum := v.(json.Number)
	d, err := n.Int64()
	if !isNum || err != nil || d < 0 || d > 1<<30 {
		r.fail(key, "want a whole number from 0 (no limit) to %d, got %v", 1<<30, v)
		return nil
	}
	i := int(d)
	return &i
}

func (r *reader) stringMap(key string, v any) map[string]string {
	obj, ok := v.(map[string]any)
	if !ok {
		r.fail(key, "want an object of strings, got %s", jsonType(v))
		return nil
	}
	out := make(map[string]string, len(obj))
	for k, e := range obj {
		s, ok := e.(string)
		if !ok {
			r.fail(key+"."+k, "want a string, got %s", jsonType(e))
			return nil
		}
		out[k] = s
	}
	return out
}

func join(prefix, k string) string {
	if prefix == "" {
		return k
	}
	return prefix + "." + k
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// suggest returns the known key closest to k when it is close enough to be a
// plausible typo (case-insensitive equal, or edit distance at most 2).
func suggest(k string, known []string) string {
	best, bestDist := "", 3
	for _, c := range known {
		if strings.EqualFold(c, k) {
			return c
		}
		if d := editDistance(strings.ToLower(k), strings.ToLower(c)); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// checkDuplicateKeys rejects objects that name a key twice. encoding/json
// keeps the last value silently, so {"denyRead":[...],"denyRead":[]} would
// otherwise drop a protection without a word.
func checkDuplicateKeys(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	type frame struct {
		obj  bool
		seen map[string]bool
		path string
		key  bool // next string token in an object is a key
	}
	var stack []*frame
	var lastKey string
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return nil // syntax errors are reported by the real decode
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if d, isDelim := tok.(json.Delim); isDelim && (d == '}' || d == ']') {
			stack = stack[:len(stack)-1]
			continue
		}
		if top != nil && top.obj && top.key {
			k, _ := tok.(string)
			if top.seen[k] {
				return fmt.Errorf("%s: key given twice", join(top.path, k))
			}
			top.seen[k] = true
			top.key = false
			lastKey = k
			continue
		}
		if top != nil && top.obj {
			top.key = true
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			path := ""
			if top != nil {
				path = top.path
				if top.obj {
					path = join(top.path, lastKey)
				}
			}
			stack = append(stack, &frame{obj: tok == json.Delim('{'), seen: map[string]bool{}, path: path, key: true})
		}
	}
}
