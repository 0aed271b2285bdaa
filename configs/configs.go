// Package configs holds srt-mcp's built-in policy profiles, embedded in the
// binary. Each profile is an srt settings file.
package configs

import (
	"embed"
	"fmt"
	"sort"
	"strings"
)

//go:embed *.json
var files embed.FS

// Default is the profile used when neither --settings, --profile nor
// ~/.srt-settings.json says otherwise.
const Default = "default"

// Names lists the built-in profiles.
func Names() []string {
	entries, _ := files.ReadDir(".")
	var out []string
	for _, e := range entries {
		out = append(out, strings.TrimSuffix(e.Name(), ".json"))
	}
	sort.Strings(out)
	return out
}

// Get returns a profile's settings JSON.
func Get(name string) ([]byte, error) {
	data, err := files.ReadFile(name + ".json")
	if err != nil {
		return nil, fmt.Errorf("no built-in profile %q (have: %s)", name, strings.Join(Names(), ", "))
	}
	return data, nil
}

// Info says what a profile is for, what it allows and why, and which
// packages it fits (verify --fix picks a profile by package name).
type Info struct {
	Name     string   `json:"name"`
	Server   string   `json:"server"`
	Allows   string   `json:"allows"`
	Why      string   `json:"why"`
	Packages []string `json:"packages,omitempty"`
}

const (
	npxNeeds = "npx needs the npm registry and a writable ~/.npm cache"
	uvxNeeds = "uvx needs the Python package index and a writable uv cache"
)

var infos = map[string]Info{
	"default": {Server: "any server not listed", Allows: "no network; writes to the working directory",
		Why: "the safe start for an unknown server; extend it with --settings"},
	"filesystem": {Server: "@modelcontextprotocol/server-filesystem", Allows: "npm registry; writes to the working directory and ~/.npm",
		Why:      "the server reads and writes the directories it is given; " + npxNeeds + ". Directories outside the working directory need filesystem.allowWrite",
		Packages: []string{"@modelcontextprotocol/server-filesystem"}},
	"git": {Server: "mcp-server-git (uvx)", Allows: "PyPI; writes to the working directory (the repository) and the uv cache",
		Why: "git writes inside the repository; " + uvxNeeds + "; .git/hooks and .git/config stay read-only", Packages: []string{"mcp-server-git"}},
	"github": {Server: "@modelcontextprotocol/server-github", Allows: "npm registry, api.github.com, uploads.github.com; writes only to ~/.npm",
		Why: "it only talks to the GitHub API; " + npxNeeds, Packages: []string{"@modelcontextprotocol/server-github", "github-mcp-server"}},
	"fetch": {Server: "mcp-server-fetch (uvx)", Allows: "PyPI; writes only to the uv cache",
		Why: "the sites it may fetch are yours to list: add them to network.allowedDomains with --settings; " + uvxNeeds, Packages: []string{"mcp-server-fetch"}},
	"memory": {Server: "@modelcontextprotocol/server-memory", Allows: "npm registry; writes to the working directory and ~/.npm",
		Why: "it keeps its knowledge graph in a file (MEMORY_FILE_PATH, else next to its code in the npm cache); " + npxNeeds, Packages: []string{"@modelcontextprotocol/server-memory"}},
	"everything": {Server: "@modelcontextprotocol/server-everything", Allows: "npm registry; writes only to ~/.npm",
		Why: "a test server that needs nothing outside; " + npxNeeds, Packages: []string{"@modelcontextprotocol/server-everything"}},
	"sqlite": {Server: "mcp-server-sqlite (uvx)", Allows: "PyPI; writes to the working directory (the database) and the uv cache",
		Why: "put the database under the working directory or add its directory to filesystem.allowWrite; " + uvxNeeds, Packages: []string{"mcp-server-sqlite"}},
	"postgres": {Server: "@modelcontextprotocol/server-postgres", Allows: "npm registry, localhost:5432; writes only to ~/.npm",
		Why:      "a local database on the default port; name other hosts in network.allowedDomains. Note: the pg driver does not use proxies, so inside the Linux sandbox it finds no route (see README)",
		Packages: []string{"@modelcontextprotocol/server-postgres"}},
	"brave-search": {Server: "@modelcontextprotocol/server-brave-search", Allows: "npm registry, api.search.brave.com; writes only to ~/.npm",
		Why: "it only calls the Brave Search API; " + npxNeeds, Packages: []string{"@modelcontextprotocol/server-brave-search"}},
	"puppeteer": {Server: "@modelcontextprotocol/server-puppeteer", Allows: "npm registry, the Chrome download host; writes to ~/.npm and ~/.cache/puppeteer",
		Why:      "the browser download and cache; the sites it may visit are yours to list. Chrome's own sandbox cannot nest in this one: run it with --no-sandbox",
		Packages: []string{"@modelcontextprotocol/server-puppeteer", "puppeteer-mcp-server"}},
	"playwright": {Server: "@playwright/mcp", Allows: "npm registry, the browser download hosts; writes to ~/.npm and ~/.cache/ms-playwright",
		Why: "the browser download and cache; the sites it may visit are yours to list", Packages: []string{"@playwright/mcp"}},
	"slack": {Server: "@modelcontextprotocol/server-slack", Allows: "npm registry, slack.com and its subdomains; writes only to ~/.npm",
		Why: "it only calls the Slack API; " + npxNeeds, Packages: []string{"@modelcontextprotocol/server-slack"}},
}

// Describe returns what is known about a profile.
func Describe(name string) Info {
	i := infos[name]
	i.Name = name
	return i
}

// ForPackage returns the profile made for a server package, or "".
func ForPackage(args []string) string {
	for _, a := range args {
		pkg := a
		// npx pkg@version, uvx pkg==version
		if at := strings.LastIndexByte(pkg, '@'); at > 0 {
			pkg = pkg[:at]
		}
		if eq := strings.Index(pkg, "=="); eq > 0 {
			pkg = pkg[:eq]
		}
		for name, i := range infos {
			for _, p := range i.Packages {
				if pkg == p {
					return name
				}
			}
		}
	}
	return ""
}
