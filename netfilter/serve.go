package netfilter

import (
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"time"
)

// Proxies serves the HTTP and SOCKS5 proxies with one guard and one
// decision callback.
type Proxies struct {
	Guard      *Guard
	OnDecision func(Decision)
	// Secret, when set, is required of every client (HTTP Basic proxy
	// authorization, SOCKS5 username/password) as user ProxyUser. On macOS
	// the proxies listen on the host's loopback, where any local process
	// could reach them; the secret keeps them for the sandboxed server.
	Secret string
	// Inspect, when set, sees each plain HTTP request (see NewHTTPProxy).
	Inspect func(*http.Request, []byte)

	http *http.Server
}

// Serve serves the HTTP proxy on httpLn and SOCKS5 on socksLn until Close.
func (p *Proxies) Serve(httpLn, socksLn net.Listener) {
	on := p.OnDecision
	if on == nil {
		on = func(Decision) {}
	}
	handler := NewHTTPProxy(p.Guard, on, p.Inspect)
	if p.Secret != "" {
		handler = requireProxyAuth(handler, p.Secret)
	}
	p.http = &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 30 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	go func() {
		if err := p.http.Serve(httpLn); err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
			on(Decision{Time: time.Now(), Protocol: "http", Rule: "proxy stopped: " + err.Error()})
		}
	}()
	s := &SOCKS5Server{Guard: p.Guard, OnDecision: on, Dialer: net.Dialer{Timeout: 15 * time.Second}, Secret: p.Secret}
	go func() { _ = s.Serve(socksLn) }()
}

// ProxyUser is the user name that goes with Proxies.Secret.
const ProxyUser = "srt-mcp"

// requireProxyAuth refuses requests without the run's credentials with 407
// and strips them before anything is forwarded.
func requireProxyAuth(next http.Handler, secret string) http.Handler {
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte(ProxyUser+":"+secret))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := r.Header.Get("Proxy-Authorization")
		if subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
			w.Header().Set("Proxy-Authenticate", `Basic realm="srt-mcp"`)
			http.Error(w, "srt-mcp proxy: authentication required", http.StatusProxyAuthRequired)
			return
		}
		r.Header.Del("Proxy-Authorization")
		next.ServeHTTP(w, r)
	})
}
