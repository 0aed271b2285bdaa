package pins

import (
	"encoding/json"
	"testing"
)

// TestParseToolDigest: the tool digest covers name, description and input
// schema as the server sent them, and nothing about their encoding.
func TestParseToolDigest(t *testing.T) {
	base := `{"name":"t","description":"d","inputSchema":{"type":"object","properties":{"a":{"type":"string"}}}}`
	_, def, ok := ParseTool(json.RawMessage(base))
	if !ok {
		t.Fatal("refused")
	}
	for _, c := range []struct {
		name, raw string
		same      bool
	}{
		{"key order and spacing", `{ "inputSchema" : {"properties":{"a":{"type":"string"}},"type":"object"}, "description":"d", "name":"t" }`, true},
		{"fields the digest does not cover", `{"name":"t","description":"d","annotations":{"title":"x"},"inputSchema":{"type":"object","properties":{"a":{"type":"string"}}}}`, true},
		{"description", `{"name":"t","description":"d2","inputSchema":{"type":"object","properties":{"a":{"type":"string"}}}}`, false},
		{"schema key mcp-go does not model", `{"name":"t","description":"d","inputSchema":{"$schema":"x","type":"object","properties":{"a":{"type":"string"}}}}`, false},
		{"no properties", `{"name":"t","description":"d","inputSchema":{"type":"object"}}`, false},
		{"name", `{"name":"t2","description":"d","inputSchema":{"type":"object","properties":{"a":{"type":"string"}}}}`, false},
	} {
		_, d, ok := ParseTool(json.RawMessage(c.raw))
		if !ok {
			t.Errorf("%s: refused", c.name)
			continue
		}
		if (d.Digest == def.Digest) != c.same {
			t.Errorf("%s: digest %s vs %s, want same=%v", c.name, d.Digest, def.Digest, c.same)
		}
	}
	if _, _, ok := ParseTool(json.RawMessage(`{"description":"no name"}`)); ok {
		t.Error("an entry without a name was accepted")
	}
}
