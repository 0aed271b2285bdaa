package clientconfig

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/srt-mcp/srt-mcp/sandbox"
)

// classify sets s.Status and s.Detail. home is the user's home directory,
// for ~/.srt-settings.json and for judging weakening write access.
func classify(s *Server, home string) {
	switch {
	case s.Command == "" && s.URL != "":
		s.Status, s.Detail = Remote, s.URL
		return
	case s.Command == "":
		s.Status, s.Detail = Broken, "no command and no URL"
		return
	}
	args := s.Args
	base := filepath.Base(s.Command)
	if base == "npx" || base == "bunx" {
		// srt run through npx: npx [-y] @anthropic-ai/sandbox-runtime ...
		for i, a := range args {
			if strings.HasPrefix(a, "@anthropic-ai/sandbox-runtime") {
				base, args = "srt", args[i+1:]
				break
			}
			if !strings.HasPrefix(a, "-") {
				break
			}
		}
	}
	switch base {
	case "srt-mcp":
		s.classifyWrapped(args, home, true)
	case "srt":
		s.classifyWrapped(args, home, false)
	default:
		s.Status, s.Detail = Unsandboxed, commandLine(s.Command, s.Args)
	}
}

// classifyWrapped checks an entry that runs through srt-mcp (or srt): its
// settings must exist and parse, and must not weaken the sandbox.
func (s *Server) classifyWrapped(args []string, home string, ours bool) {
	var settingsFile, profile string
	var notes []string
	i := 0
	for ; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			i++
			break
		}
		if !strings.HasPrefix(a, "-") {
			break
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		takesValue := name == "settings" || name == "profile" || name == "grace" || name == "name" || name == "trace-dir" || name == "s"
		if takesValue && !hasValue && i+1 < len(args) {
			i++
			value = args[i]
		}
		switch name {
		case "settings", "s":
			settingsFile = value
		case "profile":
			profile = value
		case "learn":
			if value == "" || value == "true" {
				notes = append(notes, "--learn lets network destinations outside the policy through")
			}
		}
	}
	if i >= len(args) {
		s.Status, s.Detail = Broken, "no server command after the sandbox's own arguments"
		return
	}
	if settingsFile != "" && !filepath.IsAbs(settingsFile) && !strings.HasPrefix(settingsFile, "~") {
		base := s.Cwd
		if base == "" {
			base = filepath.Dir(s.File)
		}
		settingsFile = filepath.Join(base, settingsFile)
	}
	if strings.HasPrefix(settingsFile, "~/") {
		settingsFile = filepath.Join(home, settingsFile[2:])
	}
	if !ours && profile != "" {
		s.Status, s.Detail = Broken, "srt has no --profile"
		return
	}
	settings, source, err := sandbox.LoadSettings(settingsFile, profile, home)
	if err != nil {
		s.Status, s.Detail = Broken, err.Error()
		return
	}
	notes = append(notes, weaknesses(settings, home)...)
	if len(notes) > 0 {
		s.Status, s.Detail = Weak, strings.Join(notes, "; ")
		return
	}
	s.Status, s.Detail = Sandboxed, source
}

// weaknesses lists the options that make a sandbox much weaker than it
// looks.
func weaknesses(st *sandbox.Settings, home string) []string {
	var out []string
	if st.EnableWeakerNestedSandbox {
		out = append(out, "enableWeakerNestedSandbox shows host processes")
	}
	if st.Network.AllowAllUnixSockets {
		out = append(out, "allowAllUnixSockets makes host sockets (docker.sock, ssh-agent) reachable")
	}
	if st.SrtMCP.SharedLauncherCaches {
		out = append(out, "srtMcp.sharedLauncherCaches lets the server plant code in launcher caches (~/.npm) that the host and other servers run")
	}
	for _, d := range st.Network.AllowedDomains {
		if d == "*" || strings.HasPrefix(d, "*:") {
			out = append(out, "allowedDomains allows every host")
		}
	}
	for _, w := range st.Filesystem.AllowWrite {
		clean := strings.TrimSuffix(w, "/")
		if clean == "" || clean == "~" || clean == home {
			out = append(out, fmt.Sprintf("allowWrite %q makes the whole home directory or disk writable", w))
		}
	}
	return out
}

func commandLine(cmd string, args []string) string {
	parts := append([]string{cmd}, args...)
	for i, p := range parts {
		if p == "" || strings.ContainsAny(p, " \t\"'") {
			parts[i] = fmt.Sprintf("%q", p)
		}
	}
	return strings.Join(parts, " ")
}

// fixable reports whether --fix rewrites an entry: local commands
// run directly. Broken and weak entries already name a sandbox; they need a
// person to look at them.
func fixable(s *Server) bool { return s.Status == Unsandboxed }

// wrappedCommand returns the command and arguments that run s through srt-mcp.
func wrappedCommand(s *Server, srtMCP, profile string) (string, []string) {
	var args []string
	if profile != "" {
		args = append(args, "--profile", profile)
	}
	args = append(args, "--", s.Command)
	return srtMCP, append(args, s.Args...)
}

// SrtMCPCommand is the command --fix writes: "srt-mcp" when it is on PATH,
// else this executable's absolute path (unless that is a temporary build,
// which would vanish).
func SrtMCPCommand(lookPath func(string) (string, error)) string {
	if _, err := lookPath("srt-mcp"); err == nil {
		return "srt-mcp"
	}
	if self, err := os.Executable(); err == nil && !strings.HasPrefix(self, os.TempDir()) {
		return self
	}
	return "srt-mcp"
}
