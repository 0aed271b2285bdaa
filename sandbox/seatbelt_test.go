package sandbox

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden Seatbelt profiles")

// macPolicy builds a policy as Resolve would on a Mac for user "me", with
// paths given directly (the test machine's filesystem must not matter).
func macPolicy(mod func(p *Policy)) *Policy {
	p := &Policy{
		Cwd: "/Users/me/work/proj", Home: "/Users/me",
		AllowWrite: []string{"/Users/me/work/proj"},
		DenyRead:   []string{"/Users/me/.ssh", "/Users/me/.aws"},
		Network:    NetworkPolicy{},
	}
	if mod != nil {
		mod(p)
	}
	return p
}

func TestSeatbeltGolden(t *testing.T) {
	opts := SeatbeltOptions{Tag: "srt-mcp-0123456789abcdef", HTTPPort: 51001, SOCKSPort: 51002, TempDir: "/var/folders/xy/abc/T/srt-mcp-run-1"}
	cases := map[string]*Policy{
		"default": macPolicy(nil),
		// Quotes, spaces, backslashes, regex metacharacters and unicode in
		// paths; globs; /tmp (a symlink on macOS).
		"escaping": macPolicy(func(p *Policy) {
			p.AllowWrite = append(p.AllowWrite, `/Users/me/My "Projects"/a b`, "/tmp/build", `/Users/me/dir\with\backslash`)
			p.DenyRead = append(p.DenyRead, "/Users/me/work/proj/**/*.pem", "/Users/me/secrets (old)/[ab]?.key", "/Users/me/Документы/ключ.txt")
			p.DenyWrite = []string{"/Users/me/work/proj/.env", "/Users/me/work/proj/a+b$c^d.txt"}
		}),
		"network-and-weakening": macPolicy(func(p *Policy) {
			p.Network.AllowLocalBinding = true
			p.Network.AllowUnixSockets = []string{"~/.docker/run/docker.sock", "/var/run/x.sock"}
			p.Network.AllowMachLookup = []string{"2BUA8C4S2C.com.1password.*", "com.example.exact"}
			p.WeakerNetwork = true
			p.AllowPty = true
			p.AllowGitConfig = true
			p.AllowRead = []string{"/Users/me/.ssh/known_hosts"}
		}),
		"all-unix-sockets": macPolicy(func(p *Policy) { p.Network.AllowAllUnixSockets = true }),
	}
	for name, p := range cases {
		t.Run(name, func(t *testing.T) {
			got := SeatbeltProfile(p, opts)
			golden := filepath.Join("testdata", "seatbelt", name+".sb")
			if *update {
				os.WriteFile(golden, []byte(got), 0o644)
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create)", err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("profile (-golden +got):\n%s", diff)
			}
			// Every string literal is balanced: an unescaped quote in a path
			// would end it early and could smuggle in a rule.
			for i, line := range strings.Split(got, "\n") {
				if strings.Count(strings.ReplaceAll(line, `\"`, ""), `"`)%2 != 0 {
					t.Errorf("line %d has an unbalanced quote: %s", i+1, line)
				}
			}
		})
	}
}

func TestGlobToRegex(t *testing.T) {
	for glob, want := range map[string]string{
		"/a/**/*.pem":       `^/a/(.*/)?[^/]*\.pem$`,
		"/a/b?c":            `^/a/b[^/]c$`,
		"/a/[ab]x":          `^/a/[ab]x$`,
		"/a/[!ab]x":         `^/a/[^ab]x$`,
		"/a/(x)+y$z^|{}.":   `^/a/\(x\)\+y\$z\^\|\{\}\.$`,
		"/a/**":             `^/a/.*$`,
		`/a/back\slash/*.k`: `^/a/back\\slash/[^/]*\.k$`,
	} {
		if got := GlobToRegex(glob); got != want {
			t.Errorf("GlobToRegex(%q) = %q, want %q", glob, got, want)
		}
	}
}

func TestDarwinPath(t *testing.T) {
	for in, want := range map[string]string{"/tmp/x": "/private/tmp/x", "/tmp": "/private/tmp", "/var/folders/a": "/private/var/folders/a", "/etc/hosts": "/private/etc/hosts", "/tmpfoo": "/tmpfoo", "/Users/x": "/Users/x", "/private/tmp/y": "/private/tmp/y"} {
		if got := darwinPath(in); got != want {
			t.Errorf("darwinPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseSeatbeltLog(t *testing.T) {
	tag := "srt-mcp-0123456789abcdef"
	for _, tc := range []struct {
		line string
		ok   bool
		want Violation
	}{
		{`2026-11-24 10:00:00.123 E  kernel[0:2f3a] (Sandbox) Sandbox: node(4711) deny(1) file-read-data /Users/me/.ssh/id_rsa ` + tag, true,
			Violation{Kind: "fs-read", Op: "file-read-data", Target: "/Users/me/.ssh/id_rsa", Rule: "macOS sandbox (Seatbelt) denied node(4711)"}},
		{`2026-11-24 10:00:01.000 E  kernel[0:2f3a] (Sandbox) Sandbox: python3.12(88) deny(1) file-write-create /Users/me/My Projects/out file.txt ` + tag, true,
			Violation{Kind: "fs-write", Op: "file-write-create", Target: "/Users/me/My Projects/out file.txt", Rule: "macOS sandbox (Seatbelt) denied python3.12(88)"}},
		{`2026-11-24 10:00:02.000 E  kernel[0:1] (Sandbox) Sandbox: curl(9) deny(1) network-outbound /private/var/run/docker.sock ` + tag, true,
			Violation{Kind: "unix-socket", Op: "network-outbound", Target: "/private/var/run/docker.sock", Rule: "macOS sandbox (Seatbelt) denied curl(9)"}},
		{`2026-11-24 10:00:03.000 E  kernel[0:1] (Sandbox) Sandbox: curl(9) deny(1) network-outbound 93.184.215.14:443 ` + tag, true,
			Violation{Kind: "network", Op: "network-outbound", Target: "93.184.215.14:443", Rule: "macOS sandbox (Seatbelt) denied curl(9)"}},
		{`2026-11-24 10:00:04.000 E  kernel[0:1] (Sandbox) Sandbox: Google Chrome Helper(12) deny(1) mach-lookup com.apple.windowserver.active ` + tag, true,
			Violation{Kind: "sandbox", Op: "mach-lookup", Target: "com.apple.windowserver.active", Rule: "macOS sandbox (Seatbelt) denied Google Chrome Helper(12)"}},
		// Another run's denial, noise, and unrelated lines are not ours.
		{`2026-11-24 10:00:05.000 E  kernel[0:1] (Sandbox) Sandbox: node(1) deny(1) file-read-data /x srt-mcp-ffffffffffffffff`, false, Violation{}},
		{`2026-11-24 10:00:06.000 E  kernel[0:1] (Sandbox) Sandbox: node(1) deny(1) mach-lookup com.apple.diagnosticd ` + tag, false, Violation{}},
		{`Filtering the log data using "eventMessage ENDSWITH \"` + tag + `\""`, false, Violation{}},
		{"", false, Violation{}},
	} {
		got, ok := ParseSeatbeltLog(tc.line, tag)
		if ok != tc.ok {
			t.Errorf("ParseSeatbeltLog(%q) ok = %v", tc.line, ok)
			continue
		}
		if diff := cmp.Diff(tc.want, got); ok && diff != "" {
			t.Errorf("ParseSeatbeltLog(%q) (-want +got):\n%s", tc.line, diff)
		}
	}
}

// TestSeatbeltProtectedPaths: protected paths are denied writes (Seatbelt
// matches paths, so a missing ~/.srt-settings.json cannot be created
// either), and neither they nor a directory above them can be renamed.
func TestSeatbeltProtectedPaths(t *testing.T) {
	p := macPolicy(func(p *Policy) {
		p.AllowWrite = []string{"/Users/me"}
		p.Protected = []ProtectedPath{{Path: "/Users/me/.srt-settings.json", Rule: "srt settings"}, {Path: "/Users/me/.local/bin", Rule: "persistence point"}}
	})
	got := SeatbeltProfile(p, SeatbeltOptions{Tag: "t"})
	for _, want := range []string{
		`(deny file-write* (subpath "/Users/me/.srt-settings.json")`,
		`(deny file-write* (subpath "/Users/me/.local/bin")`,
		`(deny file-write-unlink (subpath "/Users/me/.local/bin")`,
		`(deny file-write-unlink (literal "/Users/me/.local")`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("profile lacks %s", want)
		}
	}
	if strings.Index(got, `(deny file-write* (subpath "/Users/me/.local/bin")`) < strings.Index(got, `(allow file-write* (subpath "/Users/me")`) {
		t.Errorf("the deny must come after the allow (Seatbelt: the last matching rule wins)")
	}
}
