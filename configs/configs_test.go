package configs_test

import (
	"testing"

	"github.com/srt-mcp/srt-mcp/configs"
	"github.com/srt-mcp/srt-mcp/sandbox"
)

func TestEveryProfileParsesAndIsDescribed(t *testing.T) {
	want := []string{"brave-search", "default", "everything", "fetch", "filesystem", "git", "github", "memory", "playwright", "postgres", "puppeteer", "slack", "sqlite"}
	names := configs.Names()
	if len(names) != len(want) {
		t.Fatalf("profiles %v, want %v", names, want)
	}
	for i, name := range names {
		if name != want[i] {
			t.Errorf("profile %d is %s, want %s", i, name, want[i])
		}
		data, err := configs.Get(name)
		if err != nil {
			t.Fatal(err)
		}
		s, err := sandbox.ParseSettings(name, data)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if d := configs.Describe(name); d.Allows == "" || d.Why == "" || d.Server == "" {
			t.Errorf("%s: no description", name)
		}
		// Least privilege: no profile weakens the sandbox.
		if s.EnableWeakerNestedSandbox || s.Network.AllowAllUnixSockets || s.Network.AllowLocalBinding {
			t.Errorf("%s weakens the sandbox", name)
		}
	}
}

func TestForPackage(t *testing.T) {
	for args, want := range map[string]string{
		"-y @modelcontextprotocol/server-github":        "github",
		"-y @modelcontextprotocol/server-github@2025.4": "github",
		"mcp-server-git --repository .":                 "git",
		"mcp-server-fetch==2025.1.1":                    "fetch",
		"-y some-unknown-server":                        "",
	} {
		if got := configs.ForPackage(splitArgs(args)); got != want {
			t.Errorf("ForPackage(%s) = %q, want %q", args, got, want)
		}
	}
}

func splitArgs(s string) []string {
	var out []string
	cur := ""
	for _, r := range s + " " {
		if r == ' ' {
			if cur != "" {
				out = append(out, cur)
			}
			cur = ""
			continue
		}
		cur += string(r)
	}
	return out
}
