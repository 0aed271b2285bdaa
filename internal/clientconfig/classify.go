package clientconfig

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/srt-mcp/srt-mcp/sandbox"
)

// classify sets s.Status and s.Detail. home is the user's home directory,
// for ~/.srt-settings.json and for judging weakening write access. It does
// not check that srt-mcp can be found (see classifyIn).
func classify(s *Server, home string) { classifyIn(s, checkEnv{home: home}) }

// checkEnv is what classifying an entry may consult besides the entry.
type checkEnv struct {
	home string
	// findSrtMCP returns why the client cannot start srt-mcp named as
	// command (nil: it can). nil skips the check.
	findSrtMCP func(command, client string) error
}

// classifyIn is classify with env.
func classifyIn(s *Server, env checkEnv) {
	home := env.home
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
		if env.findSrtMCP != nil {
			if err := env.findSrtMCP(s.Command, s.Client); err != nil {
				s.Status, s.Detail = Broken, err.Error()
				return
			}
		}
		s.classifyWrapped(args, home, true)
	case "srt":
		s.classifyWrapped(args, home, false)
	default:
		if isContainerRun(s.Command, s.Args) {
			s.Status, s.Detail = Container, containerAdvice
			return
		}
		s.Status, s.Detail = Unsandboxed, commandLine(s.Command, s.Args)
	}
}

// containerAdvice says what to check in a container entry instead.
const containerAdvice = "runs in a container, left as it is (inside srt-mcp the daemon's socket is unreachable); " +
	"check its flags: no --privileged, no -v of your home or the docker socket, --network none unless it needs the network"

// isContainerRun reports whether command args starts a container:
// docker, podman or nerdctl with "run" as the first word after its own
// flags.
func isContainerRun(command string, args []string) bool {
	switch filepath.Base(command) {
	case "docker", "podman", "nerdctl":
	default:
		return false
	}
	// The client's own flags come first: skip them and the values of
	// those that take one (docker --context X run …).
	bools := map[string]bool{"-D": true, "--debug": true, "--tls": true, "--tlsverify": true, "--remote": true}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") {
			return a == "run"
		}
		if !strings.Contains(a, "=") && !bools[a] {
			i++
		}
	}
	return false
}

// classifyWrapped checks an entry that runs through srt-mcp (or srt): its
// settings must exist and parse, and must not weaken the sandbox.
func (s *Server) classifyWrapped(args []string, home string, ours bool) {
	var settingsFile, profile, commandString string
	var notes []string
	i := 0
	for ; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			i++
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			break
		}
		name, value, hasValue := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-"), "=")
		takesValue, known := RunFlags[name]
		if ours && !known {
			// srt-mcp exits 2 on it: the server never starts.
			s.Status, s.Detail = Broken, fmt.Sprintf("srt-mcp has no flag %s (it exits with a usage error; see srt-mcp --help)", a)
			return
		}
		if takesValue && !hasValue {
			if i+1 >= len(args) {
				s.Status, s.Detail = Broken, fmt.Sprintf("%s needs a value", a)
				return
			}
			i++
			value = args[i]
		}
		switch name {
		case "settings", "s":
			settingsFile = value
		case "profile":
			profile = value
		case "c":
			commandString = value
		case "learn":
			if value == "" || value == "true" {
				notes = append(notes, "--learn lets network destinations outside the policy through")
			}
		case "version", "V", "help", "h":
			if ours && (value == "" || value == "true") {
				s.Status, s.Detail = Broken, fmt.Sprintf("%s makes srt-mcp print and exit: the server never starts", a)
				return
			}
		}
	}
	if i >= len(args) && commandString == "" {
		s.Status, s.Detail = Broken, "no server command after the sandbox's own arguments"
		return
	}
	if i < len(args) && isContainerRun(args[i], args[i+1:]) {
		s.Status, s.Detail = Broken, "a container cannot start inside the sandbox (the daemon's socket is unreachable): run it without srt-mcp and check its docker run flags"
		return
	}
	if strings.HasPrefix(settingsFile, "~") {
		// The client starts srt-mcp without a shell: nothing expands ~,
		// and srt-mcp would look for a directory named "~" and exit 2.
		s.Status, s.Detail = Broken, fmt.Sprintf("--settings %s: MCP clients do not expand ~; write the absolute path (%s)", settingsFile, filepath.Join(home, strings.TrimPrefix(strings.TrimPrefix(settingsFile, "~"), "/")))
		return
	}
	if settingsFile != "" && !filepath.IsAbs(settingsFile) {
		base := s.Cwd
		if base == "" {
			base = filepath.Dir(s.File)
		}
		settingsFile = filepath.Join(base, settingsFile)
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
	if !ours && settingsFile == "" && strings.HasPrefix(source, "built-in profile") {
		// Without a settings file srt applies its own defaults, not
		// srt-mcp's default profile: do not describe it as the latter.
		source = "srt's own defaults (no ~/.srt-settings.json)"
	}
	s.Status, s.Detail = Sandboxed, "srt: "+source
	if ours {
		s.Detail = source
	}
}

// RunFlags are the flags srt-mcp takes when it runs a server, each with
// whether it takes a value (cmd/srt-mcp's TestVerifyKnowsRunFlags keeps
// this in step with the flags it defines). An entry with any other flag is
// broken: srt-mcp refuses to start.
var RunFlags = map[string]bool{
	"settings": true, "s": true, "profile": true, "grace": true, "name": true,
	"trace-dir": true, "c": true, "audit-canary": true, "audit-decoy": true,
	"debug": false, "d": false, "learn": false, "observe": false,
	"version": false, "V": false, "help": false, "h": false,
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

// MinimalPATH is the PATH GUI clients (Claude Desktop) start servers
// with: not the user's shell PATH, so not ~/go/bin or ~/.local/bin.
const MinimalPATH = "/usr/local/bin:/usr/bin:/bin"

// guiClients start servers with MinimalPATH rather than the user's PATH.
var guiClients = map[string]bool{"Claude Desktop": true}

// SrtMCPCommand is the command --fix writes: "srt-mcp" when it is on
// MinimalPATH, so every client finds it; else this executable's absolute
// path (unless that is a temporary build, which would vanish: then
// "srt-mcp", and verify rates the entry by whether the client finds it).
func SrtMCPCommand() string {
	if lookIn("srt-mcp", MinimalPATH) == nil {
		return "srt-mcp"
	}
	if self, err := os.Executable(); err == nil && !strings.HasPrefix(self, os.TempDir()) {
		if abs, err := filepath.EvalSymlinks(self); err == nil {
			return abs
		}
		return self
	}
	return "srt-mcp"
}

// srtMCPFinder returns the check classifyIn uses: whether the client can
// start srt-mcp as command, looking it up in MinimalPATH for GUI clients
// and in path (the user's PATH) for the others.
func srtMCPFinder(path string) func(command, client string) error {
	return func(command, client string) error {
		if strings.ContainsRune(command, filepath.Separator) {
			if !filepath.IsAbs(command) {
				return nil // relative to the client's directory: not ours to guess
			}
			if err := executable(command); err != nil {
				return fmt.Errorf("%s: %v", command, err)
			}
			return nil
		}
		search := path
		if guiClients[client] {
			search = MinimalPATH
		}
		if lookIn(command, search) == nil {
			return nil
		}
		fix := ""
		if self := SrtMCPCommand(); filepath.IsAbs(self) {
			fix = " (srt-mcp verify --fix writes " + self + ")"
		}
		if guiClients[client] {
			return fmt.Errorf("%s is not on the PATH %s starts servers with (%s); write its absolute path%s", command, client, MinimalPATH, fix)
		}
		return fmt.Errorf("%s is not on PATH; write its absolute path%s", command, fix)
	}
}

// lookIn finds an executable file name in the directories of path.
func lookIn(name, path string) error {
	for _, dir := range filepath.SplitList(path) {
		if dir != "" && executable(filepath.Join(dir, name)) == nil {
			return nil
		}
	}
	return os.ErrNotExist
}

func executable(file string) error {
	st, err := os.Stat(file)
	switch {
	case err != nil:
		return errors.Unwrap(err) // "no such file or directory", without the path again
	case st.IsDir():
		return errors.New("is a directory")
	case st.Mode().Perm()&0o111 == 0:
		return errors.New("is not executable")
	}
	return nil
}
