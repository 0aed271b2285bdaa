package netfilter

import (
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

	http *http.Server
}

// Serve serves the HTTP proxy on httpLn and SOCKS5 on socksLn until Close.
func (p *Proxies) Serve(httpLn, socksLn net.Listener) {
	on := p.OnDecision
	if on == nil {
		on = func(Decision) {}
	}
	p.http = &http.Server{
		Handler:           NewHTTPProxy(p.Guard, on),
		ReadHeaderTimeout: 30 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	go func() {
		if err := p.http.Serve(httpLn); err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
			on(Decision{Time: time.Now(), Protocol: "http", Rule: "proxy stopped: " + err.Error()})
		}
	}()
	s := &SOCKS5Server{Guard: p.Guard, OnDecision: on, Dialer: net.Dialer{Timeout: 15 * time.Second}}
	go func() { _ = s.Serve(socksLn) }()
}
