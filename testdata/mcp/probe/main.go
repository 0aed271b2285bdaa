// Command probe is the probe MCP server (internal/probe) as a stand-alone
// binary, for tests that run it under srt-mcp like any third-party server.
// "probe --json-stream RECORD" runs the lenient JSON-stream server instead
// (probe.ServeJSONStream), for the tool gate's framing tests.
package main

import (
	"fmt"
	"os"

	"github.com/srt-mcp/srt-mcp/internal/probe"
)

func main() {
	var err error
	if len(os.Args) == 3 && os.Args[1] == "--json-stream" {
		err = probe.ServeJSONStream(os.Stdin, os.Stdout, os.Args[2])
	} else {
		err = probe.Serve()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "probe:", err)
		os.Exit(1)
	}
}
