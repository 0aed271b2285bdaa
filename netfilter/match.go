// Package netfilter decides which network destinations a sandboxed server
// may reach, and enforces it in the filtering HTTP and SOCKS5 proxies that
// are the sandbox's only route out.
package netfilter

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// rule is one parsed allowedDomains or deniedDomains entry.
type rule struct {
	raw      string       // as written, for messages
	host     string       // normalised exact host, or the base of a wildcard
	wildcard bool         // "*.base": subdomains of base, not base itself
	any      bool         // "*" (deniedDomains only)
	prefix   netip.Prefix // IP literal (as a /32 or /128) or CIDR
	isIP     bool
	port     int // 0: any port
}

// Policy is the parsed network policy shared by both proxies.
type Policy struct {
	allow []rule
	deny  []rule
}

// Verdict is the outcome for one destination.
type Verdict struct {
	Allowed bool
	// Rule names what decided: the matching entry ("deniedDomains: evil.com",
	// "allowedDomains: *.github.com") or the reason nothing matched.
	Rule string
}

// NewPolicy parses allowedDomains and deniedDomains. Patterns: an exact host
// ("example.com"), subdomains ("*.example.com": not example.com itself,
// as in srt), an IP literal ("10.0.0.1", "[::1]"), a CIDR ("10.0.0.0/8",
// "[fd00::]/8"), each optionally with ":port"; and in deniedDomains also
// "*" (everything). An empty allow list allows nothing.
func NewPolicy(allowed, denied []string) (*Policy, error) {
	p := &Policy{}
	for i, s := range allowed {
		r, err := parseRule(s, false)
		if err != nil {
			return nil, fmt.Errorf("network.allowedDomains[%d] %q: %w", i, s, err)
		}
		p.allow = append(p.allow, r)
	}
	for i, s := range denied {
		r, err := parseRule(s, true)
		if err != nil {
			return nil, fmt.Errorf("network.deniedDomains[%d] %q: %w", i, s, err)
		}
		p.deny = append(p.deny, r)
	}
	return p, nil
}

func parseRule(s string, denyList bool) (rule, error) {
	r := rule{raw: s}
	hostPart := s
	if strings.HasPrefix(s, "[") { // [v6] or [v6]:port or [v6]/len
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return r, errors.New("unclosed [")
		}
		hostPart = s[1:end]
		rest := s[end+1:]
		if strings.HasPrefix(rest, "/") {
			hostPart += rest
			rest = ""
			if i := strings.LastIndexByte(hostPart, ':'); i > strings.IndexByte(hostPart, '/') {
				rest, hostPart = hostPart[i:], hostPart[:i]
			}
		}
		if rest != "" {
			if !strings.HasPrefix(rest, ":") {
				return r, errors.New("unexpected text after ]")
			}
			port, err := parsePort(rest[1:])
			if err != nil {
				return r, err
			}
			r.port = port
		}
	} else if i := strings.LastIndexByte(s, ':'); i >= 0 {
		if strings.Count(s, ":") > 1 {
			return r, errors.New("IPv6 addresses must be written in brackets, e.g. [::1] or [2001:db8::1]:443")
		}
		port, err := parsePort(s[i+1:])
		if err != nil {
			return r, err
		}
		r.port, hostPart = port, s[:i]
	}
	switch {
	case hostPart == "*":
		if !denyList {
			return r, errors.New(`"*" would allow every host; list the domains instead`)
		}
		r.any = true
		return r, nil
	case strings.Contains(hostPart, "/"):
		pfx, err := netip.ParsePrefix(hostPart)
		if err != nil {
			return r, fmt.Errorf("bad CIDR: %w", err)
		}
		r.prefix, r.isIP = pfx.Masked(), true
		return r, nil
	}
	if a, err := netip.ParseAddr(hostPart); err == nil {
		r.prefix, r.isIP = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), true
		return r, nil
	}
	if strings.HasPrefix(hostPart, "*.") {
		r.wildcard = true
		hostPart = hostPart[2:]
		if !strings.Contains(strings.TrimSuffix(hostPart, "."), ".") {
			return r, errors.New("a wildcard needs at least two labels after *. (\"*.com\" is too broad)")
		}
	}
	h, err := NormalizeHost(hostPart)
	if err != nil {
		return r, err
	}
	if _, isAddr := ParseIP(h); isAddr {
		return r, errors.New("not a valid host name")
	}
	r.host = h
	return r, nil
}

func parsePort(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 65535 || strconv.Itoa(n) != s {
		return 0, fmt.Errorf("bad port %q (want 1-65535)", s)
	}
	return n, nil
}

// NormalizeHost turns a destination host as given by a client (CONNECT
// authority, URL host, SOCKS5 domain) into the canonical form that rules
// are compared with: IP literals in their canonical text (brackets
// removed), names lower-cased, without a trailing dot, internationalised
// names in punycode. Anything that is neither a valid IP literal nor a
// valid DNS name is an error, so tricks such as "allowed.com@evil.com",
// "evil.com#allowed.com", percent-encoding or legacy IPv4 forms
// ("2130706433", "0x7f.1") never reach a matcher or a resolver.
func NormalizeHost(host string) (string, error) {
	h := strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if a, err := netip.ParseAddr(h); err == nil {
		if a.Zone() != "" {
			return "", errors.New("IPv6 zone identifiers are not allowed")
		}
		return a.Unmap().String(), nil
	}
	if h != host {
		return "", errors.New("brackets around something that is not an IPv6 address")
	}
	h = strings.TrimSuffix(h, ".")
	if h == "" || len(h) > 253 {
		return "", errors.New("empty or over-long host name")
	}
	if !utf8.ValidString(h) {
		return "", errors.New("invalid UTF-8 in host name")
	}
	ascii, err := idna.Lookup.ToASCII(h)
	if err != nil {
		return "", fmt.Errorf("invalid host name: %w", err)
	}
	ascii = strings.ToLower(ascii)
	// The ASCII form must be its own normal form; otherwise the resolver and
	// the matcher could each read the name differently.
	if again, err := idna.Lookup.ToASCII(ascii); err != nil || again != ascii {
		return "", errors.New("invalid internationalised host name")
	}
	labels := strings.Split(ascii, ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return "", errors.New("invalid host name")
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return "", fmt.Errorf("invalid character %q in host name", c)
			}
		}
	}
	// A name whose last label is numeric is an IPv4 address in a legacy
	// spelling that some resolvers accept; no real top-level domain is
	// numeric.
	if last := labels[len(labels)-1]; strings.Trim(last, "0123456789") == "" || strings.HasPrefix(last, "0x") && len(labels) <= 4 {
		return "", errors.New("looks like an IPv4 address in a non-standard form")
	}
	return ascii, nil
}

// ParseIP reports whether a normalised host is an IP literal.
func ParseIP(host string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(host)
	return a, err == nil
}

// Decide applies the domain rules to a normalised host and port: deny wins,
// then allow; nothing matching is a denial. For an IP literal host only IP
// and CIDR rules can match.
func (p *Policy) Decide(host string, port int) Verdict {
	for _, r := range p.deny {
		if r.matchHost(host, port) {
			return Verdict{Rule: "network.deniedDomains: " + r.raw}
		}
	}
	for _, r := range p.allow {
		if r.matchHost(host, port) {
			return Verdict{Allowed: true, Rule: "network.allowedDomains: " + r.raw}
		}
	}
	if len(p.allow) == 0 {
		return Verdict{Rule: "network.allowedDomains is empty: no network access"}
	}
	return Verdict{Rule: "not in network.allowedDomains"}
}

// DeniedAddr reports a deny rule (IP, CIDR or "*") that covers a resolved
// address: denying 169.254.169.254 must also stop a name that resolves there.
func (p *Policy) DeniedAddr(a netip.Addr, port int) (string, bool) {
	for _, r := range p.deny {
		if r.port != 0 && r.port != port {
			continue
		}
		if r.any || r.isIP && r.prefix.Contains(a) {
			return "network.deniedDomains: " + r.raw, true
		}
	}
	return "", false
}

// NamesAddr reports whether the policy names a non-public address
// explicitly, as an allowed IP or CIDR, or through an exact (not wildcard)
// host rule for the host that resolved to it, e.g. "localhost".
func (p *Policy) NamesAddr(host string, a netip.Addr, port int) (string, bool) {
	for _, r := range p.allow {
		if r.port != 0 && r.port != port {
			continue
		}
		if r.isIP && r.prefix.Contains(a) || !r.isIP && !r.wildcard && r.host == host {
			return "network.allowedDomains: " + r.raw, true
		}
	}
	return "", false
}

func (r rule) matchHost(host string, port int) bool {
	if r.port != 0 && r.port != port {
		return false
	}
	if r.any {
		return true
	}
	if a, ok := ParseIP(host); ok {
		return r.isIP && r.prefix.Contains(a)
	}
	if r.isIP {
		return false
	}
	if r.wildcard {
		return strings.HasSuffix(host, "."+r.host)
	}
	return host == r.host
}

// Public reports whether an address is globally routable. Loopback,
// private, link-local (169.254.169.254: cloud metadata), carrier-grade NAT,
// unique-local, multicast, unspecified, documentation and other special
// ranges are not.
func Public(a netip.Addr) bool {
	a = a.Unmap()
	if !a.IsValid() || a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() ||
		a.IsLinkLocalMulticast() || a.IsInterfaceLocalMulticast() || a.IsMulticast() || a.IsUnspecified() {
		return false
	}
	for _, p := range specialRanges {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

var specialRanges = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8", "100.64.0.0/10", "192.0.0.0/24", "192.0.2.0/24", "198.18.0.0/15",
		"198.51.100.0/24", "203.0.113.0/24", "240.0.0.0/4", "255.255.255.255/32",
		"64:ff9b::/96", "64:ff9b:1::/48", "100::/64", "2001::/23", "2001:db8::/32", "2002::/16", "fc00::/7",
	} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()
