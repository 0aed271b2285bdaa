package sandbox

import (
	"slices"
	"strings"
	"time"
)

// Violation is an observed access the sandbox refuses (or, for a read of a
// hidden path, answers with an empty, unreadable stand-in).
type Violation struct {
	Kind   string // "fs-read", "fs-write", "unix-socket", "process"
	Op     string // the syscall
	Target string // absolute path
	Rule   string
	// Allowed: not a violation but an observation asked for (a decoy read,
	// a process started) that srt-mcp audit reports.
	Allowed bool
}

// Watch asks Judge for observations beyond violations (srt-mcp audit).
type Watch struct {
	Decoys []string // report any open of these paths
	Exec   bool     // report every program executed
}

// Judge compares an observed access with the mount plan the sandbox was
// built from. It predicts what the mounts do; the mounts decide.
func Judge(mounts []Mount, a Attempt, w Watch) []Violation {
	if a.Exec {
		if w.Exec && len(a.Paths) > 0 {
			return []Violation{{Kind: "process", Op: "exec", Target: a.Paths[0], Rule: "program started", Allowed: true}}
		}
		return nil
	}
	if a.Socket {
		return []Violation{{Kind: "unix-socket", Op: "socket", Target: "AF_UNIX", Rule: "unix sockets are blocked (network.allowAllUnixSockets is off)"}}
	}
	if a.Refused != "" {
		// Outside the writable roots the mounts refuse it anyway: name
		// that rule, the broader one.
		if m, private := deepest(mounts, a.RefusedPath); private || (m != nil && m.Access == ReadWrite) {
			return []Violation{{Kind: "fs-write", Op: a.Call, Target: a.RefusedPath, Rule: a.Refused}}
		}
		a.Paths = []string{a.RefusedPath}
	}
	var out []Violation
	for _, raw := range a.Paths {
		if under(raw, "/proc") || under(raw, "/dev") {
			continue
		}
		path := raw
		if !under(raw, "/tmp") {
			path = realPath(raw) // the rule applies to the real object
		}
		if !a.Write && slices.Contains(w.Decoys, path) {
			out = append(out, Violation{Kind: "fs-read", Op: a.Call, Target: path, Rule: "decoy credential read", Allowed: true})
			continue
		}
		m, private := deepest(mounts, path)
		v := Violation{Op: a.Call, Target: path, Kind: "fs-read"}
		if a.Write {
			v.Kind = "fs-write"
		}
		switch {
		case m == nil && private:
			continue // the sandbox's own /tmp
		case m == nil:
			if !a.Write {
				continue
			}
			v.Rule = "not in filesystem.allowWrite"
		case m.Access == Hidden:
			v.Rule = m.Rule + ": " + m.Path
		case m.Access == ReadOnly && a.Write:
			v.Rule = m.Rule + ": " + m.Path
		default:
			continue
		}
		out = append(out, v)
	}
	return out
}

// deepest returns the innermost mount covering path, and whether path lies
// in the private /tmp (when no mount covers it).
func deepest(mounts []Mount, path string) (*Mount, bool) {
	var best *Mount
	for i := range mounts {
		if under(path, mounts[i].Path) && (best == nil || len(mounts[i].Path) > len(best.Path)) {
			best = &mounts[i]
		}
	}
	if best == nil && under(path, "/tmp") {
		return nil, true
	}
	return best, false
}

// Matches reports whether an ignoreViolations entry silences target for a
// server started as command: srt's format maps a command pattern ("*" for
// every command) to path prefixes.
func IgnoreMatches(ignore map[string][]string, command, target string) bool {
	for pattern, paths := range ignore {
		if pattern != "*" && !strings.Contains(command, pattern) {
			continue
		}
		for _, p := range paths {
			if target == p || strings.HasPrefix(target, strings.TrimSuffix(p, "/")+"/") || strings.HasPrefix(target, p+":") {
				return true
			}
		}
	}
	return false
}

// Attempt is what an observed syscall tried to do to a path.
type Attempt struct {
	Time   time.Time // when the syscall was made
	Pid    int
	Call   string   // syscall name
	Paths  []string // absolute, as the process named them (symlinks not resolved)
	Write  bool     // creates, modifies or removes
	Socket bool     // socket(AF_UNIX)
	Exec   bool     // execve: Paths[0] is the program
	// Refused is the protection rule the broker refused the call for
	// (a protected path); "" when the call was performed or let go on.
	Refused     string
	RefusedPath string
}
