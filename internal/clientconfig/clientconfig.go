// Package clientconfig reads the MCP server entries of MCP clients' config
// files (Claude Code, Claude Desktop, Cursor, VS Code, Windsurf, Gemini CLI,
// Zed, Codex), tells which of them run unsandboxed, and rewrites those to
// run through srt-mcp without disturbing anything else in the file.
package clientconfig

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/tailscale/hujson"
)

// Statuses of a server entry.
const (
	Sandboxed   = "sandboxed"
	Weak        = "weak"
	Unsandboxed = "unsandboxed"
	Remote      = "remote"
	Broken      = "broken"
	// Container: a docker/podman run entry. Left alone: the container is
	// its own sandbox, and inside srt-mcp's the daemon's socket is out of
	// reach. Its flags are what to check.
	Container = "container"
)

// Server is one MCP server entry.
type Server struct {
	Client  string   `json:"client"`
	File    string   `json:"file"`
	Name    string   `json:"name"`
	Command string   `json:"command,omitempty"`
	Args    []string `json:"args,omitempty"`
	URL     string   `json:"url,omitempty"`
	Cwd     string   `json:"cwd,omitempty"`
	// Project is the project directory the entry belongs to: the key of
	// ~/.claude.json's projects.<path>, "" for a user-wide entry.
	Project string `json:"project,omitempty"`
	Status  string `json:"status"`
	Detail  string `json:"detail,omitempty"`

	pointer   string // JSON pointer of the entry, or the TOML table name
	objectCmd bool   // Zed's {"command": {"path", "args"}} form
}

// File is one parsed config file.
type File struct {
	Path    string
	Client  string
	Format  string // "json" (JSON with comments allowed) or "toml"
	Data    []byte
	Servers []*Server
}

// Candidate is a config file a client reads, if it exists.
type Candidate struct{ Client, Path string }

// Locations lists the config files of every supported client for a user
// with home directory home, working in project directory cwd. appData is
// %APPDATA% on Windows ("" elsewhere).
func Locations(home, cwd, appData string) []Candidate {
	c := []Candidate{
		{"Claude Code", filepath.Join(cwd, ".mcp.json")},
		{"Claude Code", filepath.Join(home, ".claude.json")},
		{"Cursor", filepath.Join(cwd, ".cursor", "mcp.json")},
		{"VS Code", filepath.Join(cwd, ".vscode", "mcp.json")},
		{"Gemini CLI", filepath.Join(cwd, ".gemini", "settings.json")},
		{"Zed", filepath.Join(cwd, ".zed", "settings.json")},
		{"Claude Desktop", filepath.Join(home, "Library", "Application Support", "Claude", "claude_desktop_config.json")},
		{"Claude Desktop", filepath.Join(home, ".config", "Claude", "claude_desktop_config.json")},
		{"Cursor", filepath.Join(home, ".cursor", "mcp.json")},
		{"VS Code", filepath.Join(home, ".config", "Code", "User", "mcp.json")},
		{"VS Code", filepath.Join(home, "Library", "Application Support", "Code", "User", "mcp.json")},
		{"Windsurf", filepath.Join(home, ".codeium", "windsurf", "mcp_config.json")},
		{"Gemini CLI", filepath.Join(home, ".gemini", "settings.json")},
		{"Zed", filepath.Join(home, ".config", "zed", "settings.json")},
		{"Codex", filepath.Join(home, ".codex", "config.toml")},
	}
	if appData != "" {
		c = append(c,
			Candidate{"Claude Desktop", filepath.Join(appData, "Claude", "claude_desktop_config.json")},
			Candidate{"VS Code", filepath.Join(appData, "Code", "User", "mcp.json")})
	}
	if codexHome := os.Getenv("CODEX_HOME"); codexHome != "" {
		c = append(c, Candidate{"Codex", filepath.Join(codexHome, "config.toml")})
	}
	seen := map[string]bool{}
	var out []Candidate
	for _, x := range c {
		if !seen[x.Path] {
			seen[x.Path] = true
			out = append(out, x)
		}
	}
	return out
}

// projectLocations are the project config files of the directories
// above cwd up to the repository root, nearest first: clients look for a
// project's .mcp.json (and the others) at its root, and people run verify
// from a sub-directory. cwd's own are in Locations. With no repository
// around cwd (no .git in it or above, below home) there are none.
func projectLocations(home, cwd string) []Candidate {
	var dirs []string
	for dir := cwd; ; {
		if exists(filepath.Join(dir, ".git")) {
			break // dir is the root; found
		}
		parent := filepath.Dir(dir)
		if parent == dir || dir == home {
			return nil // no repository: only cwd counts
		}
		dir = parent
		dirs = append(dirs, dir)
	}
	var out []Candidate
	for _, d := range dirs {
		out = append(out,
			Candidate{"Claude Code", filepath.Join(d, ".mcp.json")},
			Candidate{"Cursor", filepath.Join(d, ".cursor", "mcp.json")},
			Candidate{"VS Code", filepath.Join(d, ".vscode", "mcp.json")},
			Candidate{"Gemini CLI", filepath.Join(d, ".gemini", "settings.json")},
			Candidate{"Zed", filepath.Join(d, ".zed", "settings.json")})
	}
	return out
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// Load parses a config file. client may be "" for a file given by hand:
// the format is then recognised from the content.
func Load(path, client string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parse(path, client, data)
}

func parse(path, client string, data []byte) (*File, error) {
	f := &File{Path: path, Client: client, Data: data}
	if strings.HasSuffix(path, ".toml") {
		f.Format = "toml"
		if f.Client == "" {
			f.Client = "Codex"
		}
		return f, f.loadTOML()
	}
	f.Format = "json"
	std, err := hujson.Standardize(bytes.Clone(data))
	if err != nil {
		return nil, fmt.Errorf("not valid JSON (comments and trailing commas allowed): %w", err)
	}
	var root map[string]json.RawMessage
	if err := json.Unmarshal(std, &root); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	if f.Client == "" {
		f.Client = guessClient(path, root)
	}
	section := func(ptr, project string, raw json.RawMessage) error {
		var entries map[string]json.RawMessage
		if err := json.Unmarshal(raw, &entries); err != nil {
			return fmt.Errorf("%s: not an object", ptr)
		}
		for _, name := range slices.Sorted(maps.Keys(entries)) {
			s, err := parseEntry(entries[name])
			if err != nil {
				return fmt.Errorf("%s/%s: %w", ptr, name, err)
			}
			s.Client, s.File, s.Name, s.pointer = f.Client, path, name, ptr+"/"+escapePointer(name)
			s.Project = project
			f.Servers = append(f.Servers, s)
		}
		return nil
	}
	for _, key := range []string{"mcpServers", "servers", "context_servers"} {
		if raw, ok := root[key]; ok {
			if err := section("/"+key, "", raw); err != nil {
				return nil, err
			}
		}
	}
	// ~/.claude.json keeps per-project servers under projects["<abs path>"].
	if raw, ok := root["projects"]; ok {
		var projects map[string]map[string]json.RawMessage
		if json.Unmarshal(raw, &projects) == nil {
			for _, p := range slices.Sorted(maps.Keys(projects)) {
				if srv, ok := projects[p]["mcpServers"]; ok {
					if err := section("/projects/"+escapePointer(p)+"/mcpServers", p, srv); err != nil {
						return nil, err
					}
				}
			}
		}
	}
	return f, nil
}

func guessClient(path string, root map[string]json.RawMessage) string {
	base := filepath.Base(path)
	switch {
	case base == ".claude.json" || base == ".mcp.json":
		return "Claude Code"
	case base == "claude_desktop_config.json":
		return "Claude Desktop"
	case root["context_servers"] != nil:
		return "Zed"
	case root["servers"] != nil:
		return "VS Code"
	case base == "mcp_config.json":
		return "Windsurf"
	}
	return "MCP client"
}

func escapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// parseEntry reads one server entry in any of the JSON clients' forms.
func parseEntry(raw json.RawMessage) (*Server, error) {
	var e struct {
		Command json.RawMessage `json:"command"`
		Args    []string        `json:"args"`
		URL     string          `json:"url"`
		HTTPURL string          `json:"httpUrl"`
		Server  string          `json:"serverUrl"`
		Type    string          `json:"type"`
		Cwd     string          `json:"cwd"`
	}
	if err := json.Unmarshal(raw, &e); err != nil {
		return nil, fmt.Errorf("not a server entry: %w", err)
	}
	s := &Server{Args: e.Args, Cwd: e.Cwd, URL: firstNonEmpty(e.URL, e.HTTPURL, e.Server)}
	if len(e.Command) > 0 {
		if err := json.Unmarshal(e.Command, &s.Command); err != nil {
			// Zed: "command": {"path": "...", "args": [...]}
			var obj struct {
				Path string   `json:"path"`
				Args []string `json:"args"`
			}
			if err := json.Unmarshal(e.Command, &obj); err != nil {
				return nil, fmt.Errorf("command is neither a string nor {path, args}")
			}
			s.Command, s.Args, s.objectCmd = obj.Path, obj.Args, true
		}
	}
	if s.Command == "" && s.URL == "" && e.Type != "" && e.Type != "stdio" {
		s.URL = "(" + e.Type + ")"
	}
	return s, nil
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

func (f *File) loadTOML() error {
	var doc struct {
		MCPServers map[string]struct {
			Command string   `toml:"command"`
			Args    []string `toml:"args"`
			URL     string   `toml:"url"`
			Cwd     string   `toml:"cwd"`
		} `toml:"mcp_servers"`
	}
	if _, err := toml.Decode(string(f.Data), &doc); err != nil {
		return fmt.Errorf("not valid TOML: %w", err)
	}
	for _, name := range slices.Sorted(maps.Keys(doc.MCPServers)) {
		e := doc.MCPServers[name]
		f.Servers = append(f.Servers, &Server{Client: f.Client, File: f.Path, Name: name, Command: e.Command, Args: e.Args, URL: e.URL, Cwd: e.Cwd, pointer: name})
	}
	return nil
}
