package clientconfig

import (
	"strings"
	"testing"

	"github.com/srt-mcp/srt-mcp/sandbox"
)

func TestSharedLauncherCachesIsWeak(t *testing.T) {
	st, err := sandbox.ParseSettings("s.json", []byte(`{"srtMcp": {"sharedLauncherCaches": true}}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(weaknesses(st, "/home/u"), "; "); !strings.Contains(got, "srtMcp.sharedLauncherCaches") {
		t.Errorf("weaknesses = %q", got)
	}
}
