package netfilter

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/elazarl/goproxy"
	"github.com/srt-mcp/srt-mcp/internal/safetext"
)

// ErrorHeader names the rule behind a refusal in the proxy's 403 response,
// so tools and people can see why without reading srt-mcp's log.
const ErrorHeader = "X-Proxy-Error"

type pinnedKey struct{}

// NewHTTPProxy returns the filtering HTTP proxy: CONNECT tunnels and plain
// requests with an absolute URI, both decided by g, both connected to the
// exact address g checked. Every decision goes to onDecision.
//
// inspect, when not nil, sees every plain request with the first MiB of
// its body before the decision, refused or not (srt-mcp audit looks for
// canaries leaving in URLs, headers and bodies; TLS inside CONNECT stays
// opaque).
func NewHTTPProxy(g *Guard, onDecision func(Decision), inspect func(*http.Request, []byte)) http.Handler {
	p := goproxy.NewProxyHttpServer()
	p.Verbose = false
	p.Logger = log.New(io.Discard, "", 0)
	dialer := &net.Dialer{Timeout: 15 * time.Second}
	// Never chain to an outer proxy from the environment, and only ever dial
	// an address the guard pinned on the request: a request that reaches
	// this dialer without one is refused, not resolved again.
	p.Tr = &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			ap, ok := ctx.Value(pinnedKey{}).(netip.AddrPort)
			if !ok {
				return nil, errors.New("srt-mcp proxy: no checked destination")
			}
			return dialer.DialContext(ctx, "tcp", ap.String())
		},
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     30 * time.Second,
	}
	p.ConnectDial = nil
	p.NonproxyHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "srt-mcp proxy: only proxy requests (absolute URI or CONNECT) are served", http.StatusBadRequest)
	})
	refuse := func(r *http.Request, rule string) *http.Response {
		// goproxy's canned responses, for plain requests
		resp := goproxy.NewResponse(r, goproxy.ContentTypeText, http.StatusForbidden, "srt-mcp: blocked by the sandbox's network policy: "+rule+"\n")
		resp.Header.Set(ErrorHeader, rule)
		return resp
	}
	// CONNECT never reaches goproxy (see below), but goproxy accepts a
	// CONNECT when no handler returns an action, so refuse explicitly.
	p.OnRequest().HandleConnectFunc(func(hostport string, ctx *goproxy.ProxyCtx) (*goproxy.ConnectAction, string) {
		ctx.Resp = refuse(ctx.Req, "internal: CONNECT outside the tunnel handler")
		return goproxy.RejectConnect, hostport
	})
	p.OnRequest().DoFunc(func(r *http.Request, ctx *goproxy.ProxyCtx) (*http.Request, *http.Response) {
		if r.Method == http.MethodConnect {
			return r, nil
		}
		if inspect != nil {
			var body []byte
			if r.Body != nil {
				body, _ = io.ReadAll(io.LimitReader(r.Body, 1<<20))
				r.Body = struct {
					io.Reader
					io.Closer
				}{io.MultiReader(bytes.NewReader(body), r.Body), r.Body}
			}
			inspect(r, body)
		}
		defPort := 80
		if r.URL.Scheme == "https" {
			defPort = 443
		}
		var d Decision
		var ap netip.AddrPort
		host, port, err := splitHostPort(r.URL.Host, defPort)
		switch {
		case r.URL.Scheme != "http" && r.URL.Scheme != "https":
			d = Decision{Time: time.Now(), Protocol: "http", Host: r.URL.Host, Rule: "unsupported scheme " + safetext.Line(r.URL.Scheme)}
		case err != nil:
			d = Decision{Time: time.Now(), Protocol: "http", Host: r.URL.Host, Rule: safetext.Line(err.Error())}
		default:
			ap, d = g.Check(r.Context(), "http", host, port)
		}
		onDecision(d)
		if !d.Allowed {
			return r, refuse(r, d.Rule)
		}
		return r.WithContext(context.WithValue(r.Context(), pinnedKey{}, ap)), nil
	})
	// CONNECT tunnels are handled here rather than by goproxy, which copies
	// tunnel bytes through a buffered reader: that defeats splice(2) and
	// halves throughput. Plain requests, where goproxy does real work, go to
	// goproxy.
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect {
			p.ServeHTTP(w, r)
			return
		}
		connect(w, r, g, dialer, onDecision)
	})
}

// connect serves one CONNECT: decide, dial the checked address, answer,
// then splice bytes both ways.
func connect(w http.ResponseWriter, r *http.Request, g *Guard, dialer *net.Dialer, onDecision func(Decision)) {
	host, port, err := splitHostPort(r.Host, 443)
	var ap netip.AddrPort
	var d Decision
	if err != nil {
		d = Decision{Time: time.Now(), Protocol: "connect", Host: r.Host, Rule: safetext.Line(err.Error())}
	} else {
		ap, d = g.Check(r.Context(), "connect", host, port)
	}
	onDecision(d)
	if !d.Allowed {
		w.Header().Set(ErrorHeader, d.Rule)
		http.Error(w, "srt-mcp: blocked by the sandbox's network policy: "+d.Rule, http.StatusForbidden)
		return
	}
	up, err := dialer.DialContext(r.Context(), "tcp", ap.String())
	if err != nil {
		w.Header().Set(ErrorHeader, "connect failed: "+err.Error())
		http.Error(w, "srt-mcp: cannot connect to "+ap.String()+": "+err.Error(), http.StatusBadGateway)
		return
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		up.Close()
		http.Error(w, "srt-mcp: cannot tunnel on this connection", http.StatusInternalServerError)
		return
	}
	client, rw, err := hj.Hijack()
	if err != nil {
		up.Close()
		return
	}
	defer client.Close()
	defer up.Close()
	if _, err := io.WriteString(client, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
		return
	}
	// Bytes the client sent right behind its CONNECT (a TLS ClientHello,
	// often) were read into the server's buffer: pass them on first.
	if n := rw.Reader.Buffered(); n > 0 {
		b, _ := rw.Reader.Peek(n)
		if _, err := up.Write(b); err != nil {
			return
		}
	}
	tunnel(client, up)
}
