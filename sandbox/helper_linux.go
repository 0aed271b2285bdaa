package sandbox

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"
)

// HelperCommand is the hidden sub-command srt-mcp runs as inside bwrap. It
// is the only code that runs in the sandbox before the server: it applies
// seccomp and execs, so no helper binaries (socat, apply-seccomp) are needed.
const HelperCommand = "__exec"

// RunHelper is the body of "srt-mcp __exec [--allow-unix-sockets] -- CMD
// [ARG...]". It never returns on success. Any failure is reported on the
// ready pipe and stderr, and the server is not started: fail closed.
func RunHelper(args []string) int {
	runtime.LockOSThread() // the seccomp filter is per thread; exec from this one
	ready := os.NewFile(fdReady, "ready")
	fail := func(err error) int {
		msg := "srt-mcp: sandbox helper: " + err.Error()
		fmt.Fprintln(os.Stderr, msg)
		if ready != nil {
			fmt.Fprintln(ready, msg)
		}
		return ExitSandbox
	}
	var opt SeccompOptions
	for len(args) > 0 && args[0] != "--" {
		switch args[0] {
		case "--allow-unix-sockets":
			opt.AllowUnixSockets = true
		default:
			return fail(fmt.Errorf("unknown option %q", args[0]))
		}
		args = args[1:]
	}
	if len(args) < 2 {
		return fail(errors.New("no command given"))
	}
	argv := args[1:]
	path, err := exec.LookPath(argv[0])
	if err != nil {
		return fail(fmt.Errorf("%s: not found inside the sandbox (is it on PATH, and outside denyRead?): %w", argv[0], err))
	}
	// Nothing of ours may leak into the server: mark every inherited
	// descriptor above stderr close-on-exec (the ready pipe included, so the
	// shim sees it close at exec).
	if err := unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC); err != nil {
		return fail(fmt.Errorf("close_range: %w", err))
	}
	if err := installSeccomp(opt); err != nil {
		return fail(err)
	}
	if _, err := ready.WriteString("ok\n"); err != nil {
		return fail(fmt.Errorf("ready pipe: %w", err))
	}
	err = syscall.Exec(path, argv, os.Environ())
	// Still here: exec failed after "ok". The shim treats this exit as the
	// server's own failure, like a shell's 126.
	fmt.Fprintf(os.Stderr, "srt-mcp: exec %s: %v\n", path, err)
	return 126
}
