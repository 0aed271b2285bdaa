package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/srt-mcp/srt-mcp/internal/testbin"
)

// TestSelftestCatchesNoTmpLimit: with srtMcp.limits.tmpMB at 0 the
// resource-limits row fails (the /tmp filler writes 576 MiB, the cheapest
// of the three bombs to let through) and its hint names the setting.
func TestSelftestCatchesNoTmpLimit(t *testing.T) {
	f := filepath.Join(testbin.HostTempDir(t), "notmp.json")
	os.WriteFile(f, []byte(`{"srtMcp": {"limits": {"tmpMB": 0}}}`), 0o644)
	res, code := runSelftestBinary(t, "--settings", f)
	const row = "resource limits (processes, memory, /tmp size)"
	for _, r := range res.Rows {
		if r.Protection != row {
			continue
		}
		if r.Result != "FAIL" || !strings.Contains(r.Hint, "tmpMB") || !strings.Contains(r.Detail, "wrote 576 of 576 MiB") {
			t.Errorf("row = %+v, want FAIL naming tmpMB", r)
		}
		if code != 1 {
			t.Errorf("exit %d, want 1", code)
		}
		return
	}
	t.Errorf("no %q row in %+v", row, res.Rows)
}
