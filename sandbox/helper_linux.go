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
	observe := false
	for len(args) > 0 && args[0] != "--" {
		switch args[0] {
		case "--allow-unix-sockets":
			opt.AllowUnixSockets = true
		case "--allow-listen":
			opt.AllowListen = true
		case "--observe":
			observe = true
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
	listeners, err := proxyListeners()
	if err != nil {
		return fail(err)
	}
	// Nothing of ours may leak into the server: mark every inherited
	// descriptor above stderr close-on-exec (the ready pipe included, so the
	// shim sees it close at exec).
	if err := unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC); err != nil {
		return fail(fmt.Errorf("close_range: %w", err))
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fail(fmt.Errorf("prctl(PR_SET_NO_NEW_PRIVS): %w", err))
	}
	// The notifying filter first (its broker is what protects .git,
	// .mcp.json and the rest, so it is not optional: no filter, no server).
	// --observe only adds the calls that are reported, not brokered.
	notifyFD, err := installNotify(observe, observe && !opt.AllowUnixSockets)
	if err != nil {
		return fail(fmt.Errorf("%w; fix: run on Linux 5.14 or newer with seccomp user notification (srt-mcp needs it to keep protected paths such as .git/hooks from being created)", err))
	}
	enforce := opt
	if observe {
		enforce.AllowUnixSockets = true // refused by the supervisor instead, and reported
	}
	if err := installSeccomp(enforce); err != nil {
		return fail(err)
	}
	if err := handOver(listeners, notifyFD); err != nil {
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

// Loopback addresses inside the sandbox where the proxies answer. The
// sandbox has its own network namespace, so fixed ports cannot clash with
// anything on the host.
const (
	ProxyHTTPAddr  = "127.0.0.1:3128"
	ProxySOCKSAddr = "127.0.0.1:1080"
)

// proxyListeners creates the proxies' listening sockets inside the
// sandbox's network namespace.
func proxyListeners() ([]int, error) {
	var fds []int
	for _, port := range []int{3128, 1080} {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return nil, fmt.Errorf("proxy listener: %w", err)
		}
		fds = append(fds, fd)
		if err := unix.Bind(fd, &unix.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}}); err != nil {
			return nil, fmt.Errorf("proxy listener on 127.0.0.1:%d: %w", port, err)
		}
		if err := unix.Listen(fd, 4096); err != nil {
			return nil, fmt.Errorf("proxy listener: %w", err)
		}
	}
	return fds, nil
}

// handOver sends the proxy listeners, and the observing filter's listener
// when there is one, to srt-mcp on the host over the inherited socketpair,
// and keeps no copy. The host accepts connections on the proxy sockets
// directly: no forwarding process stays in the sandbox, and no socket file
// of the host is visible inside.
func handOver(listeners []int, notifyFD int) error {
	fds, tag := listeners, []byte{'L'}
	if notifyFD >= 0 {
		fds, tag = append(append([]int(nil), listeners...), notifyFD), []byte{'N'}
	}
	err := unix.Sendmsg(fdNet, tag, unix.UnixRights(fds...), nil, 0)
	for _, fd := range fds {
		unix.Close(fd)
	}
	unix.Close(fdNet)
	if err != nil {
		return fmt.Errorf("handing the proxy listeners to srt-mcp: %w", err)
	}
	return nil
}
