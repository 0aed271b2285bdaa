package jsonrpc

import (
	"strings"
	"testing"
)

// BenchmarkScanner measures the envelope scanner alone on a typical small
// message and on a large string payload.
func BenchmarkScanner(b *testing.B) {
	small := []byte(`{"jsonrpc":"2.0","id":42,"method":"tools/call","params":{"name":"read_file","arguments":{"path":"/home/user/project/README.md"}}}` + "\n")
	large := []byte(`{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"` + strings.Repeat("lorem ipsum \\\"dolor\\\" sit amet ", 1<<16) + `"}]}}` + "\n")
	for name, msg := range map[string][]byte{"small": small, "large": large} {
		b.Run(name, func(b *testing.B) {
			sc := NewScanner(func(*Envelope) {})
			b.SetBytes(int64(len(msg)))
			for b.Loop() {
				for p := msg; len(p) > 0; {
					k := min(len(p), 256<<10)
					sc.Scan(p[:k])
					p = p[k:]
				}
			}
		})
	}
}
