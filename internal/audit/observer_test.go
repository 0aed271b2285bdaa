package audit

import (
	"net/http"
	"strings"
	"testing"

	"github.com/srt-mcp/srt-mcp/internal/trace"
	"github.com/srt-mcp/srt-mcp/netfilter"
	"github.com/srt-mcp/srt-mcp/shim"
)

var _ shim.Observer = (*Observer)(nil)

// TestObserverFindsCanaries: a canary in a host name (any case), a URL, a
// header or a body is recorded as exfil; an allowed destination as allow;
// a denied one is the shim's to report, not the Observer's.
func TestObserverFindsCanaries(t *testing.T) {
	o := &Observer{Canaries: map[string]string{"ssh-key": "CANARYabcdef0123456789"}}
	brief := func(es []trace.Event) string {
		var out []string
		for _, e := range es {
			out = append(out, string(e.Op)+" "+e.Target+" "+string(e.Decision)+" "+e.Rule)
		}
		return strings.Join(out, "|")
	}
	for _, c := range []struct {
		name string
		d    netfilter.Decision
		want string
	}{
		{"dns exfil", netfilter.Decision{Protocol: "connect", Host: "canaryABCDEF0123456789.evil.test", Port: 443, Allowed: false, Rule: "not allowed"},
			"exfil canaryABCDEF0123456789.evil.test:443 allow canary ssh-key in the host name"},
		{"allowed", netfilter.Decision{Protocol: "http", Host: "example.org", Port: 80, Allowed: true, Rule: "network.allowedDomains: example.org"},
			"http example.org:80 allow network.allowedDomains: example.org"},
		{"would deny", netfilter.Decision{Protocol: "http", Host: "example.org", Port: 80, Allowed: true, WouldDeny: true}, ""},
	} {
		if got := brief(o.Connection(c.d)); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
	req, _ := http.NewRequest("POST", "http://x.test/?q=CANARYabcdef0123456789", nil)
	req.Header.Set("X-Leak", "CANARYabcdef0123456789")
	if got, want := brief(o.Request(req, []byte("..CANARYabcdef0123456789.."))), "exfil x.test allow canary ssh-key in the request URL and headers and body"; got != want {
		t.Errorf("request: %q, want %q", got, want)
	}
	if w := o.Watch(); !w.Exec {
		t.Error("Watch does not report programs")
	}
}
