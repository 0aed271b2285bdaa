//go:build unix

package e2e

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/srt-mcp/srt-mcp/internal/testbin"
)

// hostServers are services on the host's loopback that the sandboxed
// server may or may not reach through the proxies.
type hostServers struct {
	web, tls, echo string // host:port
	webHits        atomic.Int32
}

func startHostServers(t *testing.T) *hostServers {
	t.Helper()
	h := &hostServers{}
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.webHits.Add(1)
		fmt.Fprint(w, "hello from the host")
	}))
	t.Cleanup(web.Close)
	tlsWeb := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "hello over tls") }))
	t.Cleanup(tlsWeb.Close)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(c, c); c.Close() }()
		}
	}()
	h.web, h.tls, h.echo = web.Listener.Addr().String(), tlsWeb.Listener.Addr().String(), ln.Addr().String()
	return h
}

func port(addr string) string { _, p, _ := net.SplitHostPort(addr); return p }

func TestNetworkThroughTheProxies(t *testing.T) {
	h := startHostServers(t)
	w := newWorld(t)
	// "localhost" named exactly: the only way a name may reach a loopback
	// address (the destination guard).
	s := w.settings(t, `{"network": {"allowedDomains": ["localhost"], "deniedDomains": ["denied.example"],
		"deniedDomainReasons": {"denied.example": "known exfiltration host"}}}`)
	c := connect(t, w, "--settings", s)

	// HTTP, CONNECT and SOCKS5 to the allowed host all arrive.
	get := func(url, proxy string) string {
		return mustSucceed(t, c, "GET "+url+" via "+proxy, "http_get", map[string]any{"url": url, "proxy": proxy, "insecure": true})
	}
	if got := get("http://localhost:"+port(h.web)+"/", "http://127.0.0.1:3128"); !strings.HasPrefix(got, "200\n\nhello from the host") {
		t.Errorf("plain HTTP through the proxy: %q", got)
	}
	if got := get("https://localhost:"+port(h.tls)+"/", "http://127.0.0.1:3128"); !strings.HasPrefix(got, "200\n\nhello over tls") {
		t.Errorf("HTTPS through CONNECT: %q", got)
	}
	if got := get("http://localhost:"+port(h.web)+"/", "socks5h://127.0.0.1:1080"); !strings.HasPrefix(got, "200\n\nhello from the host") {
		t.Errorf("HTTP through SOCKS5: %q", got)
	}
	// Unlisted and denied hosts, reached the way any program would: through
	// the proxy variables in its environment. The 403 names the rule.
	if got := get("http://unlisted.example/", "env"); !strings.HasPrefix(got, "403\nnot in network.allowedDomains\n") {
		t.Errorf("unlisted host: %q", got)
	}
	if got := get("http://denied.example/x", "env"); !strings.HasPrefix(got, "403\nnetwork.deniedDomains: denied.example\n") {
		t.Errorf("denied host: %q", got)
	}
	text, failed := toolText(t, c, "http_get", map[string]any{"url": "https://unlisted.example/", "proxy": "env"})
	if !failed || !strings.Contains(text, "Forbidden") {
		t.Errorf("CONNECT to an unlisted host: %q", text)
	}
	// Going around the proxy finds no route: the host's server is not on
	// the sandbox's loopback, public addresses are unreachable, and there is
	// no DNS.
	hits := h.webHits.Load()
	mustFail(t, c, "direct TCP to the host's web server", "connect_tcp", map[string]any{"address": h.web}, "connection refused")
	mustFail(t, c, "GET without the proxy", "http_get", map[string]any{"url": "http://127.0.0.1:" + port(h.web) + "/", "proxy": "none"}, "connection refused")
	mustFail(t, c, "direct TCP to a public address", "connect_tcp", map[string]any{"address": "93.184.215.14:80"}, "network is unreachable")
	mustFail(t, c, "DNS lookup", "resolve", map[string]any{"host": "example.com"}, "")
	if h.webHits.Load() != hits {
		t.Error("a direct connection reached the host's web server")
	}

	// A listener is refused without allowLocalBinding.
	mustFail(t, c, "listen without allowLocalBinding", "listen", nil, "operation not permitted")

	// 500 tunnels at once through the sandbox's SOCKS5 listener.
	if got := mustSucceed(t, c, "500 concurrent tunnels", "socks_echo", map[string]any{"address": "localhost:" + port(h.echo), "n": 500}); got != "500 connections echoed" {
		t.Errorf("concurrent tunnels: %s", got)
	}
}

func TestNetworkEnvironment(t *testing.T) {
	w := newWorld(t)
	c := connect(t, w)
	env := mustSucceed(t, c, "env", "env", nil)
	for _, want := range []string{
		"HTTP_PROXY=http://127.0.0.1:3128", "HTTPS_PROXY=http://127.0.0.1:3128", "http_proxy=http://127.0.0.1:3128",
		"https_proxy=http://127.0.0.1:3128", "ALL_PROXY=socks5h://127.0.0.1:1080", "all_proxy=socks5h://127.0.0.1:1080",
		"NO_PROXY=localhost,127.0.0.1,::1", "no_proxy=localhost,127.0.0.1,::1", "NODE_USE_ENV_PROXY=1",
		"npm_config_https_proxy=http://127.0.0.1:3128", "TMPDIR=/tmp", "GIT_SSH_COMMAND=ssh -o ProxyCommand=",
	} {
		if !strings.Contains(env, "\n"+want) && !strings.HasPrefix(env, want) {
			t.Errorf("environment lacks %s", want)
		}
	}
	// With the default policy nothing at all is allowed, and the refusal
	// says why.
	got := mustSucceed(t, c, "GET with no allowed domains", "http_get", map[string]any{"url": "http://example.com/", "proxy": "env"})
	if !strings.HasPrefix(got, "403\nnetwork.allowedDomains is empty: no network access\n") {
		t.Errorf("default policy: %q", got)
	}
}

func TestAllowLocalBinding(t *testing.T) {
	w := newWorld(t)
	s := w.settings(t, `{"network": {"allowLocalBinding": true}}`)
	c := connect(t, w, "--settings", s)
	if got := mustSucceed(t, c, "listen with allowLocalBinding", "listen", nil); !strings.HasPrefix(got, "listening on 127.0.0.1:") {
		t.Errorf("listen: %q", got)
	}
}

func TestCurlThroughTheProxies(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed")
	}
	h := startHostServers(t)
	w := newWorld(t)
	s := w.settings(t, `{"network": {"allowedDomains": ["localhost"]}}`)
	c := connect(t, w, "--settings", s)
	run := func(args ...string) string {
		out, _ := toolText(t, c, "run", map[string]any{"argv": append([]string{"curl", "-sS", "--max-time", "10"}, args...)})
		return out
	}
	// curl, a third-party client, through each door.
	if out := run("--noproxy", "", "-x", "http://127.0.0.1:3128", "http://localhost:"+port(h.web)+"/"); !strings.Contains(out, "hello from the host") {
		t.Errorf("curl via HTTP proxy: %s", out)
	}
	if out := run("-k", "--noproxy", "", "-x", "http://127.0.0.1:3128", "https://localhost:"+port(h.tls)+"/"); !strings.Contains(out, "hello over tls") {
		t.Errorf("curl via CONNECT: %s", out)
	}
	if out := run("--noproxy", "", "--socks5-hostname", "127.0.0.1:1080", "http://localhost:"+port(h.web)+"/"); !strings.Contains(out, "hello from the host") {
		t.Errorf("curl via SOCKS5: %s", out)
	}
	// Plain curl picks up the environment and is refused with the reason.
	if out := run("-D", "-", "-o", "/dev/null", "http://unlisted.example/"); !strings.Contains(out, "403") || !strings.Contains(out, "X-Proxy-Error: not in network.allowedDomains") {
		t.Errorf("curl to an unlisted host: %s", out)
	}
}

func TestSSHProxyCommand(t *testing.T) {
	h := startHostServers(t)
	w := newWorld(t)
	s := w.settings(t, `{"network": {"allowedDomains": ["localhost"]}}`)
	c := connect(t, w, "--settings", s)
	// GIT_SSH_COMMAND runs srt-mcp __connect as ssh's ProxyCommand; here it
	// carries a line to the host's echo server through the SOCKS5 proxy.
	out, _ := toolText(t, c, "run", map[string]any{"argv": []string{"sh", "-c",
		`printf 'over socks\n' | "$0" __connect 127.0.0.1:1080 localhost ` + port(h.echo), testbin.SrtMCP(t)}})
	if out != "exit 0\nover socks\n" {
		t.Errorf("srt-mcp __connect: %q", out)
	}
	out, _ = toolText(t, c, "run", map[string]any{"argv": []string{"sh", "-c",
		`printf x | "$0" __connect 127.0.0.1:1080 unlisted.example 22`, testbin.SrtMCP(t)}})
	if !strings.Contains(out, "not allowed by ruleset") {
		t.Errorf("srt-mcp __connect to an unlisted host: %q", out)
	}
}

func TestNodeFetchFailsClosed(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed")
	}
	h := startHostServers(t)
	w := newWorld(t)
	c := connect(t, w)
	// Node's fetch honours the proxy variables only from Node 22.21/24 on
	// (NODE_USE_ENV_PROXY); older versions try to connect directly. Either
	// way nothing gets out: a 403 from the proxy, or no route at all.
	script := `fetch(process.argv[1]).then(r => console.log("status " + r.status)).catch(e => console.log("failed " + (e.cause && e.cause.code)))`
	hits := h.webHits.Load()
	for _, url := range []string{"http://unlisted.example/", "http://127.0.0.1:" + port(h.web) + "/"} {
		out := mustSucceed(t, c, "node fetch", "run", map[string]any{"argv": []string{"node", "-e", script, url}})
		if strings.Contains(out, "status 200") || !(strings.Contains(out, "status 403") || strings.Contains(out, "failed ")) {
			t.Errorf("node fetch %s: %q", url, out)
		}
	}
	if h.webHits.Load() != hits {
		t.Error("node's fetch reached the host's web server")
	}
}
