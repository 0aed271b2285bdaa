package netfilter

import (
	"net/netip"
	"strings"
	"testing"
)

func mustPolicy(t testing.TB, allow, deny []string) *Policy {
	t.Helper()
	p, err := NewPolicy(allow, deny)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDecide(t *testing.T) {
	p := mustPolicy(t,
		[]string{"example.com", "*.github.com", "api.test:443", "10.0.0.0/8", "192.168.1.5", "[::1]", "[fd00::]/8", "bücher.example", "localhost"},
		[]string{"evil.github.com", "10.9.0.0/16", "*:25"})
	for _, tc := range []struct {
		host  string
		port  int
		allow bool
		rule  string
	}{
		{"example.com", 443, true, "allowedDomains: example.com"},
		{"EXAMPLE.com.", 80, true, "allowedDomains: example.com"},
		{"sub.example.com", 443, false, "not in network.allowedDomains"},
		{"example.com.evil.com", 443, false, "not in"},
		{"evilexample.com", 443, false, "not in"},
		// "*.github.com" covers subdomains only, not github.com itself (as in srt).
		{"api.github.com", 443, true, "allowedDomains: *.github.com"},
		{"a.b.github.com", 443, true, "*.github.com"},
		{"github.com", 443, false, "not in"},
		{"evil.github.com", 443, false, "deniedDomains: evil.github.com"},
		{"notgithub.com", 443, false, "not in"},
		{"api.test", 443, true, "api.test:443"},
		{"api.test", 80, false, "not in"},
		{"10.1.2.3", 80, true, "10.0.0.0/8"},
		{"10.9.1.1", 80, false, "deniedDomains: 10.9.0.0/16"},
		{"192.168.1.5", 80, true, "192.168.1.5"},
		{"192.168.1.6", 80, false, "not in"},
		{"::1", 80, true, "[::1]"},
		{"fd12::1", 80, true, "[fd00::]/8"},
		{"xn--bcher-kva.example", 443, true, "bücher.example"},
		{"example.com", 25, false, "deniedDomains: *:25"},
		{"localhost", 8080, true, "localhost"},
	} {
		host, err := NormalizeHost(tc.host)
		if err != nil {
			t.Fatalf("NormalizeHost(%q): %v", tc.host, err)
		}
		v := p.Decide(host, tc.port)
		if v.Allowed != tc.allow || !strings.Contains(v.Rule, tc.rule) {
			t.Errorf("Decide(%s, %d) = %+v, want allowed=%v rule~%q", tc.host, tc.port, v, tc.allow, tc.rule)
		}
	}
	if v := mustPolicy(t, nil, nil).Decide("example.com", 443); v.Allowed || !strings.Contains(v.Rule, "empty") {
		t.Errorf("empty allow list: %+v", v)
	}
	if v := mustPolicy(t, []string{"example.com"}, []string{"*"}).Decide("example.com", 443); v.Allowed {
		t.Errorf("deny * did not win: %+v", v)
	}
}

func TestNormalizeHost(t *testing.T) {
	for in, want := range map[string]string{
		"Example.COM.":   "example.com",
		"bücher.example": "xn--bcher-kva.example",
		"BÜCHER.example": "xn--bcher-kva.example",
		"[::1]":          "::1",
		"::ffff:1.2.3.4": "1.2.3.4",
		"127.0.0.1":      "127.0.0.1",
		"localhost":      "localhost",
	} {
		got, err := NormalizeHost(in)
		if err != nil || got != want {
			t.Errorf("NormalizeHost(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	// Every trick that could make a matcher and a resolver disagree is
	// rejected outright.
	for _, in := range []string{
		"allowed.com@evil.com", "evil.com#allowed.com", "allowed.com%2eevil.com", "allowed.com/evil",
		"allowed.com:443", " allowed.com", "allowed.com\x00.evil.com", "allowed..com", "-a.com",
		"2130706433", "0x7f.1", "127.1", "0x7f000001", "1.2.3.4.5", "[allowed.com]", "[::1%eth0]", "", "a_b.com",
	} {
		if got, err := NormalizeHost(in); err == nil {
			t.Errorf("NormalizeHost(%q) = %q, want an error", in, got)
		}
	}
}

func TestParseRuleErrors(t *testing.T) {
	for _, tc := range []struct {
		allow []string
		deny  []string
		want  string
	}{
		{[]string{"*"}, nil, "would allow every host"},
		{[]string{"*.com"}, nil, "too broad"},
		{[]string{"::1"}, nil, "brackets"},
		{[]string{"example.com:0"}, nil, "bad port"},
		{[]string{"example.com:99999"}, nil, "bad port"},
		{[]string{"10.0.0.0/33"}, nil, "bad CIDR"},
		{[]string{"exa mple.com"}, nil, "invalid"},
		{nil, []string{"[::1"}, "unclosed"},
	} {
		_, err := NewPolicy(tc.allow, tc.deny)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("NewPolicy(%q, %q) = %v, want %q", tc.allow, tc.deny, err, tc.want)
		}
	}
}

func TestPublic(t *testing.T) {
	for s, want := range map[string]bool{
		"8.8.8.8": true, "2606:4700::1111": true,
		"127.0.0.1": false, "10.1.1.1": false, "172.16.0.1": false, "192.168.0.1": false,
		"169.254.169.254": false, "100.64.0.1": false, "0.0.0.0": false, "::1": false, "fd00::1": false,
		"fe80::1": false, "::ffff:127.0.0.1": false, "224.0.0.1": false, "::": false, "2002:7f00:1::": false,
	} {
		if got := Public(netip.MustParseAddr(s)); got != want {
			t.Errorf("Public(%s) = %v", s, got)
		}
	}
}

// FuzzDecide checks the matcher's promise from the outside: whatever host a
// client sends, it is only allowed when its normalised form is exactly an
// allowed host or a subdomain of an allowed wildcard, and normalisation is
// stable.
func FuzzDecide(f *testing.F) {
	for _, s := range []string{"allowed.com", "a.ok.org", "allowed.com@evil.com", "ALLOWED.com.", "xn--bcher-kva.ok.org", "ok.org", "allowed.com.evil.com", "[::1]", "allowed%2ecom"} {
		f.Add(s, uint16(443))
	}
	p := mustPolicy(f, []string{"allowed.com", "*.ok.org"}, []string{"bad.ok.org"})
	f.Fuzz(func(t *testing.T, raw string, port uint16) {
		host, err := NormalizeHost(raw)
		if err != nil {
			return
		}
		if again, err := NormalizeHost(host); err != nil || again != host {
			t.Fatalf("normalisation not stable: %q -> %q -> %q (%v)", raw, host, again, err)
		}
		if _, isIP := ParseIP(host); !isIP && strings.Trim(host, "abcdefghijklmnopqrstuvwxyz0123456789.-") != "" {
			t.Fatalf("normalised host %q has characters outside LDH", host)
		}
		v := p.Decide(host, int(port))
		if v.Allowed && host != "allowed.com" && (!strings.HasSuffix(host, ".ok.org") || host == "bad.ok.org") {
			t.Fatalf("%q (normalised %q) allowed by %s", raw, host, v.Rule)
		}
	})
}
