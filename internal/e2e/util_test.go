//go:build unix

package e2e

import (
	"os"
	"strconv"
	"syscall"
	"testing"

	"github.com/srt-mcp/srt-mcp/internal/testbin"
)

func itoa(i int) string { return strconv.Itoa(i) }

func statUID(st os.FileInfo) int { return int(st.Sys().(*syscall.Stat_t).Uid) }

func testbinProbe(t *testing.T) string { return testbin.Probe(t) }

func testbinRequireBwrap(t *testing.T) { testbin.RequireBwrap(t) }
