package selftest

import "testing"

func TestCulpritsNameRows(t *testing.T) {
	known := map[string]bool{}
	for _, r := range rows {
		known[r.protection] = true
	}
	for p := range culprits {
		if !known[p] {
			t.Errorf("culprits names %q, which is no row", p)
		}
	}
}

func TestFailHint(t *testing.T) {
	user := layer{"/home/u/root.json", []byte(`{"filesystem": {"allowWrite": ["/"], "allowRead": []}, "enableWeakerNestedSandbox": false}`)}
	profile := layer{"built-in profile git", []byte(`{"srtMcp": {"allowPtrace": true}}`)}
	for _, tc := range []struct {
		protection, static string
		layers             []layer
		want               string
	}{
		{"write outside allowWrite", "static", []layer{user},
			`set by the policy: filesystem.allowWrite is ["/"] in /home/u/root.json (static)`},
		// Set to false or empty: not the cause.
		{"visibility of host processes", "enableWeakerNestedSandbox binds the host's /proc", []layer{user},
			"enableWeakerNestedSandbox binds the host's /proc (the policy does not set enableWeakerNestedSandbox: look at the machine)"},
		{"read of a denyRead path", "static", []layer{user},
			"static (the policy does not set filesystem.allowRead: look at the machine)"},
		{"ptrace of a process in the sandbox (PID 1 and a sibling)", "static", []layer{profile, user},
			"set by the policy: srtMcp.allowPtrace is true in built-in profile git (static)"},
		{"DNS lookup", "the sandbox can reach a DNS server", []layer{user}, "the sandbox can reach a DNS server"},
	} {
		if got := failHint(tc.protection, tc.static, tc.layers); got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.protection, got, tc.want)
		}
	}
}
