//go:build unix

package sandbox

import (
	"io/fs"
	"syscall"
)

// fileOwner is the uid that owns the file fi describes; ok is false where
// the system does not say.
func fileOwner(fi fs.FileInfo) (uid int, ok bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return int(st.Uid), true
}
