package sandbox

import (
	"bufio"
	"net"
	"sort"

	"encoding/json"
	"errors"
	"fmt"
	"golang.org/x/sys/unix"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
)

// Process is a running sandbox.
type Process struct {
	cmd   *exec.Cmd
	ready *os.File

	statusOnce sync.Once
	status     *os.File
	net        *os.File // host end of the socketpair for the proxy listeners

	// Mounts is the filesystem view the sandbox was built with, for judging
	// observed accesses.
	Mounts  []Mount
	initPID int // host PID of the sandbox's PID 1 (srt-mcp's helper)
	// serverUp is set once the helper has reported the server started.
	// Before the helper runs, PID 1 is bwrap setting up, which, as a PID
	// namespace's init without handlers, would silently drop a signal.
	serverUp atomic.Bool

	// Notices are facts about this launch for stderr (limits the machine
	// cannot enforce).
	Notices []string
	limits  *limitSetup

	protection *Protection // what the seccomp broker refuses
}

// Start launches the server inside bubblewrap. It returns once bwrap runs;
// call Ready to learn whether the sandbox was set up and the server exec'd.
func Start(spec Spec) (*Process, error) {
	bwrap, err := lookBwrap()
	if err != nil {
		return nil, &UnavailableError{
			Reason: "bubblewrap (bwrap) is not installed",
			Fix:    "install it: sudo apt install bubblewrap (Debian/Ubuntu), sudo dnf install bubblewrap (Fedora), sudo pacman -S bubblewrap (Arch)",
		}
	}
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("locating srt-mcp's own executable: %w", err)
	}
	selfFile, err := os.Open(self)
	if err != nil {
		return nil, fmt.Errorf("opening srt-mcp's own executable: %w", err)
	}
	defer selfFile.Close()
	statusR, statusW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer statusW.Close()
	readyR, readyW, err := os.Pipe()
	if err != nil {
		statusR.Close()
		return nil, err
	}
	defer readyW.Close()
	// Created here, on the host: inside the sandbox seccomp forbids new
	// unix sockets, and the helper only needs to send on this one.
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		statusR.Close()
		readyR.Close()
		return nil, fmt.Errorf("socketpair: %w", err)
	}
	netHost, netChild := os.NewFile(uintptr(pair[0]), "net-host"), os.NewFile(uintptr(pair[1]), "net-child")
	defer netChild.Close()

	// bwrap reads its options from a pipe (--args): its argv, which
	// /proc/PID/cmdline shows to anyone who can see the process, would
	// otherwise list every masked credential file and the whole policy.
	argsR, argsW, err := os.Pipe()
	if err != nil {
		statusR.Close()
		readyR.Close()
		netHost.Close()
		return nil, err
	}
	defer argsR.Close()
	extra := []*os.File{selfFile, statusW, readyW, netChild, argsR}
	var dataFiles []*os.File
	defer func() {
		for _, f := range dataFiles {
			f.Close()
		}
	}()
	nextData := func() int {
		f, err := os.Open(os.DevNull) // reads as empty
		if err != nil {
			panic(err) // /dev/null must exist
		}
		dataFiles = append(dataFiles, f)
		extra = append(extra, f)
		return fdFirstData + len(dataFiles) - 1
	}
	mounts := spec.Policy.Mounts()
	opts := bwrapArgs(spec.Policy, mounts, nextData)
	if n := len(opts); n > 0 && opts[n-1] == "--" {
		opts = opts[:n-1] // the "--" before the command stays on the command line
	}
	helper := []string{"/proc/self/fd/" + strconv.Itoa(fdSelf), HelperCommand}
	limits, err := setupLimits(spec.Policy.Limits.Effective(), bwrap)
	if err != nil {
		statusR.Close()
		readyR.Close()
		netHost.Close()
		argsR.Close()
		argsW.Close()
		return nil, &UnavailableError{Reason: "resource limits: " + err.Error(), Fix: "set srtMcp.limits.processes and srtMcp.limits.memoryMB to 0 to start without them"}
	}
	defer limits.closeFiles()
	helper = append(helper, limits.helperArgs(func(f *os.File) int {
		extra = append(extra, f)
		return 3 + len(extra) - 1 // ExtraFiles[i] is descriptor 3+i
	})...)
	if spec.Policy.Network.AllowAllUnixSockets {
		helper = append(helper, "--allow-unix-sockets")
	}
	if spec.Policy.Network.AllowLocalBinding {
		helper = append(helper, "--allow-listen")
	}
	if spec.Policy.AllowPtrace {
		helper = append(helper, "--allow-ptrace")
	}
	if spec.Observe {
		helper = append(helper, "--observe")
	}
	helper = append(append(helper, "--"), spec.Argv...)
	args := append([]string{"--args", strconv.Itoa(fdArgs), "--"}, helper...)
	if spec.Trace != nil {
		fmt.Fprintf(spec.Trace, "srt-mcp: exec %s %s (--args: %s)\n", bwrap, shellQuote(args), shellQuote(opts))
	}
	cmd := exec.Command(bwrap, args...)
	cmd.Env = sandboxEnv(spec.Env, self)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = spec.Stdin, spec.Stdout, spec.Stderr
	cmd.ExtraFiles = extra
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Setpgid:   true, // a Ctrl-C in a terminal goes to srt-mcp, which forwards it
		Pdeathsig: syscall.SIGKILL,
	}
	if err := cmd.Start(); err != nil {
		statusR.Close()
		readyR.Close()
		netHost.Close()
		argsW.Close()
		limits.release()
		return nil, &UnavailableError{Reason: "starting bubblewrap: " + err.Error()}
	}
	// Written while bwrap reads (the options can outgrow a pipe's buffer).
	// If bwrap dies first, the write fails on the closed pipe and ends.
	go func() {
		defer argsW.Close()
		var b strings.Builder
		for _, o := range opts {
			b.WriteString(o)
			b.WriteByte(0)
		}
		_, _ = io.WriteString(argsW, b.String())
	}()
	proc := &Process{cmd: cmd, ready: readyR, status: statusR, net: netHost, Mounts: mounts, limits: limits, protection: spec.Policy.Protection()}
	if limits != nil && len(limits.cgroups) > 0 {
		go func() { limits.adopt(proc.sandboxInit()) }()
	}
	limits.noteHostTmp(mounts)
	if n := limits.enforce.notice(); n != "" {
		proc.Notices = append(proc.Notices, n)
	}
	return proc, nil
}

// lookBwrap finds bubblewrap on PATH, taking only absolute directories:
// a relative entry (".", "", node_modules/.bin) names whatever directory
// srt-mcp happens to start in, which may be one a sandboxed server could
// write, and bwrap runs outside the sandbox. PATH directories inside
// writable roots are protected paths (protected.go) for the same reason.
func lookBwrap() (string, error) {
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		if !filepath.IsAbs(dir) {
			continue
		}
		path := filepath.Join(dir, "bwrap")
		if st, err := os.Stat(path); err == nil && st.Mode().IsRegular() && st.Mode().Perm()&0o111 != 0 {
			return path, nil
		}
	}
	return "", exec.ErrNotFound
}

// Handover blocks until the helper has sent its descriptors, or is gone.
func (p *Process) Handover() (*Handover, error) {
	defer p.net.Close()
	buf := make([]byte, 1)
	oob := make([]byte, unix.CmsgSpace(3*4))
	n, oobn, _, _, err := unix.Recvmsg(int(p.net.Fd()), buf, oob, unix.MSG_CMSG_CLOEXEC)
	if err != nil || n == 0 {
		return nil, fmt.Errorf("the sandbox did not hand over its descriptors (%v)", err)
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		return nil, fmt.Errorf("sandbox handover: bad control message (%v)", err)
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	want := 2
	if buf[0] == 'N' {
		want = 3
	}
	if err != nil || len(fds) != want {
		for _, fd := range fds {
			unix.Close(fd)
		}
		return nil, fmt.Errorf("sandbox handover: want %d descriptors, got %d (%v)", want, len(fds), err)
	}
	h := &Handover{}
	closeAll := func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
		for _, l := range []net.Listener{h.HTTP, h.SOCKS} {
			if l != nil {
				l.Close()
			}
		}
	}
	for i, dst := range []*net.Listener{&h.HTTP, &h.SOCKS} {
		f := os.NewFile(uintptr(fds[i]), "proxy-listener")
		l, err := net.FileListener(f) // dups the descriptor
		f.Close()
		fds[i] = -1
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("proxy listener: %w", err)
		}
		*dst = l
	}
	if want == 3 {
		sup, err := NewSupervisor(fds[2], p.protection)
		if err != nil {
			// Without a supervisor every observed syscall in the sandbox
			// would block: closing the listener makes them fail (ENOSYS).
			closeAll()
			return nil, err
		}
		h.Supervisor = sup
	}
	return h, nil
}

// Ready blocks until the helper inside the sandbox reports that seccomp is
// in place and it is about to exec the server, or until setup failed. A
// non-nil error means the server never ran.
func (p *Process) Ready() error {
	defer p.ready.Close()
	line, err := bufio.NewReader(p.ready).ReadString('\n')
	if line == "ok\n" {
		p.serverUp.Store(true)
		return nil
	}
	if line != "" {
		return &UnavailableError{Reason: strings.TrimSpace(strings.TrimPrefix(line, "srt-mcp: "))}
	}
	if err != nil && err != io.EOF {
		return err
	}
	return &UnavailableError{Reason: "bubblewrap could not set up the sandbox (see its message above)"}
}

// Wait waits for the sandbox to end and returns the server's exit status,
// 128+N when it died of signal N.
func (p *Process) Wait() int {
	err := p.cmd.Wait()
	p.status.Close()
	// bwrap has exited, and with its PID namespace every process of the
	// sandbox: the cgroups are empty.
	p.limits.release()
	return exitStatus(err)
}

// Signal delivers sig to the sandbox's PID 1, srt-mcp's helper, which
// passes it on to the server (a PID namespace's init only receives the
// signals it handles, so the server itself, not being PID 1, keeps the
// usual default actions). bwrap does not forward signals itself.
func (p *Process) Signal(sig syscall.Signal) error {
	init := p.sandboxInit()
	// The helper catches these signals before it starts the server, so
	// once the server exists (it is PID 1's only child at first) a signal
	// to PID 1 reaches it. Its "ok" on the ready pipe may not have been
	// read yet when the server is already up and talking, hence the look at
	// PID 1's children.
	if init <= 0 || !p.serverUp.Load() && !hasChild(init) {
		// Not started yet or already gone: nothing gentle to do.
		return errors.New("server process not running")
	}
	return syscall.Kill(init, sig)
}

// hasChild reports whether process pid (a thread group) has a child.
func hasChild(pid int) bool {
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return false
	}
	for _, t := range tasks {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/children", pid, t.Name()))
		if err != nil {
			return hasChildScan(pid) // a kernel without CONFIG_PROC_CHILDREN
		}
		if len(strings.Fields(string(data))) > 0 {
			return true
		}
	}
	return false
}

// hasChildScan looks for a process whose parent is pid.
func hasChildScan(pid int) bool {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may contain spaces, so cut at ')'.
		s := string(stat)
		if i := strings.LastIndexByte(s, ')'); i > 0 {
			if f := strings.Fields(s[i+1:]); len(f) > 1 && f[1] == strconv.Itoa(pid) {
				return true
			}
		}
	}
	return false
}

// Kill ends every process in the sandbox at once: SIGKILL to the PID
// namespace's init makes the kernel kill the whole namespace.
func (p *Process) Kill() {
	if init := p.sandboxInit(); init > 0 {
		_ = syscall.Kill(init, syscall.SIGKILL)
	}
	_ = p.cmd.Process.Kill()
}

// sandboxInit reads bwrap's first status line, {"child-pid": N}: the host
// PID of the sandbox's PID 1, the helper (bwrap runs with --as-pid-1).
func (p *Process) sandboxInit() int {
	p.statusOnce.Do(func() {
		var st struct {
			ChildPID int `json:"child-pid"`
		}
		line, _ := bufio.NewReader(p.status).ReadBytes('\n')
		if json.Unmarshal(line, &st) == nil {
			p.initPID = st.ChildPID
		}
	})
	return p.initPID
}

// sandboxEnv adjusts the server's environment. TMPDIR points at the
// private /tmp that exists inside. Variables naming host sockets the server
// can no longer reach are dropped, so tools fail fast instead of timing out.
// The proxy variables send every common HTTP stack to the filtering
// proxies; a program that ignores them has no other route out and fails.
func sandboxEnv(env []string, self string) []string {
	set := proxyEnv(self)
	drop := map[string]bool{"SSH_AUTH_SOCK": true, "GPG_AGENT_INFO": true, "DBUS_SESSION_BUS_ADDRESS": true}
	out := make([]string, 0, len(env)+len(set))
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if _, overridden := set[k]; !overridden && !drop[k] {
			out = append(out, kv)
		}
	}
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		out = append(out, k+"="+set[k])
	}
	return out
}

// proxyEnv is what the server is told about its network. self is srt-mcp's
// path on the host, used for ssh's ProxyCommand when the sandbox can see it.
func proxyEnv(self string) map[string]string {
	httpProxy := "http://" + ProxyHTTPAddr
	socks := "socks5h://" + ProxySOCKSAddr
	noProxy := "localhost,127.0.0.1,::1"
	env := map[string]string{
		"TMPDIR":      "/tmp",
		"HTTP_PROXY":  httpProxy,
		"HTTPS_PROXY": httpProxy,
		"ALL_PROXY":   socks,
		"NO_PROXY":    noProxy,
		"http_proxy":  httpProxy,
		"https_proxy": httpProxy,
		"all_proxy":   socks,
		"no_proxy":    noProxy,
		// npm reads these before the variables above.
		"npm_config_proxy":       httpProxy,
		"npm_config_https_proxy": httpProxy,
		// Node's built-in fetch honours the proxy variables only with this
		// (Node 22.21+ and 24+); older Node fetch finds no route and fails.
		"NODE_USE_ENV_PROXY": "1",
	}
	// git over ssh through the SOCKS proxy, with srt-mcp as the
	// ProxyCommand (no nc or socat needed), when its path is visible inside:
	// not under the private /tmp.
	if self != "" && !strings.HasPrefix(self, "/tmp/") && !strings.ContainsAny(self, " '\"$`\\") {
		env["GIT_SSH_COMMAND"] = fmt.Sprintf("ssh -o ProxyCommand='%s %s %s %%h %%p'", self, ConnectCommand, ProxySOCKSAddr)
	}
	return env
}

func shellQuote(args []string) string {
	var b strings.Builder
	for i, a := range args {
		if i > 0 {
			b.WriteByte(' ')
		}
		if a != "" && !strings.ContainsAny(a, " \t\n'\"\\$`!*?[]{}()<>|&;#~") {
			b.WriteString(a)
			continue
		}
		b.WriteString("'" + strings.ReplaceAll(a, "'", `'\''`) + "'")
	}
	return b.String()
}
