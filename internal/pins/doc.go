// Package pins is tool pinning: trust on first use of a server's tool
// definitions and instructions. The store keeps one JSON file per server
// (what was accepted, what is pending); a Session applies it during one
// run, deciding which tools/call requests the shim refuses; ToolDiff shows
// people what changed. Digest and ParseTool are the one definition of a
// tool's digest, shared with the audit's report.
package pins
