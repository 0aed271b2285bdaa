package main

import (
	"flag"
	"testing"

	"github.com/srt-mcp/srt-mcp/internal/clientconfig"
)

// TestVerifyKnowsRunFlags: verify rates an entry with a flag srt-mcp does
// not define as broken, so its list must be exactly srt-mcp's run flags.
func TestVerifyKnowsRunFlags(t *testing.T) {
	cmd, _ := newRunCommand()
	defined := map[string]bool{}
	cmd.VisitAll(func(f *flag.Flag) {
		defined[f.Name] = true
		takesValue, ok := clientconfig.RunFlags[f.Name]
		if !ok {
			t.Errorf("clientconfig.RunFlags lacks --%s", f.Name)
		} else if takesValue == isBool(f) {
			t.Errorf("clientconfig.RunFlags[%q] = %v, but the flag is bool: %v", f.Name, takesValue, isBool(f))
		}
	})
	for name := range clientconfig.RunFlags {
		if !defined[name] {
			t.Errorf("clientconfig.RunFlags has --%s, which srt-mcp does not define", name)
		}
	}
}
