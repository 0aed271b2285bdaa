package netfilter

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"time"

	"github.com/srt-mcp/srt-mcp/internal/safetext"
)

// Resolver looks up a host name. *net.Resolver satisfies it; tests inject a
// fixed table so that "allowed.test" can resolve to a loopback test server.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Decision is one proxy decision, handed to the OnDecision callback for
// every connection attempt, allowed or denied.
type Decision struct {
	Time     time.Time
	Protocol string // "http", "connect" (HTTP CONNECT), "socks5"
	Host     string // as the client named it (normalised when valid): raw bytes, escape before printing
	Port     int
	Addr     netip.Addr // the address connected to (when allowed)
	Allowed  bool
	// WouldDeny: allowed only because of learn mode; the policy refuses it.
	WouldDeny bool
	Rule      string // the rule or reason that decided
}

// Guard decides destinations: the domain policy, then, for names, the
// resolved addresses. It returns the one address to connect to, so the
// dial uses exactly what was checked and a second DNS answer (rebinding)
// cannot change it.
type Guard struct {
	Policy   *Policy
	Resolver Resolver
	// LookupTimeout bounds a DNS lookup (default 5s).
	LookupTimeout time.Duration
	// Learn lets destinations the domain rules refuse through, marked
	// WouldDeny, to learn what a server needs. The destination guard still
	// refuses non-public addresses that are not named: learning must not
	// open the way to cloud metadata or the local network.
	Learn bool
}

// Check decides host:port for protocol and returns the address to dial.
func (g *Guard) Check(ctx context.Context, protocol, rawHost string, port int) (netip.AddrPort, Decision) {
	d := Decision{Time: time.Now(), Protocol: protocol, Host: rawHost, Port: port}
	deny := func(rule string) (netip.AddrPort, Decision) {
		d.Rule, d.WouldDeny = rule, false // refused for real, learn mode or not
		return netip.AddrPort{}, d
	}
	if port < 1 || port > 65535 {
		return deny("invalid port")
	}
	host, err := NormalizeHost(rawHost)
	if err != nil {
		// The rule is shown to people and sent back in X-Proxy-Error: it
		// must not carry the raw name the client sent.
		return deny("invalid host: " + safetext.Line(err.Error()))
	}
	d.Host = host
	v := g.Policy.Decide(host, port)
	if !v.Allowed {
		if !g.Learn {
			return deny(v.Rule)
		}
		d.WouldDeny = true
	}
	var addrs []netip.Addr
	if a, ok := ParseIP(host); ok {
		addrs = []netip.Addr{a}
	} else {
		timeout := g.LookupTimeout
		if timeout == 0 {
			timeout = 5 * time.Second
		}
		lctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		resolver := g.Resolver
		if resolver == nil {
			resolver = net.DefaultResolver
		}
		addrs, err = resolver.LookupNetIP(lctx, "ip", host)
		if err != nil || len(addrs) == 0 {
			return deny(fmt.Sprintf("%s (DNS lookup failed: %v)", v.Rule, err))
		}
	}
	// Connect to the first address that passes; a mix of public and private
	// answers never lets the private one through unless it is named.
	var refused string
	for _, a := range addrs {
		a = a.Unmap()
		if rule, denied := g.Policy.DeniedAddr(a, port); denied && !g.Learn {
			refused = fmt.Sprintf("%s resolves to %s: %s", host, a, rule)
			continue
		}
		if !Public(a) {
			if _, named := g.Policy.NamesAddr(host, a, port); !named {
				refused = fmt.Sprintf("%s resolves to non-public address %s; allow it by naming the address, its CIDR, or the exact host in network.allowedDomains", host, a)
				continue
			}
		}
		d.Allowed, d.Rule, d.Addr = true, v.Rule, a
		return netip.AddrPortFrom(a, uint16(port)), d
	}
	return deny(refused)
}

// splitHostPort splits "host:port" with a default port when none is given.
func splitHostPort(hostport string, defaultPort int) (string, int, error) {
	host, portStr, err := net.SplitHostPort(hostport)
	if err != nil {
		// No port: the whole thing is the host (brackets allowed for IPv6).
		return hostport, defaultPort, nil
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return "", 0, fmt.Errorf("bad port %q", portStr)
	}
	return host, port, nil
}
