package trace

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/srt-mcp/srt-mcp/internal/safetext"
)

// Summary counts a server's events.
type Summary struct {
	Server  string        `json:"server"`
	Runs    int           `json:"runs"`
	Events  int           `json:"events"`
	ByKind  map[Kind]int  `json:"byKind"`
	Targets []TargetCount `json:"targets"`
}

// TargetCount is how often one target was hit, and by which tools.
type TargetCount struct {
	Kind      Kind       `json:"kind"`
	Target    string     `json:"target"`
	Decisions []Decision `json:"decisions"`
	Rule      string     `json:"rule"`
	Count     int        `json:"count"`
	Tools     []string   `json:"tools"`
}

// Summarize groups records by server, then by kind and target.
func Summarize(records []Record) []Summary {
	byServer := map[string][]Record{}
	for _, r := range records {
		byServer[r.Server] = append(byServer[r.Server], r)
	}
	var out []Summary
	for server, rs := range byServer {
		s := Summary{Server: server, Events: len(rs), ByKind: map[Kind]int{}}
		runs := map[string]bool{}
		targets := map[string]*TargetCount{}
		tools := map[string]map[string]bool{}
		decisions := map[string]map[Decision]bool{}
		for _, r := range rs {
			runs[r.Run] = true
			s.ByKind[r.Kind]++
			key := string(r.Kind) + "\x00" + r.Target
			t := targets[key]
			if t == nil {
				t = &TargetCount{Kind: r.Kind, Target: r.Target, Rule: r.Rule}
				targets[key], tools[key], decisions[key] = t, map[string]bool{}, map[Decision]bool{}
			}
			t.Count++
			decisions[key][r.Decision] = true
			for _, c := range r.MCP.InFlight {
				tools[key][toolLabel(c)] = true
			}
		}
		s.Runs = len(runs)
		for key, t := range targets {
			t.Tools, t.Decisions = sortedKeys(tools[key]), sortedKeys(decisions[key])
			s.Targets = append(s.Targets, *t)
		}
		sort.Slice(s.Targets, func(i, j int) bool {
			a, b := s.Targets[i], s.Targets[j]
			if a.Count != b.Count {
				return a.Count > b.Count
			}
			return string(a.Kind)+a.Target < string(b.Kind)+b.Target
		})
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Server < out[j].Server })
	return out
}

func toolLabel(c CallRef) string {
	if c.Tool != "" {
		return c.Tool
	}
	return c.Method
}

func sortedKeys[K ~string, V any](m map[K]V) []K {
	return slices.Sorted(maps.Keys(m))
}

// Suggestion is one settings change that would allow a group of events.
type Suggestion struct {
	Setting string   `json:"setting"` // e.g. "network.allowedDomains"
	Value   any      `json:"value"`
	Count   int      `json:"count"`
	Targets []string `json:"targets"`
	Tools   []string `json:"tools"`
	// Warning says what the change gives away, when that is more than the
	// obvious (credentials, host sockets).
	Warning string `json:"warning,omitempty"`
}

// Suggest groups similar targets (subdomains of one domain, files in one
// directory) and proposes a settings change for each group seen at least
// minCount times. Mandatory denials are never proposed: no setting lifts
// them.
func Suggest(s Summary, minCount int) []Suggestion {
	type group struct {
		setting, warning string
		value            any
		count            int
		targets, tools   map[string]bool
	}
	groups := map[string]*group{}
	add := func(setting string, value any, warning string, t TargetCount) {
		key := fmt.Sprintf("%s=%v", setting, value)
		g := groups[key]
		if g == nil {
			g = &group{setting: setting, value: value, warning: warning, targets: map[string]bool{}, tools: map[string]bool{}}
			groups[key] = g
		}
		g.count += t.Count
		g.targets[t.Target] = true
		for _, tool := range t.Tools {
			g.tools[tool] = true
		}
	}
	// Subdomains of one parent seen more than once become one wildcard.
	parents := map[string]map[string]bool{}
	for _, t := range s.Targets {
		if t.Kind == KindNetwork {
			if host, _, ok := splitTarget(t.Target); ok {
				if p := parentDomain(host); p != "" {
					if parents[p] == nil {
						parents[p] = map[string]bool{}
					}
					parents[p][host] = true
				}
			}
		}
	}
	for _, t := range s.Targets {
		switch t.Kind {
		case KindNetwork:
			host, port, ok := splitTarget(t.Target)
			if !ok {
				continue
			}
			entry := host
			if p := parentDomain(host); p != "" && len(parents[p]) > 1 {
				entry = "*." + p
			}
			if port != 80 && port != 443 {
				entry = fmt.Sprintf("%s:%d", entry, port)
			}
			warning := ""
			if strings.Contains(t.Rule, "non-public address") {
				warning = "the destination is a local or private address"
			}
			add("network.allowedDomains", entry, warning, t)
		case KindFSWrite:
			if strings.HasPrefix(t.Rule, "mandatory deny") {
				continue
			}
			dir := filepath.Dir(t.Target)
			warning := ""
			if systemDirs[dir] {
				warning = "makes a system directory writable; allow the one file's directory you expect instead"
			}
			add("filesystem.allowWrite", dir, warning, t)
		case KindFSRead:
			add("filesystem.allowRead", t.Target, "re-opens a path denied for reading (credentials are denied on purpose)", t)
		case KindUnixSocket:
			add("network.allowAllUnixSockets", true, "every host unix socket becomes reachable (docker.sock, ssh-agent, …)", t)
		}
	}
	var out []Suggestion
	for _, g := range groups {
		if g.count < minCount {
			continue
		}
		out = append(out, Suggestion{Setting: g.setting, Value: g.value, Count: g.count, Targets: sortedKeys(g.targets), Tools: sortedKeys(g.tools), Warning: g.warning})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Setting != out[j].Setting {
			return out[i].Setting < out[j].Setting
		}
		return fmt.Sprint(out[i].Value) < fmt.Sprint(out[j].Value)
	})
	return out
}

// Patch renders suggestions as an srt settings fragment to merge by hand.
func Patch(sugs []Suggestion) map[string]any {
	patch := map[string]any{}
	for _, s := range sugs {
		section, key, _ := strings.Cut(s.Setting, ".")
		m, _ := patch[section].(map[string]any)
		if m == nil {
			m = map[string]any{}
			patch[section] = m
		}
		if b, isBool := s.Value.(bool); isBool {
			m[key] = b
			continue
		}
		list, _ := m[key].([]string)
		m[key] = append(list, fmt.Sprint(s.Value))
	}
	return patch
}

var systemDirs = map[string]bool{"/": true, "/etc": true, "/usr": true, "/bin": true, "/sbin": true, "/lib": true, "/lib64": true, "/var": true, "/boot": true, "/opt": true}

func splitTarget(t string) (string, int, bool) {
	host, p, err := net.SplitHostPort(t)
	if err != nil {
		return "", 0, false
	}
	port, err := strconv.Atoi(p)
	return host, port, err == nil
}

// parentDomain is host without its first label when that leaves at least
// two labels ("api.github.com" -> "github.com"); "" for IPs and short names.
func parentDomain(host string) string {
	if net.ParseIP(host) != nil {
		return ""
	}
	_, rest, ok := strings.Cut(host, ".")
	if !ok || !strings.Contains(rest, ".") {
		return ""
	}
	return rest
}

// WriteSummaries prints summaries for people. Every string in a trace
// came from the server (its name, the paths and hosts it tried, its tool
// names), so each is escaped with safetext before it is printed.
func WriteSummaries(w io.Writer, sums []Summary, sugs map[string][]Suggestion, minCount int) {
	esc := safetext.Line
	escAll := func(list []string) []string {
		out := make([]string, len(list))
		for i, s := range list {
			out[i] = esc(s)
		}
		return out
	}
	if len(sums) == 0 {
		fmt.Fprintln(w, "no violations recorded")
	}
	for _, s := range sums {
		fmt.Fprintf(w, "%s: %d events in %d runs\n", esc(s.Server), s.Events, s.Runs)
		for _, k := range sortedKeys(s.ByKind) {
			fmt.Fprintf(w, "  %-12s %d\n", esc(string(k)), s.ByKind[k])
		}
		fmt.Fprintln(w, "  targets:")
		for _, t := range s.Targets {
			tools := ""
			if len(t.Tools) > 0 {
				tools = "  by " + strings.Join(escAll(t.Tools), ", ")
			}
			fmt.Fprintf(w, "    %5d  %-11s %-40s %s%s\n", t.Count, esc(string(t.Kind)), esc(t.Target), strings.Join(escAll(decisionStrings(t.Decisions)), "/"), tools)
		}
		if sugs == nil {
			continue
		}
		list := sugs[s.Server]
		if len(list) == 0 {
			fmt.Fprintf(w, "  no suggestions (nothing seen %d times or more)\n", minCount)
			continue
		}
		fmt.Fprintln(w, "  suggested settings (review before use; srt-mcp never edits settings itself):")
		for _, g := range list {
			tools := strings.Join(escAll(g.Tools), ", ")
			if tools == "" {
				tools = "none in flight"
			}
			fmt.Fprintf(w, "    %s += %s   (%d events; targets: %s; tools: %s)\n", esc(g.Setting), esc(fmt.Sprint(g.Value)), g.Count, strings.Join(escAll(g.Targets), ", "), tools)
			if g.Warning != "" {
				fmt.Fprintf(w, "      warning: %s\n", esc(g.Warning))
			}
		}
		patch, _ := json.MarshalIndent(Patch(list), "  ", "  ")
		fmt.Fprintf(w, "  patch:\n  %s\n", safetext.JSON(patch))
	}
}

func decisionStrings(ds []Decision) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = string(d)
	}
	return out
}
