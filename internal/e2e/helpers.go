//go:build unix

package e2e

import (
	"os"
	"strconv"
	"syscall"
)

func itoa(i int) string { return strconv.Itoa(i) }

// statUID is the owner of a file the test stat'ed.
func statUID(st os.FileInfo) int { return int(st.Sys().(*syscall.Stat_t).Uid) }
