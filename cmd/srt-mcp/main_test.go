package main

import (
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/srt-mcp/srt-mcp/internal/testbin"
)

func TestMain(m *testing.M) { testbin.Main(m) }

// TestScripts runs the CLI end to end: the real srt-mcp binary, real
// bubblewrap, scripts in testdata/script.
func TestScripts(t *testing.T) {
	dir := testbin.Dir(t)
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("PATH", dir+string(os.PathListSeparator)+env.Getenv("PATH"))
			env.Setenv("XDG_STATE_HOME", env.WorkDir+"/.state")
			return nil
		},
	})
}
