package clientconfig

import (
	"os"
	"path/filepath"

	"github.com/srt-mcp/srt-mcp/configs"
)

// VerifyOptions say which config files to verify and whether to fix them.
type VerifyOptions struct {
	// Files are the config files to read; none means every known client's
	// and project's location (a missing one is a client not installed).
	Files              []string
	Home, Cwd, AppData string
	// SrtMCP is the command a fixed entry runs (see SrtMCPCommand).
	SrtMCP string
	// PATH is the user's PATH, where clients other than GUI ones look for
	// srt-mcp; "" skips checking that entries' srt-mcp can be found.
	PATH string
	// Fix rewrites unsandboxed local servers to run through srt-mcp,
	// keeping a backup; DryRun computes the same change without writing.
	Fix, DryRun bool
}

// Verification is what verify found and did.
type Verification struct {
	Servers []*Server   `json:"servers"`
	Changes []Change    `json:"changes,omitempty"`
	Errors  []FileError `json:"errors,omitempty"`
	// Empty are the files read that hold no MCP servers in a shape verify
	// knows: a typo in "mcpServers" would otherwise pass as "all sandboxed".
	Empty []string `json:"empty,omitempty"`
}

// EmptyFileNote says what verify looked for in a file in Empty.
const EmptyFileNote = "no MCP servers found (looked for mcpServers, servers, context_servers, projects.*.mcpServers, [mcp_servers.*])"

// FileError is a config file that could not be read or rewritten.
type FileError struct {
	File  string `json:"file"`
	Error string `json:"error"`
}

// Change is a config file rewritten (or, on a dry run, to be rewritten).
type Change struct {
	File   string   `json:"file"`
	Backup string   `json:"backup,omitempty"`
	Fixed  []string `json:"fixed"`
	Diff   string   `json:"diff"`
}

// Verify classifies the servers in the config files and, with Fix or
// DryRun, wraps the unsandboxed ones. The servers are reported as the
// files are afterwards.
func Verify(opt VerifyOptions) *Verification {
	var candidates []Candidate
	if len(opt.Files) > 0 {
		for _, f := range opt.Files {
			candidates = append(candidates, Candidate{Path: f})
		}
	} else {
		candidates = append(Locations(opt.Home, opt.Cwd, opt.AppData), projectLocations(opt.Home, opt.Cwd)...)
	}
	env := checkEnv{home: opt.Home}
	if opt.PATH != "" {
		env.findSrtMCP = srtMCPFinder(opt.PATH)
	}
	v := &Verification{Servers: []*Server{}}
	fail := func(file, msg string) { v.Errors = append(v.Errors, FileError{file, msg}) }
	for _, c := range candidates {
		f, err := Load(c.Path, c.Client)
		if err != nil {
			if os.IsNotExist(err) && len(opt.Files) == 0 {
				continue // a client that is not installed
			}
			fail(c.Path, err.Error())
			continue
		}
		for _, s := range f.Servers {
			classifyIn(s, env)
		}
		if len(f.Servers) == 0 && (len(opt.Files) > 0 || mcpOnly(c.Path)) {
			v.Empty = append(v.Empty, c.Path)
		}
		if opt.Fix || opt.DryRun {
			out, fixed, err := f.rewrite(opt.SrtMCP, func(s *Server) string { return configs.ForPackage(s.Args) })
			if err != nil {
				fail(c.Path, "not rewritten: "+err.Error())
			} else if len(fixed) > 0 {
				ch := Change{File: c.Path, Diff: unifiedDiff(c.Path, f.Data, out)}
				for _, s := range fixed {
					ch.Fixed = append(ch.Fixed, s.Name)
				}
				if !opt.DryRun {
					backup, err := writeAtomic(c.Path, f.Data, out)
					if err != nil {
						fail(c.Path, "not rewritten: "+err.Error())
						continue
					}
					ch.Backup = backup
					// Report the file as it is now.
					if nf, err := Load(c.Path, f.Client); err == nil {
						for _, s := range nf.Servers {
							classifyIn(s, env)
						}
						f = nf
					}
				}
				v.Changes = append(v.Changes, ch)
			}
		}
		v.Servers = append(v.Servers, f.Servers...)
	}
	return v
}

// mcpOnly reports whether a discovered config file exists only for MCP
// servers (.mcp.json, mcp.json, …), so that one without servers is worth
// a word; a client's general settings file (.claude.json, Zed's
// settings.json) often has none.
func mcpOnly(path string) bool {
	switch filepath.Base(path) {
	case ".mcp.json", "mcp.json", "mcp_config.json", "claude_desktop_config.json":
		return true
	}
	return false
}

// Counts are the servers by status.
func (v *Verification) Counts() map[string]int {
	n := map[string]int{}
	for _, s := range v.Servers {
		n[s.Status]++
	}
	return n
}

// Bad counts the servers that are unsandboxed, weak or broken.
func (v *Verification) Bad() int {
	bad := 0
	for _, s := range v.Servers {
		if s.Status == Unsandboxed || s.Status == Weak || s.Status == Broken {
			bad++
		}
	}
	return bad
}
