package sandbox

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime"

	"golang.org/x/sys/unix"
)

// RunHelper is the body of "srt-mcp __exec [--allow-unix-sockets]
// [--allow-listen] [--allow-ptrace] [--observe] -- CMD [ARG...]". bwrap
// runs it as the sandbox's PID 1 (--as-pid-1), so no process of bwrap's
// stays inside: bwrap's own init had no seccomp filter, was ptraceable by
// the server, and could be made to open the unix sockets the filter
// refuses (issue 11). The helper sets up the filters on all of its threads,
// starts the server as its child, and stays as a minimal init: it reaps
// orphans and ends with the server.
//
// Why the helper stays instead of exec'ing the server as PID 1: a PID
// namespace's init receives only the signals it has a handler for, so a
// server without a SIGTERM handler (most Node servers) would ignore the
// shim's SIGTERM, and orphaned grandchildren would stay zombies until the
// server exits. Staying costs one idle process, which carries the same
// filter as the server and is non-dumpable.
//
// Any failure before the server starts is reported on the ready pipe and
// stderr, and the server is not started: fail closed.
func RunHelper(args []string) int {
	runtime.LockOSThread() // the observing filter is installed on this thread first
	// Non-dumpable before anything else: the server runs as the same user,
	// and a dumpable process of that user could be opened through
	// /proc/1/mem, traced, or robbed of descriptors with pidfd_getfd by it.
	// The kernel refuses all of those on a non-dumpable process to anyone
	// without CAP_SYS_PTRACE over its user namespace, which the server never
	// has (bwrap drops every capability). This holds even with
	// srtMcp.allowPtrace. The server gets the usual dumpable flag back when
	// it execs.
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		fmt.Fprintf(os.Stderr, "srt-mcp: sandbox helper: prctl(PR_SET_DUMPABLE): %v\n", err)
		return ExitSandbox
	}
	// Signals for the sandbox arrive here (the shim signals PID 1); the
	// ones a server expects are passed on once it runs.
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, forwardedSignals...)
	ready := os.NewFile(fdReady, "ready")
	fail := func(err error) int {
		msg := "srt-mcp: sandbox helper: " + err.Error()
		if _, werr := fmt.Fprintln(ready, msg); werr != nil {
			fmt.Fprintln(os.Stderr, msg) // no shim reads the ready pipe: say it here (else the shim prints it, once)
		}
		return ExitSandbox
	}
	var opt SeccompOptions
	var limits helperLimits
	observe := false
	for len(args) > 0 && args[0] != "--" {
		switch args[0] {
		case "--allow-unix-sockets":
			opt.AllowUnixSockets = true
		case "--allow-listen":
			opt.AllowListen = true
		case "--allow-ptrace":
			opt.AllowPtrace = true
		case "--observe":
			observe = true
		case "--cgroup", "--nproc", "--data":
			if len(args) < 2 {
				return fail(fmt.Errorf("%s needs a value", args[0]))
			}
			if err := limits.flag(args[0], args[1]); err != nil {
				return fail(err)
			}
			args = args[1:]
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
		return fail(commandError(argv[0], err))
	}
	listeners, err := proxyListeners()
	if err != nil {
		return fail(err)
	}
	// Nothing of ours may leak into the server: mark every inherited
	// descriptor above stderr close-on-exec.
	if err := unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC); err != nil {
		return fail(fmt.Errorf("close_range: %w", err))
	}
	// Resource limits before anything of the server can run (limits_linux.go).
	if err := limits.apply(); err != nil {
		return fail(err)
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
	// TSYNC: from here on every thread of the helper, and so everything it
	// starts, carries both filters and no_new_privs.
	if err := installSeccomp(enforce); err != nil {
		return fail(err)
	}
	if err := handOver(listeners, notifyFD); err != nil {
		return fail(err)
	}
	server, err := os.StartProcess(path, argv, &os.ProcAttr{Env: os.Environ(), Files: []*os.File{os.Stdin, os.Stdout, os.Stderr}})
	if err != nil {
		return fail(fmt.Errorf("starting %s: %w", path, err))
	}
	if _, err := ready.WriteString("ok\n"); err != nil {
		// The shim is gone or broken: do not leave the server running.
		server.Kill()
		return fail(fmt.Errorf("ready pipe: %w", err))
	}
	ready.Close()
	go func() {
		for sig := range sigs {
			_ = server.Signal(sig)
		}
	}()
	return reap(server.Pid)
}

// forwardedSignals are passed on to the server. SIGKILL needs no
// forwarding: sent to PID 1 from outside, it ends the whole namespace.
var forwardedSignals = []os.Signal{unix.SIGHUP, unix.SIGINT, unix.SIGQUIT, unix.SIGTERM, unix.SIGUSR1, unix.SIGUSR2}

// reap waits for children until the server has exited and returns its
// status (128+N for signal N, as bwrap reports it). As PID 1 the helper
// inherits every orphan of the sandbox (a daemonising child of the server,
// for example); reaping them here keeps them from lingering as zombies.
// When the helper returns, the kernel kills whatever is left in the PID
// namespace: nothing outlives the server.
func reap(server int) int {
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, 0, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "srt-mcp: sandbox helper: wait: %v\n", err)
			return ExitSandbox
		}
		if pid != server {
			continue
		}
		if ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return ws.ExitStatus()
	}
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
