package netfilter

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/proxy"
)

// table is a fixed resolver: names used in tests resolve to the loopback
// test servers without touching DNS.
type table struct {
	mu    sync.Mutex
	names map[string][]string
	calls map[string]int
	// answers, when set for a name, are returned one per lookup (a
	// rebinding DNS server).
	answers map[string][][]string
}

func (t *table) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.calls == nil {
		t.calls = map[string]int{}
	}
	t.calls[host]++
	list := t.names[host]
	if seq, ok := t.answers[host]; ok && len(seq) > 0 {
		list = seq[min(t.calls[host]-1, len(seq)-1)]
	}
	if list == nil {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	var out []netip.Addr
	for _, s := range list {
		out = append(out, netip.MustParseAddr(s))
	}
	return out, nil
}

// rig is a running pair of proxies and a log of their decisions.
type rig struct {
	httpAddr, socksAddr string
	mu                  sync.Mutex
	decisions           []Decision
}

func (r *rig) log() []Decision {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Decision(nil), r.decisions...)
}

func startRig(t testing.TB, allow, deny []string, res Resolver) *rig {
	return startRigSecret(t, allow, deny, res, "")
}

func startRigSecret(t testing.TB, allow, deny []string, res Resolver, secret string) *rig {
	t.Helper()
	r := &rig{}
	hl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hl.Close(); sl.Close() })
	r.httpAddr, r.socksAddr = hl.Addr().String(), sl.Addr().String()
	p := &Proxies{
		Guard:  &Guard{Policy: mustPolicy(t, allow, deny), Resolver: res},
		Secret: secret,
		OnDecision: func(d Decision) {
			r.mu.Lock()
			r.decisions = append(r.decisions, d)
			r.mu.Unlock()
		},
	}
	p.Serve(hl, sl)
	return r
}

func portOf(t testing.TB, addr string) string {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return port
}

func httpClient(proxyAddr string) *http.Client {
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			Proxy:           http.ProxyURL(&url.URL{Scheme: "http", Host: proxyAddr}),
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true},
		},
	}
}

func TestProxiesAllowAndDeny(t *testing.T) {
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "hello from ", r.Host) }))
	defer web.Close()
	tlsWeb := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "tls hello") }))
	defer tlsWeb.Close()
	echo := echoServer(t)
	res := &table{names: map[string][]string{"allowed.test": {"127.0.0.1"}, "other.test": {"127.0.0.1"}, "wild.test": {"127.0.0.1"}}}
	r := startRig(t, []string{"allowed.test"}, []string{"other.test"}, res)
	c := httpClient(r.httpAddr)
	webPort, tlsPort, echoPort := portOf(t, web.Listener.Addr().String()), portOf(t, tlsWeb.Listener.Addr().String()), portOf(t, echo)

	// Plain HTTP through the proxy.
	body := get(t, c, "http://allowed.test:"+webPort+"/", http.StatusOK)
	if !strings.Contains(body, "hello from allowed.test") {
		t.Errorf("plain HTTP body %q", body)
	}
	// HTTPS through a CONNECT tunnel.
	if body := get(t, c, "https://allowed.test:"+tlsPort+"/", http.StatusOK); body != "tls hello" {
		t.Errorf("CONNECT body %q", body)
	}
	// SOCKS5 with a domain name (socks5h).
	d, err := proxy.SOCKS5("tcp", r.socksAddr, nil, proxy.Direct)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := d.Dial("tcp", "allowed.test:"+echoPort)
	if err != nil {
		t.Fatalf("SOCKS5 to an allowed host: %v", err)
	}
	roundTripEcho(t, conn)
	conn.Close()

	// Denied and unlisted hosts: 403 naming the rule, for plain and CONNECT.
	for _, tc := range []struct{ url, rule string }{
		{"http://other.test:" + webPort + "/", "network.deniedDomains: other.test"},
		{"http://unlisted.test:" + webPort + "/", "not in network.allowedDomains"},
		{"https://other.test:" + tlsPort + "/", "network.deniedDomains: other.test"},
	} {
		resp, err := c.Get(tc.url)
		if strings.HasPrefix(tc.url, "https") {
			// Go's client reports a refused CONNECT as an error with the status.
			if err == nil || !strings.Contains(err.Error(), "Forbidden") {
				t.Errorf("%s: %v, want a 403 from CONNECT", tc.url, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.url, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden || resp.Header.Get(ErrorHeader) != tc.rule || !strings.Contains(string(b), tc.rule) {
			t.Errorf("%s: %d %q %q, want 403 naming %q", tc.url, resp.StatusCode, resp.Header.Get(ErrorHeader), b, tc.rule)
		}
	}
	// The raw CONNECT refusal carries the header too.
	status, header := rawConnect(t, r.httpAddr, "unlisted.test:"+tlsPort)
	if !strings.Contains(status, "403") || header.Get(ErrorHeader) != "not in network.allowedDomains" {
		t.Errorf("raw CONNECT: %q %v", status, header)
	}
	// SOCKS5 refusal uses reply code 2, "connection not allowed by ruleset".
	if _, err := d.Dial("tcp", "other.test:"+echoPort); err == nil || !strings.Contains(err.Error(), "not allowed by ruleset") {
		t.Errorf("SOCKS5 to a denied host: %v", err)
	}

	// Every attempt, allowed or not, was handed to the callback.
	got := map[string]int{}
	for _, d := range r.log() {
		got[fmt.Sprintf("%s %s %v", d.Protocol, d.Host, d.Allowed)]++
	}
	for _, want := range []string{"http allowed.test true", "connect allowed.test true", "socks5 allowed.test true",
		"http other.test false", "http unlisted.test false", "connect other.test false", "connect unlisted.test false", "socks5 other.test false"} {
		if got[want] == 0 {
			t.Errorf("no decision %q in %v", want, got)
		}
	}
}

func get(t *testing.T, c *http.Client, u string, want int) string {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("GET %s: %d %s (%s)", u, resp.StatusCode, b, resp.Header.Get(ErrorHeader))
	}
	return string(b)
}

// rawConnect sends a CONNECT with target written exactly as given.
func rawConnect(t *testing.T, proxyAddr, target string) (string, http.Header) {
	t.Helper()
	c, err := net.Dial("tcp", proxyAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", target, target)
	resp, err := http.ReadResponse(bufio.NewReader(c), &http.Request{Method: http.MethodConnect})
	if err != nil {
		return "connection closed: " + err.Error(), http.Header{}
	}
	resp.Body.Close()
	return resp.Status, resp.Header
}

func echoServer(t testing.TB) string {
	t.Helper()
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
	return ln.Addr().String()
}

func roundTripEcho(t testing.TB, c net.Conn) {
	t.Helper()
	msg := []byte("ping through the tunnel\n")
	if _, err := c.Write(msg); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, len(msg))
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != string(msg) {
		t.Fatalf("echo: %q %v", buf, err)
	}
}

func TestBypassTricksAreRefused(t *testing.T) {
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "reached") }))
	defer web.Close()
	port := portOf(t, web.Listener.Addr().String())
	res := &table{names: map[string][]string{"allowed.test": {"127.0.0.1"}, "evil.test": {"127.0.0.1"}, "allowed.test.evil.test": {"127.0.0.1"}}}
	r := startRig(t, []string{"allowed.test"}, nil, res)
	for _, target := range []string{
		"allowed.test@evil.test:" + port,
		"evil.test#allowed.test:" + port,
		"allowed.test.evil.test:" + port,
		"allowed.test%2eevil.test:" + port,
		"evil%2etest:" + port,
		"[::ffff:127.0.0.1]:" + port, // an IP literal the policy does not name
		"2130706433:" + port,         // 127.0.0.1 in decimal
	} {
		status, _ := rawConnect(t, r.httpAddr, target)
		if strings.Contains(status, "200") {
			t.Errorf("CONNECT %s: %s, want refused", target, status)
		}
	}
	// Plain requests: the URL's userinfo is not the host.
	c := httpClient(r.httpAddr)
	resp, err := c.Get("http://allowed.test@evil.test:" + port + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("userinfo trick: %d", resp.StatusCode)
	}
	// SOCKS5 with the same tricks as the domain name.
	for _, host := range []string{"allowed.test@evil.test", "evil.test#allowed.test", "allowed.test.evil.test"} {
		d, _ := proxy.SOCKS5("tcp", r.socksAddr, nil, proxy.Direct)
		if c, err := d.Dial("tcp", host+":"+port); err == nil {
			c.Close()
			t.Errorf("SOCKS5 %s: connected", host)
		}
	}
}

func TestDestinationGuard(t *testing.T) {
	res := &table{names: map[string][]string{
		"loop.lab.test":  {"127.0.0.1"},
		"meta.lab.test":  {"169.254.169.254"},
		"mixed.lab.test": {"8.8.8.8", "127.0.0.1"},
		"localhost":      {"127.0.0.1"},
	}}
	for _, tc := range []struct {
		name       string
		allow      []string
		deny       []string
		host       string
		allowed    bool
		pinned     string
		ruleSubstr string
	}{
		{"wildcard does not reach loopback", []string{"*.lab.test"}, nil, "loop.lab.test", false, "", "non-public address 127.0.0.1"},
		{"exact host may", []string{"loop.lab.test"}, nil, "loop.lab.test", true, "127.0.0.1", ""},
		{"named CIDR may", []string{"*.lab.test", "127.0.0.0/8"}, nil, "loop.lab.test", true, "127.0.0.1", ""},
		{"localhost exactly", []string{"localhost"}, nil, "localhost", true, "127.0.0.1", ""},
		{"metadata address", []string{"*.lab.test"}, nil, "meta.lab.test", false, "", "non-public address 169.254.169.254"},
		{"denied address wins over exact host", []string{"meta.lab.test"}, []string{"169.254.0.0/16"}, "meta.lab.test", false, "", "deniedDomains: 169.254.0.0/16"},
		{"mixed answer uses the public one", []string{"*.lab.test"}, nil, "mixed.lab.test", true, "8.8.8.8", ""},
		{"IP literal must be named", []string{"*.lab.test"}, nil, "127.0.0.1", false, "", "not in network.allowedDomains"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := &Guard{Policy: mustPolicy(t, tc.allow, tc.deny), Resolver: res}
			ap, d := g.Check(context.Background(), "connect", tc.host, 443)
			if d.Allowed != tc.allowed || tc.allowed && ap.Addr().String() != tc.pinned || !strings.Contains(d.Rule, tc.ruleSubstr) {
				t.Errorf("Check(%s) = %v %+v; want allowed=%v pinned=%s rule~%q", tc.host, ap, d, tc.allowed, tc.pinned, tc.ruleSubstr)
			}
		})
	}
}

func TestNoSecondLookup(t *testing.T) {
	// A rebinding name: public on the first lookup, loopback afterwards. The
	// proxy must dial the address it checked, so the loopback server never
	// sees a connection.
	var hits atomic.Int32
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			hits.Add(1)
			c.Close()
		}
	}()
	port := portOf(t, ln.Addr().String())
	res := &table{answers: map[string][][]string{"rebind.lab.test": {{"192.0.2.1"}, {"127.0.0.1"}}}}
	// 192.0.2.1 is TEST-NET-1, non-public as well, so the policy names it;
	// the loopback answer that follows is named by nothing.
	r := startRig(t, []string{"*.lab.test", "192.0.2.1"}, nil, res)
	status, _ := rawConnect(t, r.httpAddr, "rebind.lab.test:"+port)
	if res.calls["rebind.lab.test"] != 1 {
		t.Errorf("%d lookups for one CONNECT, want 1", res.calls["rebind.lab.test"])
	}
	// The next connection resolves anew, gets loopback, and is refused.
	d, _ := proxy.SOCKS5("tcp", r.socksAddr, nil, proxy.Direct)
	if c, err := d.Dial("tcp", "rebind.lab.test:"+port); err == nil {
		c.Close()
		t.Error("SOCKS5 connected after the name rebound to loopback")
	}
	if hits.Load() != 0 {
		t.Errorf("the loopback server got %d connections: the proxy resolved again (CONNECT status %q)", hits.Load(), status)
	}
	for _, dec := range r.log() {
		if dec.Allowed && dec.Addr.String() != "192.0.2.1" {
			t.Errorf("decision pinned %s, want the checked 192.0.2.1", dec.Addr)
		}
	}
}

func TestFiveHundredConcurrentTunnels(t *testing.T) {
	echo := echoServer(t)
	port := portOf(t, echo)
	res := &table{names: map[string][]string{"allowed.test": {"127.0.0.1"}}}
	r := startRig(t, []string{"allowed.test"}, nil, res)
	const n = 500
	conns := make([]net.Conn, n)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var c net.Conn
			var err error
			if i%2 == 0 {
				c, err = connectTunnel(r.httpAddr, "allowed.test:"+port)
			} else {
				var d proxy.Dialer
				d, err = proxy.SOCKS5("tcp", r.socksAddr, nil, proxy.Direct)
				if err == nil {
					c, err = d.Dial("tcp", "allowed.test:"+port)
				}
			}
			if err != nil {
				errs <- err
				return
			}
			conns[i] = c
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("opening a tunnel: %v", err)
	}
	// All 500 are open at once; each still carries data.
	for _, c := range conns {
		roundTripEcho(t, c)
	}
	for _, c := range conns {
		c.Close()
	}
}

// connectTunnel opens a CONNECT tunnel and returns the raw connection.
func connectTunnel(proxyAddr, target string) (net.Conn, error) {
	c, err := net.Dial("tcp", proxyAddr)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(c, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", target, target)
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	if err != nil {
		c.Close()
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		c.Close()
		return nil, errors.New("CONNECT: " + resp.Status)
	}
	if br.Buffered() > 0 {
		c.Close()
		return nil, errors.New("unexpected bytes after the CONNECT response")
	}
	return c, nil
}

func TestProxySecret(t *testing.T) {
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Proxy-Authorization") != "" {
			t.Error("the proxy forwarded its credentials")
		}
		fmt.Fprint(w, "ok")
	}))
	defer web.Close()
	echo := echoServer(t)
	res := &table{names: map[string][]string{"allowed.test": {"127.0.0.1"}}}
	r := startRigSecret(t, []string{"allowed.test"}, nil, res, "s3cret")
	target := "http://allowed.test:" + portOf(t, web.Listener.Addr().String()) + "/"

	// Without the secret: 407 for HTTP and CONNECT, refusal for SOCKS5.
	resp, err := httpClient(r.httpAddr).Get(target)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusProxyAuthRequired {
		t.Errorf("no credentials: %d", resp.StatusCode)
	}
	if status, _ := rawConnect(t, r.httpAddr, "allowed.test:"+portOf(t, echo)); !strings.Contains(status, "407") {
		t.Errorf("CONNECT without credentials: %s", status)
	}
	for _, auth := range []*proxy.Auth{nil, {User: ProxyUser, Password: "wrong"}, {User: "other", Password: "s3cret"}} {
		d, _ := proxy.SOCKS5("tcp", r.socksAddr, auth, proxy.Direct)
		if c, err := d.Dial("tcp", "allowed.test:"+portOf(t, echo)); err == nil {
			c.Close()
			t.Errorf("SOCKS5 with %+v connected", auth)
		}
	}
	// With it, as the server's proxy URLs carry it.
	c := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(&url.URL{Scheme: "http", User: url.UserPassword(ProxyUser, "s3cret"), Host: r.httpAddr})}}
	if body := get(t, c, target, http.StatusOK); body != "ok" {
		t.Errorf("with credentials: %q", body)
	}
	d, _ := proxy.SOCKS5("tcp", r.socksAddr, &proxy.Auth{User: ProxyUser, Password: "s3cret"}, proxy.Direct)
	conn, err := d.Dial("tcp", "allowed.test:"+portOf(t, echo))
	if err != nil {
		t.Fatalf("SOCKS5 with credentials: %v", err)
	}
	roundTripEcho(t, conn)
	conn.Close()
}
