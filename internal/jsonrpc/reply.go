package jsonrpc

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// JSON-RPC error codes of the replies srt-mcp sends in the server's place.
// -32600 is JSON-RPC's own; the others are implementation-defined server
// errors (-32000 to -32099). Clients and tests match on these numbers, so
// they never change meaning.
const (
	// CodeInvalidRequest: a client line that is not exactly one JSON-RPC
	// message.
	CodeInvalidRequest = -32600
	// CodeSandboxUnavailable: the sandbox could not be applied, so the
	// server was never started.
	CodeSandboxUnavailable = -32001
	// CodeServerExited: the server died with the request in flight.
	CodeServerExited = -32002
	// CodeToolBlocked: a tools/call refused by the tool policy or a
	// changed pin.
	CodeToolBlocked = -32003
	// CodeResponseRefused: the client gets it instead of a server's
	// tools/list, initialize or server/discover response that the shim
	// could not read unambiguously.
	CodeResponseRefused = -32004
)

// ErrorReply renders a JSON-RPC error response, newline-terminated, for the
// raw JSON id (as the Scanner captured it). data is omitted when nil or
// when it cannot be marshalled: the reply itself must always be sent.
func ErrorReply(id []byte, code int, message string, data any) []byte {
	var b bytes.Buffer
	b.WriteString(`{"jsonrpc":"2.0","id":`)
	b.Write(id)
	b.WriteString(`,"error":{"code":`)
	b.WriteString(strconv.Itoa(code))
	b.WriteString(`,"message":`)
	msg, _ := json.Marshal(message) // a string always marshals
	b.Write(msg)
	if data != nil {
		d, err := json.Marshal(data)
		if err == nil {
			b.WriteString(`,"data":`)
			b.Write(d)
		}
	}
	b.WriteString("}}\n")
	return b.Bytes()
}
