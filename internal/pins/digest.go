package pins

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
)

// Digest is the digest of a pinned value: SHA-256 of its JSON encoding
// (maps marshal with sorted keys, so equal values digest equally), cut to
// 128 bits. Tool digests, instruction digests and the pin-state
// comparison all use it, and so does the audit's report, so that a digest
// in `srt-mcp audit` is the one `srt-mcp pins show` compares.
func Digest(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		// Only values decoded from JSON reach here; they always encode.
		// Should one not, its digest must not collide with another's.
		b = []byte("unencodable: " + err.Error())
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:16])
}

// ParseTool builds the pin of one tool from its raw tools/list entry: its
// name and its ToolDef, whose Digest covers the name, the description and
// the input schema exactly as the server sent them (decoded and
// re-encoded, so key order and spacing do not count). ok is false for an
// entry without a name.
func ParseTool(raw json.RawMessage) (name string, def ToolDef, ok bool) {
	var t struct {
		Name        string          `json:"name"`
		Description string          `json:"description"`
		InputSchema json.RawMessage `json:"inputSchema"`
	}
	if json.Unmarshal(raw, &t) != nil || t.Name == "" {
		return "", ToolDef{}, false
	}
	var schema any
	json.Unmarshal(t.InputSchema, &schema)
	canonical, _ := json.Marshal(schema)
	return t.Name, ToolDef{
		Digest:      Digest(map[string]any{"name": t.Name, "description": t.Description, "inputSchema": schema}),
		Description: t.Description,
		InputSchema: canonical,
	}, true
}
