package sandbox

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// absolute turns a path argument into an absolute path in the process's
// view, using its working directory or the directory descriptor. The
// kernel prints /proc/PID/cwd and /proc/PID/fd/N relative to the
// sandbox's root (it is not under ours), which for srt-mcp's same-path
// binds is also the host path.
func absolute(pid, dirfd int, path string) string {
	if filepath.IsAbs(path) {
		return filepath.Clean(path)
	}
	base, err := dirPath(pid, dirfd)
	if err != nil {
		return path
	}
	return filepath.Join(base, path)
}

// dirPath is the sandbox-view path of the working directory (AT_FDCWD) or
// of directory descriptor dirfd of process pid.
func dirPath(pid, dirfd int) (string, error) {
	if dirfd == unix.AT_FDCWD {
		return os.Readlink("/proc/" + strconv.Itoa(pid) + "/cwd")
	}
	return os.Readlink("/proc/" + strconv.Itoa(pid) + "/fd/" + strconv.Itoa(dirfd))
}

// readString reads a NUL-terminated string of at most PATH_MAX bytes from
// another process, page by page so that a string ending near the end of a
// mapping does not fail the read.
func readString(pid int, addr uintptr) (string, error) {
	var out []byte
	for len(out) < unix.PathMax {
		chunk := 4096 - int(addr%4096) // stay within one page per read
		b, err := readBytes(pid, addr, chunk)
		if err != nil {
			return "", err
		}
		for i, c := range b {
			if c == 0 {
				return string(append(out, b[:i]...)), nil
			}
		}
		out = append(out, b...)
		addr += uintptr(chunk)
	}
	return "", errors.New("path longer than PATH_MAX")
}

func readBytes(pid int, addr uintptr, n int) ([]byte, error) {
	b := make([]byte, n)
	local := []unix.Iovec{{Base: &b[0], Len: uint64(n)}}
	remote := []unix.RemoteIovec{{Base: addr, Len: n}}
	got, err := unix.ProcessVMReadv(pid, local, remote, 0)
	if err != nil {
		return nil, err
	}
	return b[:got], nil
}
