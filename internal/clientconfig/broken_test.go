package clientconfig

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestClassifyBroken: entries that name srt-mcp but would not start are
// broken, with the reason; docker run is a container entry.
func TestClassifyBroken(t *testing.T) {
	home := t.TempDir()
	bin := filepath.Join(home, "bin")
	os.MkdirAll(bin, 0o755)
	os.WriteFile(filepath.Join(bin, "srt-mcp"), []byte("#!/bin/sh\n"), 0o755)
	os.WriteFile(filepath.Join(home, "s.json"), []byte("{}"), 0o644)
	env := checkEnv{home: home, findSrtMCP: srtMCPFinder(bin)}
	for _, tc := range []struct {
		client, command string
		args            []string
		status, detail  string
	}{
		{"Cursor", "srt-mcp", []string{"--", "x"}, Sandboxed, ""},
		{"Cursor", "srt-mcp", []string{"--frobnicate", "--", "x"}, Broken, "srt-mcp has no flag --frobnicate"},
		{"Cursor", "srt-mcp", []string{"--settings", "~/s.json", "--", "x"}, Broken, "MCP clients do not expand ~; write the absolute path (" + filepath.Join(home, "s.json") + ")"},
		{"Cursor", "srt-mcp", []string{"--settings=" + filepath.Join(home, "s.json"), "--", "x"}, Sandboxed, ""},
		{"Cursor", "srt-mcp", []string{"--settings"}, Broken, "--settings needs a value"},
		{"Cursor", "srt-mcp", []string{"-V"}, Broken, "-V makes srt-mcp print and exit"},
		{"Cursor", "srt-mcp", []string{"-c", "x --stdio"}, Sandboxed, ""},
		{"Cursor", "srt-mcp", []string{"-c", "x", "-d"}, Sandboxed, ""},
		{"Cursor", filepath.Join(home, "nope", "srt-mcp"), []string{"--", "x"}, Broken, "no such file or directory"},
		{"Cursor", filepath.Join(bin, "srt-mcp"), []string{"--", "x"}, Sandboxed, ""},
		{"Claude Desktop", "srt-mcp", []string{"--", "x"}, Broken, "is not on the PATH Claude Desktop starts servers with (/usr/local/bin:/usr/bin:/bin)"},
		{"Claude Desktop", filepath.Join(bin, "srt-mcp"), []string{"--", "x"}, Sandboxed, ""},
		{"Cursor", "srt-mcp", []string{"--", "docker", "run", "-i", "img"}, Broken, "a container cannot start inside the sandbox"},
		{"Cursor", "docker", []string{"run", "-i", "--rm", "img"}, Container, "check its flags"},
		{"Cursor", "docker", []string{"--context", "remote", "run", "img"}, Container, ""},
		{"Cursor", "docker", []string{"-D", "run", "img"}, Container, ""},
		{"Cursor", "docker", []string{"exec", "-i", "c", "server"}, Unsandboxed, ""},
		{"Cursor", "podman", []string{"run", "img"}, Container, ""},
		{"Cursor", "srt", []string{"mcp-server-git"}, Sandboxed, "srt: srt's own defaults (no ~/.srt-settings.json)"},
		{"Cursor", "srt", []string{"-s", filepath.Join(home, "s.json"), "mcp-server-git"}, Sandboxed, "srt: " + filepath.Join(home, "s.json")},
	} {
		if tc.client == "Claude Desktop" && tc.command == "srt-mcp" && lookIn("srt-mcp", MinimalPATH) == nil {
			continue // installed system-wide on this machine: found, rightly
		}
		s := &Server{Client: tc.client, File: filepath.Join(home, "mcp.json"), Name: "n", Command: tc.command, Args: tc.args}
		classifyIn(s, env)
		if s.Status != tc.status || !strings.Contains(s.Detail, tc.detail) {
			t.Errorf("%s: %s %q: %s %q, want %s …%s…", tc.client, tc.command, tc.args, s.Status, s.Detail, tc.status, tc.detail)
		}
	}
}
