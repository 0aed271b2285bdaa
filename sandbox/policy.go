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
// can re-open one explicitly. Paths are relative to the home directory.
var CredentialPaths = []string{
	".ssh", ".aws", ".gnupg", ".config/gcloud", ".kube", ".docker/config.json",
	".netrc", ".azure", ".config/gh", ".config/hub", ".git-credentials",
	".config/git/credentials", ".npmrc", ".pypirc", ".gem/credentials",
	".cargo/credentials", ".cargo/credentials.toml", ".password-store",
	".vault-token", ".terraform.d/credentials.tfrc.json", ".pgpass", ".my.cnf",
	".local/share/keyrings", ".config/op", ".claude/.credentials.json",
	".mozilla", ".config/google-chrome", ".config/chromium",
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

	// AllowPtrace (srtMcp.allowPtrace) lifts the seccomp refusal of ptrace,
	// process_vm_readv/writev and pidfd_getfd inside the sandbox.
	AllowPtrace bool
	// Limits are the resource ceilings (srtMcp.limits) as given; nil
	// fields take srt-mcp's defaults in the backend.
	Limits LimitSettings

	WeakerNestedSandbox bool
	WeakerNetwork       bool
	AllowPty            bool

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
	resolve := func(key string, list []string) ([]string, error) {
		var out []string
		for i, raw := range list {
			paths, err := p.resolvePath(raw)
			if err != nil {
				return nil, &SettingsError{Source: source, Key: fmt.Sprintf("%s[%d]", key, i), Msg: err.Error()}
			}
			out = append(out, paths...)
		}
		return dedupe(out), nil
	}
	if p.AllowWrite, err = resolve("filesystem.allowWrite", allowWrite); err != nil {
		return nil, err
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
	for _, c := range CredentialPaths {
		denyRead = append(denyRead, filepath.Join(home, c))
	}
	if p.DenyRead, err = resolve("filesystem.denyRead", denyRead); err != nil {
		return nil, err
	}
	if p.AllowRead, err = resolve("filesystem.allowRead", s.Filesystem.AllowRead); err != nil {
		return nil, err
	}
	p.protectUserSettings()
	p.protectGitPrograms()
	return p, nil
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
		real := realPath(c)
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
func realPath(path string) string { return realPathDepth(path, 0) }

func realPathDepth(path string, depth int) string {
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
	parent := realPathDepth(dir, depth+1)
	joined := filepath.Join(parent, base)
	if target, err := os.Readlink(joined); err == nil { // a dangling link
		if !filepath.IsAbs(target) {
			target = filepath.Join(parent, target)
		}
		return realPathDepth(filepath.Clean(target), depth+1)
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
