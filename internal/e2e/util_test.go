//go:build unix

package e2e

import (
	"os"
	"strconv"
	"syscall"
)

func itoa(i int) string { return strconv.Itoa(i) }

func statUID(st os.FileInfo) int { return int(st.Sys().(*syscall.Stat_t).Uid) }
