package sandbox

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/srt-mcp/srt-mcp/netfilter"
)

// DefaultMandatoryDenySearchDepth is srt's default for how deep below each
// writable root the mandatory-deny walk looks.
const DefaultMandatoryDenySearchDepth = 3

// CredentialPaths are read-denied in every policy, whatever the settings say:
// a settings file that forgets them must not expose them. filesystem.allowRead
// can re-open one explicitly. Paths are relative to the home directory; a
// glob is expanded at start.
//
// The list follows firejail's published list of credential and secret
// locations (etc/inc/disable-common.inc in github.com/netblue30/firejail,
// sections "top secret", "cloud provider configuration" and "History files
// in $HOME"), plus locations documented by the tools themselves where
// firejail has none: huggingface_hub's token file ($HF_HOME/token, default
// ~/.cache/huggingface/token; ~/.huggingface/token before 0.10), rclone's
// config (rclone config file: ~/.config/rclone/rclone.conf, which holds
// the remotes' passwords and tokens), containers-auth.json(5)
// (~/.config/containers/auth.json), and the agent CLIs' own token files.
// MCP client configs are read-denied separately (ClientConfigFiles). An
// outside review of common command-line tools added the documented
// credential files of Maven, Gradle, Yarn 2+, Bundler, Composer, Pulumi,
// Terraform's CLI config, s3cmd, Databricks, SOPS/age, GitLab's and
// Copilot's CLIs, minikube/LXD/Incus client keys, Teleport, Fly, Vercel,
// Netlify, Stripe, Cloudflare's wrangler, Sentry, JFrog, Bitwarden, and
// mail and chat profiles.
var CredentialPaths = []string{
	// Keys and agents.
	".ssh", ".gnupg", ".pki", ".local/share/pki", ".cert", ".config/sops",
	// Cloud and cluster credentials.
	".aws", ".config/gcloud", ".kube", ".azure", ".boto", ".s3cmd", ".s3cfg", ".passwd-s3fs",
	".oci", ".config/doctl", ".docker/config.json", ".config/containers/auth.json",
	".terraform.d/credentials.tfrc.json", ".terraformrc", ".vault-token", ".databrickscfg",
	".pulumi/credentials.json", ".config/pulumi", ".minikube", ".config/lxc", ".config/incus",
	".tsh", ".fly", ".config/flyctl",
	// Forges, package registries and build tools.
	".config/gh", ".config/hub", ".config/glab-cli", ".git-credentials", ".git-credential-cache",
	".config/git/credentials", ".npmrc", ".yarnrc", ".yarnrc.yml", ".pypirc", ".gem/credentials",
	".cargo/credentials", ".cargo/credentials.toml", ".m2/settings.xml", ".m2/settings-security.xml",
	".gradle/gradle.properties", ".bundle/config", ".composer/auth.json", ".config/composer/auth.json",
	".jfrog", ".config/github-copilot",
	// Deployment and SaaS command-line logins.
	".vercel", ".local/share/com.vercel.cli", ".config/netlify", ".netlify", ".config/stripe",
	".wrangler", ".config/.wrangler", ".sentryclirc", ".config/heroku", ".netrc.gpg",
	// Password stores and keyrings.
	".password-store", ".local/share/password-store", ".local/share/keyrings", ".gnome2/keyrings",
	".local/share/kwalletd", ".kde/share/apps/kwallet", ".kde4/share/apps/kwallet",
	".config/keybase", ".config/op", ".config/Bitwarden", ".config/Bitwarden CLI", ".vaults",
	"*.kdbx", "*.kdb",
	// Network and mail logins, and mail itself.
	".netrc", ".smbcredentials", ".davfs2/secrets", ".fetchmailrc", ".msmtprc",
	".muttrc", ".mutt", ".config/rclone/rclone.conf", ".thunderbird",
	// Databases.
	".pgpass", ".my.cnf",
	// Machine-learning hubs and agent CLIs' own logins.
	".cache/huggingface/token", ".cache/huggingface/stored_tokens", ".huggingface/token",
	".claude/.credentials.json", ".codex/auth.json", ".gemini/oauth_creds.json",
	// Browser and chat profiles (cookies, saved passwords, session tokens),
	// and the editor's secret store.
	".mozilla", ".config/google-chrome", ".config/chromium", ".config/Slack",
	".config/Code/User/globalStorage",
	// Shell and REPL histories: typed passwords, tokens in curl command
	// lines, connection strings.
	".*_history", ".*-history", ".histfile", ".history", ".lesshst", ".viminfo",
	".pythonhist", ".local/share/fish/fish_history", ".config/nushell/history.txt",
	".config/nushell/history.sqlite3",
}

// Policy is the normalised form of Settings: absolute, cleaned,
// symlink-resolved paths, ready for a backend.
type Policy struct {
	Source string // where the settings came from, for messages
	Cwd    string // resolved working directory of the server
	Home   string

	AllowWrite     []string
	DenyWrite      []string
	DenyRead       []string
	AllowRead      []string
	AllowGitConfig bool

	MandatoryDenySearchDepth int

	Network NetworkPolicy

	IgnoreViolations map[string][]string
	MCP              MCPSettings
	// Digest identifies the settings: tool pins are tied to it, so a
	// change of policy asks for the pins to be accepted again.
	Digest string

	// Protected are absolute paths that stay read-only, and cannot be
	// created, renamed, replaced or have an ancestor renamed, whatever
	// allowWrite says: srt-mcp's own files (settings in use, state), MCP
	// client configs, persistence points under the home. The mandatory
	// names (.git/config, .mcp.json, …) are protected anywhere by name on
	// top of these.
	Protected []ProtectedPath

	// Private are the launcher caches replaced by the server's own copy
	// (PlanLauncherCaches); SharedLauncherCaches (srtMcp.sharedLauncherCaches)
	// turns that off.
	Private              []PrivateCache
	SharedLauncherCaches bool

	// AllowPtrace (srtMcp.allowPtrace) lifts the seccomp refusal of ptrace,
	// process_vm_readv/writev and pidfd_getfd inside the sandbox.
	AllowPtrace bool
	// Limits are the resource ceilings (srtMcp.limits) as given; nil
	// fields take srt-mcp's defaults in the backend.
	Limits LimitSettings

	WeakerNestedSandbox bool
	WeakerNetwork       bool
	AllowPty            bool

	memo     map[string]string // realPath's answers while Resolve runs
	homeList []string          // homes(), computed once

	// Notices are facts the user should see on stderr, e.g. a configured path
	// that resolved through a symlink or a key that means nothing on Linux.
	Notices []string
}

// ProtectedPath is one entry of Policy.Protected.
type ProtectedPath struct {
	Path string // absolute, symlinks resolved
	Rule string // why, for messages and traces (e.g. "srt-mcp settings")
}

// NetworkPolicy is the network part of a Policy. Domain patterns are kept
// as written; netfilter parses them.
type NetworkPolicy struct {
	AllowedDomains      []string
	DeniedDomains       []string
	DeniedDomainReasons map[string]string
	AllowUnixSockets    []string
	AllowAllUnixSockets bool
	AllowLocalBinding   bool
	AllowMachLookup     []string
}

// Resolve turns settings into a Policy for a server started in cwd by the
// user whose home is home. Relative paths are taken against cwd.
func Resolve(s *Settings, source, cwd, home string) (*Policy, error) {
	realCwd, err := filepath.EvalSymlinks(cwd)
	if err != nil {
		return nil, fmt.Errorf("working directory %s: %w", cwd, err)
	}
	p := &Policy{
		Source:                   source,
		Cwd:                      realCwd,
		Home:                     home,
		AllowGitConfig:           s.Filesystem.AllowGitConfig,
		MandatoryDenySearchDepth: DefaultMandatoryDenySearchDepth,
		IgnoreViolations:         s.IgnoreViolations,
		MCP:                      s.MCP,
		Digest:                   settingsDigest(s),
		WeakerNestedSandbox:      s.EnableWeakerNestedSandbox,
		WeakerNetwork:            s.EnableWeakerNetworkIsolation,
		AllowPty:                 s.AllowPty,
		AllowPtrace:              s.SrtMCP.AllowPtrace,
		SharedLauncherCaches:     s.SrtMCP.SharedLauncherCaches,
		Limits:                   s.SrtMCP.Limits,
		Network: NetworkPolicy{
			AllowedDomains:      s.Network.AllowedDomains,
			DeniedDomains:       s.Network.DeniedDomains,
			DeniedDomainReasons: s.Network.DeniedDomainReasons,
			AllowUnixSockets:    s.Network.AllowUnixSockets,
			AllowAllUnixSockets: s.Network.AllowAllUnixSockets,
			AllowLocalBinding:   s.Network.AllowLocalBinding,
			AllowMachLookup:     s.Network.AllowMachLookup,
		},
	}
	// Domain patterns are checked now, so a bad one is a settings error
	// that names the key, before anything starts.
	if _, err := netfilter.NewPolicy(s.Network.AllowedDomains, s.Network.DeniedDomains); err != nil {
		return nil, &SettingsError{Source: source, Msg: err.Error()}
	}
	if len(s.Network.AllowUnixSockets) > 0 && !s.Network.AllowAllUnixSockets {
		p.Notices = append(p.Notices, "network.allowUnixSockets applies on macOS only (seccomp cannot filter socket paths): on Linux unix sockets stay blocked; network.allowAllUnixSockets allows all of them")
	}
	if s.MandatoryDenySearchDepth != nil {
		p.MandatoryDenySearchDepth = *s.MandatoryDenySearchDepth
	}
	allowWrite := s.Filesystem.AllowWrite
	if allowWrite == nil {
		allowWrite = []string{"."}
	}
	p.memo = map[string]string{}
	defer func() { p.memo = nil }()
	homes := append([]string{home, p.realPath(home)}, p.homes()...)
	var refused []string // relative allowWrite entries that named /, ~ or a system directory
	var writeEntries []writeEntry
	resolve := func(key string, list []string) ([]string, error) {
		var out []string
		for i, raw := range list {
			paths, err := p.resolvePath(raw)
			if err != nil {
				return nil, &SettingsError{Source: source, Key: fmt.Sprintf("%s[%d]", key, i), Msg: err.Error()}
			}
			if strings.Contains("/"+raw+"/", "/../") {
				p.Notices = append(p.Notices, fmt.Sprintf("%s[%d] %q contains \"..\": it resolves to %s", key, i, raw, strings.Join(paths, ", ")))
			}
			if key != "filesystem.allowWrite" {
				out = append(out, paths...)
				continue
			}
			if hasGlobMeta(raw) {
				p.Notices = append(p.Notices, fmt.Sprintf("%s[%d] %q is a glob: on Linux it is expanded once, at start, and what is created later is not covered", key, i, raw))
			}
			if !namedInSettings(raw) {
				// The working directory (or a path relative to it) must
				// not make /, the home or a system directory writable:
				// where the client starts the server is not a decision
				// the user made in the settings.
				if why := implicitWriteRefusal(globBase(paths), homes...); why != "" {
					refused = append(refused, fmt.Sprintf("%s (%s)", globBase(paths), why))
					continue
				}
				bad := false
				for _, path := range paths {
					if why := implicitWriteRefusal(path, homes...); why != "" {
						refused = append(refused, fmt.Sprintf("%s (%s)", path, why))
						bad = true
					}
				}
				if bad {
					continue
				}
			}
			if key == "filesystem.allowWrite" {
				writeEntries = append(writeEntries, writeEntry{raw, paths})
			}
			out = append(out, paths...)
		}
		return dedupe(out), nil
	}
	if p.AllowWrite, err = resolve("filesystem.allowWrite", allowWrite); err != nil {
		return nil, err
	}
	p.AllowWrite = p.dropPlantedLinks(writeEntries, p.AllowWrite)
	if len(refused) > 0 {
		rest := "the server can write only its private /tmp"
		if len(p.AllowWrite) > 0 {
			rest = "the server can write only its other allowWrite entries and its private /tmp"
		}
		p.Notices = append(p.Notices, fmt.Sprintf("filesystem.allowWrite: %s not made writable from a relative path such as \".\" (the working directory); %s. To grant a directory, name it in filesystem.allowWrite of the settings as an absolute path or ~/path",
			strings.Join(refused, ", "), rest))
	}
	for _, w := range p.AllowWrite {
		if w == "/" {
			p.Notices = append(p.Notices, "filesystem.allowWrite makes the whole filesystem writable")
		}
	}
	if p.DenyWrite, err = resolve("filesystem.denyWrite", s.Filesystem.DenyWrite); err != nil {
		return nil, err
	}
	denyRead := append([]string(nil), s.Filesystem.DenyRead...)
	for _, h := range p.homes() {
		for _, c := range CredentialPaths {
			denyRead = append(denyRead, filepath.Join(h, c))
		}
		if h != home {
			denyRead = append(denyRead, ClientConfigFiles(h)...)
		}
	}
	// Other servers' tokens (the env blocks of MCP client configs) and
	// srt-mcp's own state (traces of other servers, the digest key) are
	// none of the server's business.
	denyRead = append(denyRead, ClientConfigFiles(home)...)
	denyRead = append(denyRead, StateDir(home))
	// The default location too when XDG_STATE_HOME moved it: an earlier
	// state (digest key, other servers' traces and pins) may still be there.
	denyRead = append(denyRead, filepath.Join(home, ".local", "state", "srt-mcp"))
	// Other servers' private launcher caches: reading them tells what
	// those servers run; the mount plan hides the whole root, and binds a
	// server's own copy at the cache's usual path (launchercache.go).
	if filepath.IsAbs(home) {
		denyRead = append(denyRead, LauncherCacheRoot(home))
	}
	if s.SrtMCP.SharedLauncherCaches {
		p.Notices = append(p.Notices, "srtMcp.sharedLauncherCaches: writable launcher caches (~/.npm, ~/.cache/uv, …) are the real ones, shared with the host and other servers: code this server plants there runs outside the sandbox")
	}
	if p.DenyRead, err = resolve("filesystem.denyRead", denyRead); err != nil {
		return nil, err
	}
	if p.AllowRead, err = resolve("filesystem.allowRead", s.Filesystem.AllowRead); err != nil {
		return nil, err
	}
	p.protect(s.files)
	p.settingsFileNotices(s.files)
	p.protectGitPrograms()
	return p, nil
}

// globBase is the directory part before the first glob metacharacter of
// a resolved glob entry (resolvePath puts the pattern last), or the single
// path of a plain entry.
func globBase(paths []string) string {
	if len(paths) == 0 {
		return ""
	}
	last := paths[len(paths)-1]
	if !hasGlobMeta(last) {
		return last
	}
	dir := last[:strings.IndexAny(last, "*?[")]
	if i := strings.LastIndex(dir, "/"); i > 0 {
		return dir[:i]
	}
	return "/"
}

// writeEntry is one allowWrite entry as written and what it resolved to.
type writeEntry struct {
	raw   string
	paths []string
}

// dropPlantedLinks removes the allowWrite entries that reach their target
// through a symlink lying inside a writable root. An earlier sandboxed run
// could have planted that link (ln -s ~ ./cache with allowWrite
// [".", "./cache"]) to choose what this launch makes writable; the user
// meant the directory, not wherever a link points today. Naming the target
// itself in the settings still works.
func (p *Policy) dropPlantedLinks(entries []writeEntry, roots []string) []string {
	drop := map[string]bool{}
	for _, e := range entries {
		link := p.linkOnPath(e.raw)
		if link == "" {
			continue
		}
		parent := realPath(filepath.Dir(link))
		for _, w := range roots {
			if under(parent, w) {
				p.Notices = append(p.Notices, fmt.Sprintf("filesystem.allowWrite %q not made writable: it goes through the symlink %s, which lies in the writable %s, where a sandboxed server could have planted it; name the target directory itself in the settings", e.raw, link, w))
				for _, path := range e.paths {
					drop[path] = true
				}
				break
			}
		}
	}
	if len(drop) == 0 {
		return roots
	}
	var out []string
	for _, w := range roots {
		if !drop[w] {
			out = append(out, w)
		}
	}
	return out
}

// linkOnPath returns the first symlink met on the way to the path a
// settings entry names (~ and relative paths expanded, globs left alone),
// or "".
func (p *Policy) linkOnPath(raw string) string {
	path := raw
	switch {
	case path == "~":
		path = p.Home
	case strings.HasPrefix(path, "~/"):
		path = filepath.Join(p.Home, path[2:])
	}
	if !filepath.IsAbs(path) {
		path = filepath.Join(p.Cwd, path)
	}
	path = filepath.Clean(path)
	cur := "/"
	for _, c := range strings.Split(strings.TrimPrefix(path, "/"), "/") {
		if c == "" || hasGlobMeta(c) {
			return ""
		}
		cur = filepath.Join(cur, c)
		st, err := os.Lstat(cur)
		if err != nil {
			return ""
		}
		if st.Mode()&os.ModeSymlink != 0 {
			return cur
		}
	}
	return ""
}

// settingsFileNotices warns about settings files that someone other than
// the user can change: world-writable, or reached through a symlink that
// can be re-pointed.
func (p *Policy) settingsFileNotices(files []string) {
	for _, f := range files {
		if real := realPath(f); real != filepath.Clean(f) {
			p.Notices = append(p.Notices, fmt.Sprintf("settings file %s is reached through a symlink (%s): whoever can re-point the link chooses the policy of the next launch", f, real))
		}
		if st, err := os.Stat(f); err == nil && st.Mode().Perm()&0o002 != 0 {
			p.Notices = append(p.Notices, fmt.Sprintf("settings file %s is world-writable: any local user can change the policy of the next launch (chmod o-w %s)", f, f))
		}
	}
}

func settingsDigest(s *Settings) string {
	b, _ := json.Marshal(s) // exported fields, map keys sorted: stable
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:16])
}

// resolvePath expands ~, makes the path absolute against the working
// directory, expands globs against the current filesystem, and resolves
// symlinks so that the rule applies to the real object: a denyRead on a
// link must hide the target, and an allowWrite through a link must not
// silently grant something else than the user sees in the settings.
func (p *Policy) resolvePath(raw string) (out []string, err error) {
	path := raw
	switch {
	case path == "~":
		path = p.Home
	case strings.HasPrefix(path, "~/"):
		path = filepath.Join(p.Home, path[2:])
	case strings.HasPrefix(path, "~"):
		return nil, fmt.Errorf("%q: only ~ and ~/ are supported, not ~user", raw)
	}
	if !filepath.IsAbs(path) {
		path = filepath.Join(p.Cwd, path)
	}
	path = filepath.Clean(path)
	candidates := []string{path}
	if hasGlobMeta(path) {
		var err error
		if candidates, err = expandGlob(path); err != nil {
			return nil, fmt.Errorf("%q: %w", raw, err)
		}
		// The pattern itself stays in the policy too: Seatbelt turns it into
		// a regex that also covers files created later; the Linux mount plan
		// skips it (no such path exists) and uses the expansions.
		defer func() { out = append(out, path) }()
	}
	for _, c := range candidates {
		real := p.realPath(c)
		if real != c {
			p.Notices = append(p.Notices, fmt.Sprintf("%s resolves to %s; the rule applies there", c, real))
		}
		out = append(out, real)
	}
	return out, nil
}

// realPath resolves symlinks in path, including a final link whose target
// does not exist yet, and keeps any missing remainder as written, so rules
// for not-yet-existing paths land where the file would be created.
func realPath(path string) string { return realPathMemo(path, 0, nil) }

// realPath is realPath with the answers remembered while Resolve runs: it
// resolves a few hundred paths (persistence points and client configs of
// one or two homes), most of them missing and sharing parents, and each
// miss walks up the parents again.
func (p *Policy) realPath(path string) string { return realPathMemo(path, 0, p.memo) }

func realPathMemo(path string, depth int, memo map[string]string) (real string) {
	if r, ok := memo[path]; ok {
		return r
	}
	if memo != nil {
		defer func() { memo[path] = real }()
	}
	if r, err := filepath.EvalSymlinks(path); err == nil {
		return r
	}
	if depth > 40 { // a link loop: keep the path as written
		return path
	}
	dir, base := filepath.Split(path)
	dir = filepath.Clean(dir)
	if dir == path || dir == "." {
		return path
	}
	parent := realPathMemo(dir, depth+1, memo)
	joined := filepath.Join(parent, base)
	if target, err := os.Readlink(joined); err == nil { // a dangling link
		if !filepath.IsAbs(target) {
			target = filepath.Join(parent, target)
		}
		return realPathMemo(filepath.Clean(target), depth+1, memo)
	}
	return joined
}

func dedupe(in []string) []string {
	seen := map[string]bool{}
	out := in[:0:0]
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

// under reports whether path is dir or inside it.
func under(path, dir string) bool {
	if dir == "/" {
		return true
	}
	return path == dir || strings.HasPrefix(path, dir+"/")
}

func exists(path string) (isDir, ok bool) {
	st, err := os.Stat(path)
	if err != nil {
		return false, false
	}
	return st.IsDir(), true
}
