//go:build unix

package e2e

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/srt-mcp/srt-mcp/internal/testbin"
)

// TestTypeScriptShapedToolList: tools/list answers shaped as the
// TypeScript SDK's servers write them are filtered (and so pinned) like any
// other. One whose tool schema nests
// objects with several keys nine and more levels down (any array of
// objects in a TypeScript SDK server's schema: the memory server's
// create_entities) is read like any other. The scanner used to take such
// a line for malformed JSON: written result first, as the TypeScript SDK
// writes it, the answer lost its id, so the gate neither filtered nor
// pinned it (denied_tool reached the client: an escape of mcp.tools and of
// the pins) and the request stayed in flight for good (every later
// violation blamed on tools/list too); written id first, the answer was
// refused as malformed (no tools at all). And an answer written result
// first whose id comes after its first MiB (list-padded-result-first) was
// streamed as "not a reply we filter", also unfiltered and unpinned.
func TestTypeScriptShapedToolList(t *testing.T) {
	ForEachUser(t, func(t *testing.T, u User) {
		for _, variant := range []string{"list-deep-result-first", "list-deep-id-first", "list-padded-result-first"} {
			t.Run(variant, func(t *testing.T) {
				w := NewWorld(t, u)
				w.Env = append(w.Env, "PROBE_VARIANT="+variant)
				settings := w.Settings(t, `{"mcp": {"tools": {"deny": ["denied_tool"]}}}`)
				c := startRaw(t, w, "--settings", settings, "--", testbin.Probe(t), "--json-stream", filepath.Join(w.Project, "received.txt"))
				c.send(t, `{"jsonrpc":"2.0","id":100,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`+"\n")
				c.wait(t, 100)
				c.send(t, `{"jsonrpc":"2.0","id":101,"method":"tools/list"}`+"\n")
				list := c.wait(t, 101)
				if strings.Contains(list, "denied_tool") {
					t.Errorf("ESCAPE: the client was shown denied_tool: %s", list)
				}
				if !strings.Contains(list, `"allowed"`) {
					t.Errorf("the list was not relayed (filtered): %s", list)
				}
			})
		}
	})
}
