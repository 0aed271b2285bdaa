package sandbox

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestParseSettingsFullSrtConfig(t *testing.T) {
	// Every key of srt's documented settings format, as an srt user has it.
	data := `{
	  "network": {
	    "allowedDomains": ["github.com", "*.npmjs.org"],
	    "deniedDomains": ["evil.com"],
	    "allowUnixSockets": ["/var/run/docker.sock"],
	    "allowAllUnixSockets": false,
	    "allowLocalBinding": true
	  },
	  "filesystem": {
	    "denyRead": ["~/.ssh"],
	    "allowWrite": [".", "/tmp/out"],
	    "denyWrite": [".env"]
	  },
	  "ignoreViolations": {"*": ["/usr/bin"], "git push": ["/bin/sh"]},
	  "enableWeakerNestedSandbox": false,
	  "mandatoryDenySearchDepth": 5,
	  "allowPty": true,
	  "ripgrep": {"command": "rg"}
	}`
	s, err := ParseSettings("s.json", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	depth := 5
	want := &Settings{
		Network: NetworkSettings{
			AllowedDomains:    []string{"github.com", "*.npmjs.org"},
			DeniedDomains:     []string{"evil.com"},
			AllowUnixSockets:  []string{"/var/run/docker.sock"},
			AllowLocalBinding: true,
		},
		Filesystem: FilesystemSettings{
			DenyRead:   []string{"~/.ssh"},
			AllowWrite: []string{".", "/tmp/out"},
			DenyWrite:  []string{".env"},
		},
		IgnoreViolations:         map[string][]string{"*": {"/usr/bin"}, "git push": {"/bin/sh"}},
		MandatoryDenySearchDepth: &depth,
		AllowPty:                 true,
	}
	if diff := cmp.Diff(want, s, cmpopts.IgnoreUnexported(Settings{})); diff != "" {
		t.Errorf("settings (-want +got):\n%s", diff)
	}
}

func TestParseSettingsErrorsNameTheKey(t *testing.T) {
	for _, tc := range []struct{ name, data, want string }{
		{"typo top level", `{"netwrok": {}}`, `s.json: netwrok: unknown key (did you mean "network"?)`},
		{"typo nested", `{"filesystem": {"allowWrit": ["."]}}`, `s.json: filesystem.allowWrit: unknown key (did you mean "allowWrite"?)`},
		{"wrong case", `{"filesystem": {"denyread": ["~/.ssh"]}}`, `s.json: filesystem.denyread: unknown key (did you mean "denyRead"?)`},
		{"far off", `{"network": {"proxy": 1}}`, `s.json: network.proxy: unknown key (known keys here: allowedDomains,`},
		{"wrong type", `{"filesystem": {"denyRead": "~/.ssh"}}`, `s.json: filesystem.denyRead: want an array of strings, got a string`},
		{"wrong element type", `{"network": {"allowedDomains": ["a.com", 7]}}`, `s.json: network.allowedDomains[1]: want a string, got a number`},
		{"wrong bool", `{"allowPty": "yes"}`, `s.json: allowPty: want true or false, got a string`},
		{"unsupported", `{"network": {"httpProxyPort": 8080}}`, `s.json: network.httpProxyPort: not supported: srt-mcp always runs its own filtering proxy`},
		{"filesystem disabled", `{"filesystem": {"disabled": true}}`, `s.json: filesystem.disabled: not supported`},
		{"duplicate key", `{"filesystem": {"denyRead": ["~/.ssh"], "denyRead": []}}`, `s.json: filesystem.denyRead: key given twice`},
		{"depth range", `{"mandatoryDenySearchDepth": -1}`, `s.json: mandatoryDenySearchDepth: want a whole number from 0 to 32`},
		{"depth fraction", `{"mandatoryDenySearchDepth": 2.5}`, `s.json: mandatoryDenySearchDepth: want a whole number`},
		{"not an object", `[]`, `s.json: want an object, got an array`},
		{"bad json", `{"network": }`, `s.json: not valid JSON`},
		{"trailing data", `{} {}`, `s.json: not valid JSON: unexpected data`},
		{"empty path", `{"filesystem": {"allowWrite": [""]}}`, `s.json: filesystem.allowWrite[0]: empty string`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseSettings("s.json", []byte(tc.data))
			if err == nil {
				t.Fatalf("no error for %s", tc.data)
			}
			if !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("error\n got: %s\nwant: %s…", err, tc.want)
			}
		})
	}
}

func TestParseSettingsDuplicateKeysInDifferentObjectsAreFine(t *testing.T) {
	data := `{"network": {"allowedDomains": []}, "filesystem": {"allowWrite": [], "denyRead": []}, "ignoreViolations": {"a": [], "b": []}}`
	if _, err := ParseSettings("s.json", []byte(data)); err != nil {
		t.Fatal(err)
	}
}

func TestLayerProfileAndSettings(t *testing.T) {
	profile, err := ParseSettings("profile", []byte(`{
		"network": {"allowedDomains": ["registry.npmjs.org", "api.github.com"], "allowLocalBinding": true},
		"filesystem": {"allowWrite": [".", "~/.npm"], "denyRead": ["~/.ssh"]},
		"mcp": {"tools": {"deny": ["delete_*"]}}}`))
	if err != nil {
		t.Fatal(err)
	}
	over, err := ParseSettings("file", []byte(`{
		"network": {"allowedDomains": ["uploads.github.com"], "deniedDomains": ["api.github.com"], "allowLocalBinding": false},
		"filesystem": {"denyWrite": ["./secrets"]},
		"mcp": {"tools": {"allow": ["*"], "deny": ["push_*"]}, "pin": false}}`))
	if err != nil {
		t.Fatal(err)
	}
	got := Layer(profile, over)
	// Allow lists extend, deny lists tighten, given booleans replace.
	if diff := cmp.Diff([]string{"registry.npmjs.org", "api.github.com", "uploads.github.com"}, got.Network.AllowedDomains); diff != "" {
		t.Errorf("allowedDomains (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"api.github.com"}, got.Network.DeniedDomains); diff != "" {
		t.Errorf("deniedDomains (-want +got):\n%s", diff)
	}
	if got.Network.AllowLocalBinding {
		t.Error("allowLocalBinding: the file's false did not replace the profile's true")
	}
	if diff := cmp.Diff([]string{".", "~/.npm"}, got.Filesystem.AllowWrite); diff != "" {
		t.Errorf("allowWrite (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"./secrets"}, got.Filesystem.DenyWrite); diff != "" {
		t.Errorf("denyWrite (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"delete_*", "push_*"}, got.MCP.ToolsDeny); diff != "" {
		t.Errorf("tools.deny (-want +got):\n%s", diff)
	}
	if got.MCP.PinEnabled() {
		t.Error("mcp.pin false did not apply")
	}
	// The profile alone keeps what the file did not say.
	if !Layer(profile, &Settings{set: map[string]bool{}}).Network.AllowLocalBinding {
		t.Error("an empty file changed allowLocalBinding")
	}
	// And the deny wins in the network policy built from it.
	for _, tc := range []struct {
		tool string
		ok   bool
	}{{"delete_repo", false}, {"push_files", false}, {"get_issue", true}} {
		if ok, rule := got.MCP.ToolAllowed(tc.tool); ok != tc.ok {
			t.Errorf("ToolAllowed(%s) = %v (%s)", tc.tool, ok, rule)
		}
	}
}

func TestParseSrtMCPSection(t *testing.T) {
	s, err := ParseSettings("s.json", []byte(`{"srtMcp": {"allowPtrace": true, "limits": {"processes": 64, "memoryMB": 0}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if !s.SrtMCP.AllowPtrace || s.SrtMCP.Limits.Processes == nil || *s.SrtMCP.Limits.Processes != 64 ||
		s.SrtMCP.Limits.MemoryMB == nil || *s.SrtMCP.Limits.MemoryMB != 0 || s.SrtMCP.Limits.TmpMB != nil {
		t.Errorf("srtMcp = %+v", s.SrtMCP)
	}
	for body, wantKey := range map[string]string{
		`{"srtMcp": {"allowPtrac": true}}`:          "srtMcp.allowPtrac",
		`{"srtMcp": {"limits": {"procs": 1}}}`:      "srtMcp.limits.procs",
		`{"srtMcp": {"limits": {"processes": -1}}}`: "srtMcp.limits.processes",
		`{"srtMcp": {"limits": {"memoryMB": 100}}}`: "srtMcp.limits.memoryMB",
	} {
		_, err := ParseSettings("s.json", []byte(body))
		if err == nil || !strings.Contains(err.Error(), wantKey) {
			t.Errorf("%s: error %v, want it to name %s", body, err, wantKey)
		}
	}
	base, _ := ParseSettings("p", []byte(`{"srtMcp": {"limits": {"processes": 10, "tmpMB": 5}}}`))
	over, _ := ParseSettings("s", []byte(`{"srtMcp": {"limits": {"processes": 20}}}`))
	l := Layer(base, over).SrtMCP.Limits
	if *l.Processes != 20 || *l.TmpMB != 5 {
		t.Errorf("layered limits = %d, %d; want 20, 5", *l.Processes, *l.TmpMB)
	}
}
