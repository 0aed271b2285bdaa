//go:build !unix

package sandbox

import "io/fs"

// fileOwner: systems without Unix uids have no sandbox backend (Start
// fails closed), so no launcher cache is ever prepared there.
func fileOwner(fs.FileInfo) (uid int, ok bool) { return 0, false }
