// Package statedir names srt-mcp's per-user state directory and what is
// in it (traces, tool pins, the argument-digest key) in one place, so that
// what the shim writes and what the policy protects (sandbox.StateDir) are
// the same directory. The packages that read and write those files
// (internal/trace, internal/pins) take a directory and do not import this
// one, so that they stay free of sandbox and sandbox can use their types.
package statedir

import (
	"os"
	"path/filepath"

	"github.com/srt-mcp/srt-mcp/sandbox"
)

// Path is sandbox.StateDir for this user: $XDG_STATE_HOME/srt-mcp, or
// ~/.local/state/srt-mcp. Without a home directory (and without an
// absolute XDG_STATE_HOME) it is a directory under the temporary
// directory, so that a run still has somewhere to write.
func Path() string {
	home, err := os.UserHomeDir()
	if err != nil && !filepath.IsAbs(os.Getenv("XDG_STATE_HOME")) {
		return filepath.Join(os.TempDir(), "srt-mcp-state")
	}
	return sandbox.StateDir(home)
}

// Traces is the default trace directory: Path()/traces.
func Traces() string { return filepath.Join(Path(), "traces") }

// Pins is the tool pins directory: Path()/pins.
func Pins() string { return filepath.Join(Path(), "pins") }

// DigestKey is the file holding the key of the argument digests.
func DigestKey() string { return filepath.Join(Path(), "digest.key") }
