package audit

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/srt-mcp/srt-mcp/internal/pins"
)

// maxToolPages bounds the tools/list pages the audit follows.
const maxToolPages = 1000

// listTools reads the server's tools/list pages as raw JSON and describes
// each tool with pins.ParseTool, so that the digest in the report is the
// one the shim pins and `srt-mcp pins show` compares. mcp-go's ListTools
// cannot be used for this: it decodes inputSchema into its own struct,
// which drops keys it does not model ("$schema", "title", ...) and adds
// "properties": {} where the server sent none, so its re-encoding digests
// differently from what the server sent.
func listTools(ctx context.Context, tr transport.Interface) ([]Tool, error) {
	var out []Tool
	seen := map[string]bool{}
	cursor := ""
	for page := 0; page < maxToolPages; page++ {
		var params any
		if cursor != "" {
			params = map[string]any{"cursor": cursor}
		}
		resp, err := tr.SendRequest(ctx, transport.JSONRPCRequest{
			JSONRPC: mcp.JSONRPC_VERSION,
			// A string id: the client's own requests use numbers, so the
			// two can never be confused.
			ID:     mcp.NewRequestId(fmt.Sprintf("srt-mcp-audit-tools-%d", page)),
			Method: string(mcp.MethodToolsList),
			Params: params,
		})
		if err != nil {
			return out, fmt.Errorf("tools/list: %w", err)
		}
		if resp.Error != nil {
			return out, fmt.Errorf("tools/list: %s", resp.Error.Message)
		}
		var res struct {
			Tools      []json.RawMessage `json:"tools"`
			NextCursor string            `json:"nextCursor"`
		}
		if err := json.Unmarshal(resp.Result, &res); err != nil {
			return out, fmt.Errorf("tools/list: %w", err)
		}
		for _, raw := range res.Tools {
			if name, def, ok := pins.ParseTool(raw); ok {
				out = append(out, Tool{Name: name, Description: def.Description, Digest: def.Digest})
			}
		}
		if res.NextCursor == "" || seen[res.NextCursor] {
			return out, nil
		}
		seen[res.NextCursor] = true
		cursor = res.NextCursor
	}
	return out, nil
}
