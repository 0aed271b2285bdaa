package sandbox

import (
	"regexp"
	"strings"
)

// A Seatbelt denial in `log stream --style compact` output looks like
//
//	2026-11-24 10:00:00.123 E  kernel[0:2f3a] (Sandbox) Sandbox: node(4711) deny(1) file-read-data /Users/me/.ssh/id_rsa srt-mcp-7532f2e51d42139c
//
// with the profile's message (the run's tag) at the end of the event
// message: the monitor's predicate (eventMessage ENDSWITH tag) selects this
// run's denials and nothing else.
var sandboxLine = regexp.MustCompile(`Sandbox: (.+?)\((\d+)\) deny\(\d+\) (\S+)(?: (.*))?$`)

// noisy denials every macOS program triggers and nobody can act on.
var noisy = []string{"mDNSResponder", "com.apple.diagnosticd", "com.apple.analyticsd"}

// ParseSeatbeltLog turns one log line into a violation of this run (the
// one tagged tag); ok is false for other lines.
func ParseSeatbeltLog(line, tag string) (v Violation, ok bool) {
	line = strings.TrimRight(line, "\r\n ")
	if tag == "" || !strings.HasSuffix(line, tag) {
		return v, false
	}
	line = strings.TrimRight(strings.TrimSuffix(line, tag), " ")
	m := sandboxLine.FindStringSubmatch(line)
	if m == nil {
		return v, false
	}
	for _, n := range noisy {
		if strings.Contains(line, n) {
			return v, false
		}
	}
	proc, op, target := m[1], m[3], strings.TrimSpace(m[4])
	v = Violation{Op: op, Target: target, Rule: "macOS sandbox (Seatbelt) denied " + proc + "(" + m[2] + ")"}
	switch {
	case strings.HasPrefix(op, "file-read"):
		v.Kind = "fs-read"
	case strings.HasPrefix(op, "file-write"):
		v.Kind = "fs-write"
	case strings.HasPrefix(op, "network") && strings.HasPrefix(target, "/"):
		v.Kind = "unix-socket"
	case strings.HasPrefix(op, "network"):
		v.Kind = "network"
	default:
		v.Kind = "sandbox"
	}
	return v, true
}
