package audit

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/srt-mcp/srt-mcp/internal/pins"
)

// TestAuditDigestIsThePinDigest: the digest the audit reports for a tool is
// the one the shim pins. The schema has no "properties" and keys mcp-go's
// schema struct does not model; the audit's former digest (of mcp-go's
// decoded and re-encoded tool) added "properties": {} and dropped
// "$schema" and "title", so it named a different digest than
// `srt-mcp pins show` for the same tool.
func TestAuditDigestIsThePinDigest(t *testing.T) {
	schema := json.RawMessage(`{"$schema":"https://json-schema.org/draft/2020-12/schema","title":"t","type":"object"}`)
	srv := server.NewMCPServer("s", "1", server.WithToolCapabilities(false))
	srv.AddTool(mcp.NewToolWithRawSchema("raw_tool", "does things", schema), func(context.Context, mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		return mcp.NewToolResultText("ok"), nil
	})
	tr := transport.NewInProcessTransport(srv)
	c := client.NewClient(tr)
	ctx := context.Background()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Initialize(ctx, mcp.InitializeRequest{Params: mcp.InitializeParams{ProtocolVersion: "2025-11-25", ClientInfo: mcp.Implementation{Name: "t", Version: "1"}}}); err != nil {
		t.Fatal(err)
	}
	got, err := listTools(ctx, tr)
	if err != nil {
		t.Fatal(err)
	}
	// What the shim pins for this tools/list entry (shim/tools.go feeds
	// each raw entry to pins.ParseTool).
	entry, _ := json.Marshal(map[string]any{"name": "raw_tool", "description": "does things", "inputSchema": schema})
	_, want, ok := pins.ParseTool(entry)
	if !ok {
		t.Fatal("ParseTool refused the entry")
	}
	if len(got) != 1 || got[0].Name != "raw_tool" || got[0].Digest != want.Digest || got[0].Description != "does things" {
		t.Fatalf("audit saw %+v, the pin digest is %s", got, want.Digest)
	}
	// The former computation (mcp-go's decoded tool, re-encoded) gives
	// another digest for the same tool: the reason listTools reads raw.
	tools, err := c.ListTools(ctx, mcp.ListToolsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(tools.Tools[0])
	var def struct{ InputSchema any }
	json.Unmarshal(raw, &def)
	if old := pins.Digest(map[string]any{"name": "raw_tool", "description": "does things", "inputSchema": def.InputSchema}); old == want.Digest {
		t.Errorf("mcp-go's decoded tool now digests like the raw entry (%s): listTools could use ListTools again", old)
	}
}
