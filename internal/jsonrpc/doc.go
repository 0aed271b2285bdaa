// Package jsonrpc reads and writes newline-delimited JSON-RPC 2.0 as the
// shim relays it: a streaming Scanner that finds message boundaries and the
// few envelope fields the gates judge (without holding a message's body),
// the verdict on a whole line (LineInfo), and the error replies the shim
// sends on the server's behalf.
//
// It knows nothing about sandboxes, tools or policy: the decisions built on
// what it finds live in package shim.
package jsonrpc
