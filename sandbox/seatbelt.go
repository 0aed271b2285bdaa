package sandbox

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
)

// SeatbeltOptions are the per-run facts a macOS profile needs besides the
// policy.
type SeatbeltOptions struct {
	Tag       string // per-run tag in every denial's message, to find them in the unified log
	HTTPPort  int    // the filtering proxies on 127.0.0.1
	SOCKSPort int
	TempDir   string // the server's private TMPDIR (writable)
}

// SeatbeltProfile renders the policy as an SBPL profile for sandbox-exec -p.
// In SBPL the last matching rule wins, so the profile allows broadly first
// and denies specifically after. Every deny carries the run's tag, so the
// violation monitor can pick this run's denials out of the unified log.
//
// Paths are used as the policy resolved them (symlinks followed, which on
// macOS turns /tmp into /private/tmp); darwinPath applies the same mapping
// for the fixed system links, so profiles generated elsewhere (tests) come
// out as on a Mac. Globs and the mandatory deny names become anchored
// regexes, so files created later are covered too.
func SeatbeltProfile(p *Policy, o SeatbeltOptions) string {
	tag := sbString(o.Tag)
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	w("(version 1)")
	w("(deny default (with message %s))", tag)
	w("")
	w("; Processes: the server and its children, nothing else")
	w("(allow process-exec)")
	w("(allow process-fork)")
	w("(allow process-info* (target same-sandbox))")
	w("(allow signal (target same-sandbox))")
	w("(allow mach-priv-task-port (target same-sandbox))")
	w("(allow user-preference-read)")
	w("")
	w("; Mach services a command-line program needs (no wildcard)")
	w("(allow mach-lookup")
	services := []string{
		"com.apple.audio.systemsoundserver", "com.apple.bsd.dirhelper", "com.apple.coreservices.launchservicesd",
		"com.apple.distributed_notifications@Uv3", "com.apple.FontObjectsServer", "com.apple.fonts", "com.apple.logd",
		"com.apple.lsd.mapdb", "com.apple.PowerManagement.control", "com.apple.SecurityServer", "com.apple.securityd.xpc",
		"com.apple.system.logger", "com.apple.system.notification_center", "com.apple.system.opendirectoryd.libinfo",
		"com.apple.system.opendirectoryd.membership",
	}
	if p.WeakerNetwork {
		// Go and others verify TLS certificates through trustd.
		services = append(services, "com.apple.trustd.agent")
	}
	for _, s := range services {
		w("  (global-name %s)", sbString(s))
	}
	for _, s := range p.Network.AllowMachLookup {
		if strings.HasSuffix(s, "*") {
			w("  (global-name-prefix %s)", sbString(strings.TrimSuffix(s, "*")))
		} else {
			w("  (global-name %s)", sbString(s))
		}
	}
	w(")")
	w("(allow ipc-posix-shm)")
	w("(allow ipc-posix-sem)")
	w("(allow iokit-get-properties)")
	w("(allow sysctl-read)")
	w("(allow system-socket (require-all (socket-domain AF_SYSTEM) (socket-protocol 2)))")
	w("(allow distributed-notification-post)")
	w("(allow file-ioctl (literal \"/dev/null\") (literal \"/dev/zero\") (literal \"/dev/random\") (literal \"/dev/urandom\") (literal \"/dev/dtracehelper\") (literal \"/dev/tty\"))")
	w("")

	w("; Network: only the filtering proxies on loopback")
	for _, port := range []int{o.HTTPPort, o.SOCKSPort} {
		if port > 0 {
			w("(allow network-outbound (remote ip \"localhost:%d\"))", port)
		}
	}
	if p.Network.AllowLocalBinding {
		// "*:*" rather than "localhost:*": dual-stack sockets bound to
		// 127.0.0.1 show up as ::ffff:127.0.0.1, which "localhost" misses;
		// a local endpoint filter cannot reach the internet.
		w("(allow network-bind (local ip \"*:*\"))")
		w("(allow network-inbound (local ip \"*:*\"))")
		w("(allow network-outbound (local ip \"*:*\"))")
	}
	switch {
	case p.Network.AllowAllUnixSockets:
		w("(allow system-socket (socket-domain AF_UNIX))")
		w("(allow network-bind (local unix-socket (path-regex #\"^/\")))")
		w("(allow network-outbound (remote unix-socket (path-regex #\"^/\")))")
	case len(p.Network.AllowUnixSockets) > 0:
		w("(allow system-socket (socket-domain AF_UNIX))")
		for _, s := range p.Network.AllowUnixSockets {
			path := sbString(darwinPath(expandHome(s, p.Home)))
			w("(allow network-bind (local unix-socket (subpath %s)))", path)
			w("(allow network-outbound (remote unix-socket (subpath %s)))", path)
		}
	}
	w("")

	w("; Reads: everything but the denied paths")
	w("(allow file-read*)")
	for _, d := range p.DenyRead {
		w("(deny file-read* %s (with message %s))", pathFilter(d), tag)
	}
	for _, a := range p.AllowRead {
		w("(allow file-read* %s)", pathFilter(a))
	}
	if len(p.DenyRead) > 0 {
		// realpath() must lstat every directory on the way down, even
		// inside a denied region; that reveals names, not contents.
		w("(allow file-read-metadata (vnode-type DIRECTORY))")
	}
	w("")

	w("; Writes: the allowed paths, the private temp dir, the usual devices")
	w("(allow file-write* (literal \"/dev/null\") (literal \"/dev/zero\") (literal \"/dev/tty\") (regex #\"^/dev/fd/\"))")
	if o.TempDir != "" {
		w("(allow file-write* (subpath %s))", sbString(darwinPath(o.TempDir)))
	}
	for _, a := range p.AllowWrite {
		w("(allow file-write* %s)", pathFilter(a))
	}
	for _, d := range p.DenyWrite {
		w("(deny file-write* %s (with message %s))", pathFilter(d), tag)
	}
	for _, pp := range p.Protected {
		w("(deny file-write* %s (with message %s))", pathFilter(pp.Path), tag)
	}
	for _, re := range mandatoryRegexes(p.AllowGitConfig) {
		w("(deny file-write* (regex %s) (with message %s))", sbString(re), tag)
	}
	// srt-mcp's own files, client configs, persistence points: Seatbelt
	// matches paths, so missing ones cannot be created either.
	for _, pp := range p.Protected {
		w("(deny file-write* %s (with message %s))", pathFilter(pp.Path), tag)
	}
	w("")

	w("; Renaming a protected path, or a directory above it, would move it")
	w("; out from under its rule: refuse that too")
	var protect []string
	protect = append(protect, p.DenyRead...)
	protect = append(protect, p.DenyWrite...)
	for _, pp := range p.Protected {
		protect = append(protect, pp.Path)
	}
	seen := map[string]bool{}
	for _, d := range protect {
		d = darwinPath(d)
		if hasGlobMeta(d) {
			continue // expanded by the policy already; the regex rules cover new files
		}
		w("(deny file-write-unlink (subpath %s) (with message %s))", sbString(d), tag)
		for dir := filepath.Dir(d); dir != "/" && dir != "." && !seen[dir]; dir = filepath.Dir(dir) {
			seen[dir] = true
			w("(deny file-write-unlink (literal %s) (with message %s))", sbString(dir), tag)
		}
	}
	for _, re := range mandatoryDirRegexes() {
		w("(deny file-write-unlink (regex %s) (with message %s))", sbString(re), tag)
	}

	if p.AllowPty {
		w("")
		w("; Pseudo-terminals (allowPty)")
		w("(allow pseudo-tty)")
		w("(allow file-ioctl (literal \"/dev/ptmx\") (regex #\"^/dev/ttys\"))")
		w("(allow file-read* file-write* (literal \"/dev/ptmx\") (regex #\"^/dev/ttys\"))")
	}
	return b.String()
}

// pathFilter is the SBPL filter for one policy path: a subpath, or an
// anchored regex for a glob. Generated regexes are written as ordinary
// strings (backslashes escaped), the form srt's profiles use.
func pathFilter(path string) string {
	path = darwinPath(path)
	if hasGlobMeta(path) {
		return "(regex " + sbString(GlobToRegex(path)) + ")"
	}
	return "(subpath " + sbString(path) + ")"
}

// darwinPath maps macOS's fixed system symlinks to their targets, as
// filepath.EvalSymlinks does on a Mac: Seatbelt matches real paths.
func darwinPath(p string) string {
	for _, link := range []string{"/tmp", "/var", "/etc"} {
		if p == link || strings.HasPrefix(p, link+"/") {
			return "/private" + p
		}
	}
	return p
}

func expandHome(p, home string) string {
	if p == "~" {
		return home
	}
	if strings.HasPrefix(p, "~/") {
		return filepath.Join(home, p[2:])
	}
	return p
}

// sbString quotes s as an SBPL string: only the quote and the backslash
// need escaping; everything else, UTF-8 included, stands for itself.
func sbString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// GlobToRegex turns an absolute glob into an anchored POSIX extended
// regex: "**/" is any number of directories, "**" anything, "*" anything
// but "/", "?" one character but "/", "[...]" a class; every regex
// metacharacter elsewhere is escaped.
func GlobToRegex(glob string) string {
	var b strings.Builder
	b.WriteByte('^')
	for i := 0; i < len(glob); i++ {
		c := glob[i]
		switch {
		case strings.HasPrefix(glob[i:], "**/"):
			b.WriteString("(.*/)?")
			i += 2
		case strings.HasPrefix(glob[i:], "**"):
			b.WriteString(".*")
			i++
		case c == '*':
			b.WriteString("[^/]*")
		case c == '?':
			b.WriteString("[^/]")
		case c == '[':
			end := strings.IndexByte(glob[i+1:], ']')
			if end < 0 {
				b.WriteString(`\[`)
				continue
			}
			class := glob[i+1 : i+1+end]
			if strings.HasPrefix(class, "!") {
				class = "^" + class[1:]
			}
			b.WriteString("[" + strings.ReplaceAll(class, `\`, `\\`) + "]")
			i += end + 1
		case strings.ContainsRune(`.+^$(){}|\`, rune(c)):
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('$')
	return b.String()
}

// mandatoryRegexes match the mandatory deny names anywhere, so files that
// do not exist yet are covered: Seatbelt can refuse a path before it
// exists. They are the names of Protection.Rule; its one rule that needs
// the filesystem (a directory holding HEAD is a git directory) has no
// Seatbelt form.
func mandatoryRegexes(allowGitConfig bool) []string {
	var out []string
	for _, f := range mandatoryFiles {
		out = append(out, `(^|/)`+regexQuote(f)+`$`)
	}
	for _, d := range mandatoryDirs {
		out = append(out, `(^|/)`+regexQuote(d)+`(/|$)`)
	}
	names := make([]string, 0, len(mandatoryInside))
	for n := range mandatoryInside {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, dir := range names {
		// The directory itself: creating, replacing or renaming it.
		out = append(out, `(^|/)`+regexQuote(dir)+`$`)
		for _, e := range mandatoryInside[dir] {
			if dir == ".git" && e == "config" && allowGitConfig {
				continue
			}
			out = append(out, `(^|/)`+regexQuote(dir)+`/`+regexQuote(e)+`(/|$)`)
		}
	}
	return out
}

// mandatoryDirRegexes are the directories whose renaming would carry
// protected entries away (.git, .claude, …).
func mandatoryDirRegexes() []string {
	var out []string
	for _, d := range mandatoryDirs {
		out = append(out, `(^|/)`+regexQuote(d)+`$`)
	}
	names := make([]string, 0, len(mandatoryInside))
	for n := range mandatoryInside {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		out = append(out, `(^|/)`+regexQuote(n)+`$`)
	}
	return out
}

func regexQuote(s string) string {
	var b strings.Builder
	for _, c := range s {
		if strings.ContainsRune(`.+*?^$()[]{}|\`, c) {
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return b.String()
}
