package probe

import (
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// extraTools are probe tools defined outside probe.go, one file per topic
// (attack_*.go): each escape test and selftest row calls the tool that
// performs its attack, so the attack code lives in one place.
var extraTools []server.ServerTool

// register adds a tool to every probe server; call it from an init func.
func register(tool mcp.Tool, handler server.ToolHandlerFunc) {
	extraTools = append(extraTools, server.ServerTool{Tool: tool, Handler: handler})
}
