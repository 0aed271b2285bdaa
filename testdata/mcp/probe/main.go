// Command probe is the probe MCP server (internal/probe) as a stand-alone
// binary, for tests that run it under srt-mcp like any third-party server.
package main

import (
	"fmt"
	"os"

	"github.com/srt-mcp/srt-mcp/internal/probe"
)

func main() {
	if err := probe.Serve(); err != nil {
		fmt.Fprintln(os.Stderr, "probe:", err)
		os.Exit(1)
	}
}
