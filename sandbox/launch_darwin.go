package sandbox

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
)

// The macOS backend: the server runs under sandbox-exec with a Seatbelt
// profile generated from the policy (SeatbeltProfile); the filtering
// proxies listen on the host's loopback, on ephemeral ports, and demand a
// per-run secret so that no other local process can use them; violations
// come from the unified log, picked out by the run's tag.
//
// No macOS machine was available to run this: it is built, vetted and
// unit-tested (profiles, log parsing, proxy authentication) on Linux. The
// README says so.

// Process is a server running under sandbox-exec.
type Process struct {
	cmd     *exec.Cmd
	monitor *exec.Cmd
	tmp     string
	h       *Handover
	// Mounts is unused on macOS (the profile is the plan).
	Mounts []Mount
	// Notices are facts about this launch for stderr.
	Notices []string
}

// Start runs the server under sandbox-exec.
func Start(spec Spec) (*Process, error) {
	sbx, err := exec.LookPath("sandbox-exec")
	if err != nil {
		return nil, &UnavailableError{Reason: "sandbox-exec is not available", Fix: "it ships with macOS in /usr/bin; check PATH"}
	}
	tag := "srt-mcp-" + randomHex(8)
	secret := randomHex(16)
	httpLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	socksLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		httpLn.Close()
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "srt-mcp-run-")
	if err != nil {
		httpLn.Close()
		socksLn.Close()
		return nil, err
	}
	httpPort := httpLn.Addr().(*net.TCPAddr).Port
	socksPort := socksLn.Addr().(*net.TCPAddr).Port
	profile := SeatbeltProfile(spec.Policy, SeatbeltOptions{Tag: tag, HTTPPort: httpPort, SOCKSPort: socksPort, TempDir: tmp})

	p := &Process{tmp: tmp, h: &Handover{HTTP: httpLn, SOCKS: socksLn, Secret: secret}}
	// Seatbelt has no resource controls and the macOS backend sets no
	// rlimits yet: say so rather than pretend.
	if l := spec.Policy.Limits.Effective(); l != (Limits{}) {
		p.Notices = append(p.Notices, "resource limits (srtMcp.limits) are not enforced on macOS")
	}
	cleanup := func() {
		httpLn.Close()
		socksLn.Close()
		os.RemoveAll(tmp)
	}
	// The log monitor starts before the server so that its first denials
	// are seen.
	if spec.Observe {
		mon := exec.Command("log", "stream", "--style", "compact", "--predicate", fmt.Sprintf(`eventMessage ENDSWITH "%s"`, tag))
		out, err := mon.StdoutPipe()
		if err == nil && mon.Start() == nil {
			p.monitor = mon
			p.h.Monitor = func(report func(Violation)) {
				sc := bufio.NewScanner(out)
				for sc.Scan() {
					if v, ok := ParseSeatbeltLog(sc.Text(), tag); ok {
						report(v)
					}
				}
			}
		}
	}
	args := append([]string{"-p", profile}, spec.Argv...)
	if spec.Trace != nil {
		fmt.Fprintf(spec.Trace, "srt-mcp: exec %s -p <profile> %s\nsrt-mcp: profile:\n%s", sbx, strings.Join(spec.Argv, " "), profile)
	}
	cmd := exec.Command(sbx, args...)
	cmd.Env = darwinEnv(spec.Env, httpPort, socksPort, secret, tmp)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = spec.Stdin, spec.Stdout, spec.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		cleanup()
		if p.monitor != nil {
			p.monitor.Process.Kill()
		}
		return nil, &UnavailableError{Reason: "starting sandbox-exec: " + err.Error()}
	}
	p.cmd = cmd
	return p, nil
}

// darwinEnv points the server at the proxies, with the run's secret in the
// proxy URLs (never on a command line), and at its private TMPDIR.
func darwinEnv(env []string, httpPort, socksPort int, secret, tmp string) []string {
	cred := "srt-mcp:" + secret + "@"
	httpProxy := fmt.Sprintf("http://%s127.0.0.1:%d", cred, httpPort)
	socks := fmt.Sprintf("socks5h://%s127.0.0.1:%d", cred, socksPort)
	set := map[string]string{
		"TMPDIR": tmp, "HTTP_PROXY": httpProxy, "HTTPS_PROXY": httpProxy, "http_proxy": httpProxy, "https_proxy": httpProxy,
		"ALL_PROXY": socks, "all_proxy": socks, "NO_PROXY": "localhost,127.0.0.1,::1", "no_proxy": "localhost,127.0.0.1,::1",
		"npm_config_proxy": httpProxy, "npm_config_https_proxy": httpProxy, "NODE_USE_ENV_PROXY": "1",
	}
	var out []string
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if _, overridden := set[k]; !overridden && k != "SSH_AUTH_SOCK" {
			out = append(out, kv)
		}
	}
	for k, v := range set {
		out = append(out, k+"="+v)
	}
	return out
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Ready: sandbox-exec applies the profile before it execs the server; if it
// cannot, it exits with its own error, which reaches the client as the
// server's exit.
func (p *Process) Ready() error { return nil }

// Handover returns the proxies' listeners, their secret and the monitor.
func (p *Process) Handover() (*Handover, error) { return p.h, nil }

// Wait waits for the server and returns its status (128+N for signal N).
func (p *Process) Wait() int {
	err := p.cmd.Wait()
	if p.monitor != nil {
		p.monitor.Process.Kill()
		p.monitor.Wait()
	}
	p.h.HTTP.Close()
	p.h.SOCKS.Close()
	os.RemoveAll(p.tmp)
	return exitStatus(err)
}

// Signal delivers sig to the server (sandbox-exec execs it: same process).
func (p *Process) Signal(sig syscall.Signal) error { return p.cmd.Process.Signal(sig) }

// Kill ends the server's whole process group. macOS has no parent-death
// signal: if srt-mcp itself is SIGKILLed, the server's group survives it
// (README, limitations).
func (p *Process) Kill() { syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL) }
