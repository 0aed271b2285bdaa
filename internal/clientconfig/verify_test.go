package clientconfig

import (
	"os"
	"path/filepath"
	"testing"
)

// TestVerify: classification, a dry run that writes nothing, a fix that
// reports the file as rewritten, and errors per file.
func TestVerify(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, ".mcp.json")
	orig := `{"mcpServers": {"mem": {"command": "mcp-server-memory"}}}`
	if err := os.WriteFile(cfg, []byte(orig), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.json")
	opt := VerifyOptions{Files: []string{cfg}, Home: dir, Cwd: dir, SrtMCP: "srt-mcp"}

	v := Verify(opt)
	if len(v.Servers) != 1 || v.Servers[0].Status != Unsandboxed || v.Bad() != 1 || len(v.Changes) != 0 || len(v.Errors) != 0 {
		t.Fatalf("plain verify: %+v, %d bad", v, v.Bad())
	}

	opt.DryRun = true
	v = Verify(opt)
	if len(v.Changes) != 1 || v.Changes[0].Backup != "" || v.Changes[0].Diff == "" || v.Bad() != 1 {
		t.Fatalf("dry run: %+v", v)
	}
	if b, _ := os.ReadFile(cfg); string(b) != orig {
		t.Fatalf("dry run wrote %s", b)
	}

	opt.DryRun, opt.Fix = false, true
	opt.Files = append(opt.Files, missing)
	v = Verify(opt)
	if len(v.Changes) != 1 || v.Changes[0].Backup == "" || len(v.Changes[0].Fixed) != 1 || v.Changes[0].Fixed[0] != "mem" {
		t.Fatalf("fix: changes %+v", v.Changes)
	}
	if v.Bad() != 0 || v.Servers[0].Status != Sandboxed {
		t.Errorf("fix: the file is not reported as rewritten: %+v", v.Servers[0])
	}
	if len(v.Errors) != 1 || v.Errors[0].File != missing {
		t.Errorf("an explicitly named missing file is an error: %+v", v.Errors)
	}
}
