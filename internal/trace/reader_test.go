package trace

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestReadServerNames: --server takes the name people see; the sanitised
// file name works too; two servers that share a file stay apart; an
// unknown name lists the known ones.
func TestReadServerNames(t *testing.T) {
	dir := t.TempDir()
	write := func(file string, lines ...string) {
		var b []byte
		for _, l := range lines {
			b = append(b, l+"\n"...)
		}
		if err := os.WriteFile(filepath.Join(dir, file), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// "mcp-servers/everything" and "mcp-servers_everything" share a file.
	write(FileName("mcp-servers/everything"),
		`{"server":"mcp-servers/everything","kind":"network","target":"a"}`,
		`{"server":"mcp-servers_everything","kind":"network","target":"b"}`)
	write(FileName("memory"), `{"server":"memory","kind":"fs-read","target":"c"}`)

	targets := func(rs []Record) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.Target)
		}
		return out
	}
	for _, tc := range []struct {
		server string
		want   []string
	}{
		{"", []string{"a", "b", "c"}},
		{"mcp-servers/everything", []string{"a"}},
		{"mcp-servers_everything", []string{"b"}},
		{"memory", []string{"c"}},
		{"memory.jsonl", []string{"c"}},
	} {
		rs, _, err := Read(dir, tc.server)
		if err != nil {
			t.Errorf("%q: %v", tc.server, err)
			continue
		}
		if diff := cmp.Diff(tc.want, targets(rs)); diff != "" {
			t.Errorf("%q (-want +got):\n%s", tc.server, diff)
		}
	}
	_, _, err := Read(dir, "everything")
	want := `no traces for server "everything"; servers with traces: mcp-servers/everything, mcp-servers_everything, memory`
	if !IsUnknownServer(err) || err.Error() != want {
		t.Errorf("unknown server: %v", err)
	}
	// A path-like name never reaches outside the directory.
	if _, _, err := Read(dir, "../"+filepath.Base(dir)+"/memory.jsonl"); !IsUnknownServer(err) {
		t.Errorf("path as a name: %v", err)
	}
}
