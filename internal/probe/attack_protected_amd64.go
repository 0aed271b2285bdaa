//go:build linux && amd64

package probe

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// legacyOp runs the pre-*at system calls amd64 still has: a filter that
// watches only openat, renameat2 … would miss them.
func legacyOp(op, a, b string) error {
	pa, err := unix.BytePtrFromString(a)
	if err != nil {
		return err
	}
	pb, _ := unix.BytePtrFromString(b)
	call := func(nr uintptr, args ...uintptr) (uintptr, error) {
		var x [3]uintptr
		copy(x[:], args)
		r, _, errno := unix.Syscall(nr, x[0], x[1], x[2])
		if errno != 0 {
			return 0, errno
		}
		return r, nil
	}
	write := func(fd uintptr) error { return writeAll(int(fd), b) }
	switch op {
	case "legacy_open":
		fd, err := call(unix.SYS_OPEN, uintptr(unsafe.Pointer(pa)), unix.O_CREAT|unix.O_WRONLY|unix.O_TRUNC|unix.O_CLOEXEC, 0o755)
		if err != nil {
			return err
		}
		return write(fd)
	case "legacy_creat":
		fd, err := call(unix.SYS_CREAT, uintptr(unsafe.Pointer(pa)), 0o755)
		if err != nil {
			return err
		}
		return write(fd)
	case "legacy_mkdir":
		_, err := call(unix.SYS_MKDIR, uintptr(unsafe.Pointer(pa)), 0o755)
		return err
	case "legacy_rename":
		_, err := call(unix.SYS_RENAME, uintptr(unsafe.Pointer(pa)), uintptr(unsafe.Pointer(pb)))
		return err
	case "legacy_link":
		_, err := call(unix.SYS_LINK, uintptr(unsafe.Pointer(pa)), uintptr(unsafe.Pointer(pb)))
		return err
	case "legacy_symlink":
		_, err := call(unix.SYS_SYMLINK, uintptr(unsafe.Pointer(pa)), uintptr(unsafe.Pointer(pb)))
		return err
	case "legacy_chmod":
		_, err := call(unix.SYS_CHMOD, uintptr(unsafe.Pointer(pa)), uintptr(mode(b)))
		return err
	case "legacy_unlink":
		_, err := call(unix.SYS_UNLINK, uintptr(unsafe.Pointer(pa)))
		return err
	}
	return fmt.Errorf("unknown op %q", op)
}
