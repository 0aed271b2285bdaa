package netfilter

import (
	"bufio"
	"context"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"strconv"
	"syscall"
	"time"
)

// SOCKS5 (RFC 1928) constants used by the server.
const (
	socksVersion      = 5
	socksNoAuth       = 0x00
	socksUserPass     = 0x02
	socksNoAcceptable = 0xff
	socksCmdConnect   = 0x01
	socksAtypIPv4     = 0x01
	socksAtypDomain   = 0x03
	socksAtypIPv6     = 0x04

	SocksSucceeded          = 0x00
	SocksGeneralFailure     = 0x01
	SocksNotAllowed         = 0x02 // connection not allowed by ruleset
	SocksNetworkUnreachable = 0x03
	SocksHostUnreachable    = 0x04
	SocksConnectionRefused  = 0x05
	SocksTTLExpired         = 0x06
	SocksCmdNotSupported    = 0x07
	SocksAtypNotSupported   = 0x08
)

// SOCKS5Server is a CONNECT-only SOCKS5 server with the same policy as the
// HTTP proxy. Domain names are resolved here (socks5h), after the policy
// check, never by the client.
type SOCKS5Server struct {
	Guard      *Guard
	OnDecision func(Decision)
	Dialer     net.Dialer
	// Secret, when set, requires username/password authentication (RFC
	// 1929) as ProxyUser with this password.
	Secret string
}

// Serve accepts connections until ln is closed.
func (s *SOCKS5Server) Serve(ln net.Listener) error {
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return err
		}
		go s.handle(c)
	}
}

func (s *SOCKS5Server) handle(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second)) // the handshake only
	r := bufio.NewReader(c)
	// Greeting: VER NMETHODS METHODS...
	var hdr [2]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil || hdr[0] != socksVersion {
		return
	}
	methods := make([]byte, hdr[1])
	if _, err := io.ReadFull(r, methods); err != nil {
		return
	}
	if s.Secret != "" {
		if !containsByte(methods, socksUserPass) {
			c.Write([]byte{socksVersion, socksNoAcceptable})
			return
		}
		if _, err := c.Write([]byte{socksVersion, socksUserPass}); err != nil {
			return
		}
		if !s.authenticate(c, r) {
			return
		}
	} else {
		if !containsByte(methods, socksNoAuth) {
			c.Write([]byte{socksVersion, socksNoAcceptable})
			return
		}
		if _, err := c.Write([]byte{socksVersion, socksNoAuth}); err != nil {
			return
		}
	}
	// Request: VER CMD RSV ATYP DST.ADDR DST.PORT
	var req [4]byte
	if _, err := io.ReadFull(r, req[:]); err != nil || req[0] != socksVersion {
		return
	}
	var host string
	switch req[3] {
	case socksAtypIPv4, socksAtypIPv6:
		n := 4
		if req[3] == socksAtypIPv6 {
			n = 16
		}
		b := make([]byte, n)
		if _, err := io.ReadFull(r, b); err != nil {
			return
		}
		a, _ := netip.AddrFromSlice(b)
		host = a.String()
	case socksAtypDomain:
		l, err := r.ReadByte()
		if err != nil {
			return
		}
		b := make([]byte, l)
		if _, err := io.ReadFull(r, b); err != nil {
			return
		}
		host = string(b)
	default:
		reply(c, SocksAtypNotSupported, nil)
		return
	}
	var pb [2]byte
	if _, err := io.ReadFull(r, pb[:]); err != nil {
		return
	}
	port := int(binary.BigEndian.Uint16(pb[:]))
	if req[1] != socksCmdConnect {
		s.OnDecision(Decision{Time: time.Now(), Protocol: "socks5", Host: host, Port: port, Rule: "SOCKS5 command " + strconv.Itoa(int(req[1])) + " is not supported (CONNECT only)"})
		reply(c, SocksCmdNotSupported, nil)
		return
	}
	ap, d := s.Guard.Check(context.Background(), "socks5", host, port)
	s.OnDecision(d)
	if !d.Allowed {
		reply(c, SocksNotAllowed, nil)
		return
	}
	up, err := s.Dialer.Dial("tcp", ap.String())
	if err != nil {
		reply(c, dialErrorCode(err), nil)
		return
	}
	defer up.Close()
	local, _ := up.LocalAddr().(*net.TCPAddr)
	if err := reply(c, SocksSucceeded, local); err != nil {
		return
	}
	_ = c.SetDeadline(time.Time{})
	// Bytes the client sent after its request (optimistic data) are in r.
	if n := r.Buffered(); n > 0 {
		b, _ := r.Peek(n)
		if _, err := up.Write(b); err != nil {
			return
		}
	}
	tunnel(c, up)
}

// authenticate runs the RFC 1929 sub-negotiation.
func (s *SOCKS5Server) authenticate(c net.Conn, r *bufio.Reader) bool {
	var ver [1]byte
	if _, err := io.ReadFull(r, ver[:]); err != nil || ver[0] != 1 {
		return false
	}
	read := func() ([]byte, bool) {
		n, err := r.ReadByte()
		if err != nil {
			return nil, false
		}
		b := make([]byte, n)
		_, err = io.ReadFull(r, b)
		return b, err == nil
	}
	user, ok1 := read()
	pass, ok2 := read()
	good := ok1 && ok2 &&
		subtle.ConstantTimeCompare(user, []byte(ProxyUser)) == 1 &&
		subtle.ConstantTimeCompare(pass, []byte(s.Secret)) == 1
	status := byte(1)
	if good {
		status = 0
	}
	c.Write([]byte{1, status})
	return good
}

func containsByte(b []byte, x byte) bool {
	for _, c := range b {
		if c == x {
			return true
		}
	}
	return false
}

func reply(c net.Conn, code byte, bound *net.TCPAddr) error {
	msg := []byte{socksVersion, code, 0, socksAtypIPv4, 0, 0, 0, 0, 0, 0}
	if bound != nil {
		if a, ok := netip.AddrFromSlice(bound.IP); ok {
			a = a.Unmap()
			if a.Is4() {
				b := a.As4()
				copy(msg[4:8], b[:])
			} else {
				b := a.As16()
				msg = append([]byte{socksVersion, code, 0, socksAtypIPv6}, b[:]...)
				msg = append(msg, 0, 0)
			}
			binary.BigEndian.PutUint16(msg[len(msg)-2:], uint16(bound.Port))
		}
	}
	_, err := c.Write(msg)
	return err
}

func dialErrorCode(err error) byte {
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return SocksConnectionRefused
	case errors.Is(err, syscall.ENETUNREACH):
		return SocksNetworkUnreachable
	case errors.Is(err, syscall.EHOSTUNREACH):
		return SocksHostUnreachable
	case errors.As(err, &ne) && ne.Timeout():
		return SocksTTLExpired
	}
	return SocksGeneralFailure
}

// tunnel copies both ways until both directions are done, half-closing so
// each side sees the other's EOF. Between two TCP connections io.Copy uses
// splice(2) on Linux: the bytes do not pass through user space.
func tunnel(a, b net.Conn) {
	done := make(chan struct{}, 2)
	cp := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		if cw, ok := dst.(interface{ CloseWrite() error }); ok {
			_ = cw.CloseWrite()
		} else {
			_ = dst.Close()
		}
		done <- struct{}{}
	}
	go cp(a, b)
	go cp(b, a)
	<-done
	<-done
}
