// Package trace is the violation trace: the schema of one trace line
// (docs/traces.md), the writer that appends a server's events to its
// JSON-lines file, the reader, and the summary and settings suggestions
// that `srt-mcp traces` prints.
//
// Every producer of events (the shim's gates and lifecycle, the network
// decisions it reports, the audit) uses the typed Kind, Op and Decision
// constants below rather than bare strings, so a consumer matching on a
// kind cannot silently miss one that was spelt differently.
// sandbox.Violation (sandbox/judge.go, sandbox/seatbeltlog.go) still
// carries its kind and op as strings; they are the same spellings as
// these constants and the shim converts them where it reports them.
package trace

import "encoding/json"

// Kind is what kind of resource an event is about.
type Kind string

// Event kinds.
const (
	KindNetwork    Kind = "network"
	KindFSRead     Kind = "fs-read"
	KindFSWrite    Kind = "fs-write"
	KindUnixSocket Kind = "unix-socket"
	KindTool       Kind = "tool"
	KindSandbox    Kind = "sandbox"
	KindProcess    Kind = "process" // a program started (audit only)
)

// Decision is what srt-mcp did about an event.
type Decision string

// Decisions.
const (
	DecisionDeny      Decision = "deny"
	DecisionWouldDeny Decision = "would-deny"
	DecisionError     Decision = "error"
	DecisionAllow     Decision = "allow" // audit only: an observation, not a violation
)

// Op is the operation that was attempted. Filesystem events carry the
// system call's name and network events the protocol (netfilter's
// Decision.Protocol), so Op is an open set; these are the ops srt-mcp
// itself produces.
type Op string

// Ops of srt-mcp's own events.
const (
	OpStart           Op = "start"            // the sandbox could not start (KindSandbox)
	OpPins            Op = "pins"             // the pin store could not be saved (KindSandbox)
	OpExfil           Op = "exfil"            // an audit canary left the sandbox (KindNetwork)
	OpExec            Op = "exec"             // a program started (KindProcess)
	OpSocket          Op = "socket"           // a unix socket was refused (KindUnixSocket)
	OpCallDenied      Op = "call-denied"      // a tools/call refused by mcp.tools (KindTool)
	OpCallBlocked     Op = "call-blocked"     // a tools/call refused by a pin (KindTool)
	OpMessageRefused  Op = "message-refused"  // a client line that is not one plain message (KindTool)
	OpResponseRefused Op = "response-refused" // a server response the gate could not read (KindTool)
	OpPolicyChanged   Op = "policy-changed"   // no longer recorded (pins ignore the policy); in older traces (KindTool)
	OpToolChanged     Op = "tool-changed"     // a pinned tool changed (KindTool)
)

// Record is one trace line: what the writer writes and the reader reads.
// The field order is the order of the keys in the file.
type Record struct {
	Time     string   `json:"time"` // RFC 3339, UTC, nanoseconds
	Server   string   `json:"server"`
	Run      string   `json:"run"`
	Kind     Kind     `json:"kind"`
	Op       Op       `json:"op"`
	Target   string   `json:"target"`
	Decision Decision `json:"decision"`
	Rule     string   `json:"rule"`
	MCP      MCP      `json:"mcp"`
}

// MCP is what the shim knew of the MCP requests in flight when an event
// happened.
type MCP struct {
	InFlight []CallRef `json:"inFlight"`
	// Ambiguous: more than one request was in flight, so the event
	// cannot be pinned on one of them.
	Ambiguous bool `json:"ambiguous"`
}

// CallRef names an MCP request that was in flight when an event happened.
type CallRef struct {
	ID        json.RawMessage `json:"id"`
	Method    string          `json:"method"`
	Tool      string          `json:"tool,omitempty"`
	ArgNames  []string        `json:"argNames,omitempty"`
	ArgDigest string          `json:"argDigest,omitempty"`
}
