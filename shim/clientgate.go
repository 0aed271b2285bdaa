package shim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/srt-mcp/srt-mcp/internal/jsonrpc"

	"github.com/srt-mcp/srt-mcp/internal/trace"
)

// lineHoldLimit is how much of one client line the gate holds before it
// must decide. A line up to this size reaches the server whole or not at
// all. A longer line (a 64 MiB upload) is streamed once its method, and
// for a tools/call its tool, are known and allowed; even then the server
// gets only a prefix that is not a complete JSON value until the whole
// line has been checked (jsonrpc.Scanner.SafeLen), so a refusal found at its end
// still leaves the server nothing it can act on.
const lineHoldLimit = callDecisionLimit

// gateClient relays the client's lines to the server through the tool gate.
//
// The gate judges whole lines, never a prefix: a line is relayed only if it
// is exactly one JSON value that every parser reads the same way
// (jsonrpc.LineInfo.Bad lists the rules) and json.Valid accepts, and if no
// tools/call in it is refused by the tool policy or the pins. A server that
// parses a JSON stream, splits lines at a bare CR or NUL, skips a BOM or
// matches keys case-insensitively therefore never sees a message the gate
// did not. A refused line is answered with a JSON-RPC error for each
// request id in it (or one with id null), and none of it is relayed.
// Blank lines are dropped.
func (r *run) gateClient(dst io.Writer, src io.Reader, sc *jsonrpc.Scanner) error {
	var envs []jsonrpc.Envelope
	sc.SwapEmit(func(e *jsonrpc.Envelope) { envs = append(envs, *e) })

	const (
		holding   = iota // held is the line so far
		streaming        // the line's first sent bytes were written; held is the rest
		cutting          // refused before its end: the rest is discarded
	)
	mode := holding
	var held []byte
	sent := 0
	var cutWhy string
	var cutOp trace.Op
	write := func(p []byte) error {
		if len(p) == 0 {
			return nil
		}
		_, err := dst.Write(p)
		return err
	}
	cut := func(op trace.Op, why string) error {
		wasStreaming := mode == streaming
		mode, cutOp, cutWhy = cutting, op, why
		held = held[:0]
		if wasStreaming {
			// End the prefix the server has, so that a reader that
			// splits lines drops it as one malformed line.
			return write([]byte{'\n'})
		}
		return nil
	}
	endLine := func() error {
		defer func() { envs, held, sent, mode, cutWhy, cutOp = envs[:0], held[:0], 0, holding, "", "" }()
		info := sc.Line()
		switch {
		case mode == cutting:
			r.refuseLine(envs, cutOp, cutWhy)
			return nil
		case info.Blank:
			return nil
		}
		op, why := trace.OpMessageRefused, ""
		switch {
		case info.Bad:
			why = info.Why
		case mode == holding && !json.Valid(trimLine(held)):
			why = "not valid JSON"
		default:
			op, why = r.lineDecision(envs)
		}
		if why != "" {
			err := cut(op, why)
			r.refuseLine(envs, op, why)
			return err
		}
		// In flight before the server can read the end of the message, so
		// its reply cannot overtake the bookkeeping.
		for i := range envs {
			r.fromClient(&envs[i])
		}
		return write(held)
	}

	buf := make([]byte, relayBufSize)
	for {
		n, err := src.Read(buf)
		for p := buf[:n]; len(p) > 0; {
			k, ended := sc.ScanLine(p)
			seg := p[:k]
			p = p[k:]
			if mode != cutting {
				held = append(held, seg...)
			}
			if ended {
				if werr := endLine(); werr != nil {
					return werr
				}
				continue
			}
			if mode == holding && len(held) > lineHoldLimit {
				op, why := trace.OpMessageRefused, sc.Why()
				if !sc.LineBad() {
					op, why = r.streamDecision(sc.Partial(), envs)
				}
				if why != "" {
					cut(op, why)
					continue
				}
				mode = streaming
			}
			if mode != streaming {
				continue
			}
			if sc.LineBad() {
				if werr := cut(trace.OpMessageRefused, sc.Why()); werr != nil {
					return werr
				}
				continue
			}
			if safe := sc.SafeLen(); safe > sent {
				k := safe - sent
				if werr := write(held[:k]); werr != nil {
					return werr
				}
				held = append(held[:0], held[k:]...)
				sent = safe
			}
		}
		if err == io.EOF {
			if len(held) > 0 || mode != holding {
				// An unterminated last line: judged as if it ended, and
				// relayed, if it passes, without a newline added.
				sc.ScanLine([]byte{'\n'})
				return endLine()
			}
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// trimLine drops the line's newline and a CR before it.
func trimLine(line []byte) []byte {
	line = bytes.TrimSuffix(line, []byte{'\n'})
	return bytes.TrimSuffix(line, []byte{'\r'})
}

// lineDecision applies the tool policy and the pins to a well-formed line.
func (r *run) lineDecision(envs []jsonrpc.Envelope) (op trace.Op, why string) {
	for _, e := range envs {
		if e.Method != "tools/call" {
			continue
		}
		if e.Batch {
			return trace.OpCallDenied, "srt-mcp refuses tools/call inside a JSON-RPC batch while a tool policy or pins apply"
		}
		if ok, op, why := r.tools.callAllowed(e.ToolName); !ok {
			return op, why
		}
	}
	return "", ""
}

// streamDecision decides a line too long to hold, from what the first
// lineHoldLimit bytes said: only a single message may stream, and only if
// it is a response (the client's answer to a server request, such as a
// large sampling result), or its method, and for a tools/call its tool,
// is known and allowed. The whole line is decided again at its end, with
// the last byte held back until then, so a method or name that appears
// later cannot slip through.
func (r *run) streamDecision(partial *jsonrpc.Envelope, envs []jsonrpc.Envelope) (op trace.Op, why string) {
	switch {
	case partial == nil || partial.Batch || len(envs) > 0:
		return trace.OpMessageRefused, "srt-mcp holds at most 1 MiB of a JSON-RPC batch while a tool policy or pins apply"
	case partial.Method == "" && (partial.HasResult || partial.HasError):
		return "", "" // a response
	case partial.Method == "":
		return trace.OpMessageRefused, "srt-mcp could not read the method within the first MiB of the message"
	case partial.Method == "tools/call" && partial.ToolName == "":
		return trace.OpMessageRefused, "srt-mcp could not read the tool name within the first MiB of the request"
	case partial.Method == "tools/call":
		if ok, op, why := r.tools.callAllowed(partial.ToolName); !ok {
			return op, why
		}
	}
	return "", ""
}

// refuseLine answers a refused line: an error for each request id in it
// (each id once), or, for a line refused as a whole with no id found, one
// error with id null; and it reports the refusal.
func (r *run) refuseLine(envs []jsonrpc.Envelope, op trace.Op, why string) {
	code := jsonrpc.CodeToolBlocked
	if op == trace.OpMessageRefused {
		code = jsonrpc.CodeInvalidRequest
	}
	var refs []trace.CallRef
	answered := map[string]bool{}
	for _, e := range envs {
		refs = append(refs, trace.CallRef{ID: json.RawMessage(e.ID), Method: e.Method, Tool: e.ToolName, ArgNames: e.ArgNames, ArgDigest: e.ArgDigest})
		// Anything with an id that is not a response is answered, even
		// when the method could not be read (it may be a request the
		// server would have read differently).
		if e.ID == nil || e.IsResponse() || answered[idKey(e.ID)] {
			continue
		}
		answered[idKey(e.ID)] = true
		msg := fmt.Sprintf("srt-mcp: %s %s refused: %s", e.Method, e.ToolName, why)
		if op == trace.OpMessageRefused {
			msg = "srt-mcp refused the message: " + why + " (a line must hold exactly one JSON-RPC message)"
		}
		if op == trace.OpCallBlocked {
			ref := r.tools.pins.Ref()
			msg += fmt.Sprintf(". Review the change with `srt-mcp pins show %s`, then `srt-mcp pins accept %s`", ref, ref)
		}
		r.out.inject(jsonrpc.ErrorReply(e.ID, code, msg, nil))
		if op != trace.OpMessageRefused {
			r.report(trace.Event{Time: time.Now(), Kind: trace.KindTool, Op: op, Target: e.ToolName, Decision: trace.DecisionDeny, Rule: why, InFlight: []trace.CallRef{refs[len(refs)-1]}})
		}
	}
	if op != trace.OpMessageRefused {
		return
	}
	if len(answered) == 0 {
		r.out.inject(jsonrpc.ErrorReply([]byte("null"), jsonrpc.CodeInvalidRequest, "srt-mcp refused the message: "+why+" (a line must hold exactly one JSON-RPC message)", nil))
	}
	var names []string
	named := []trace.CallRef{}
	for _, c := range refs {
		if n := strings.TrimSpace(c.Method + " " + c.Tool); n != "" {
			names = append(names, n)
			named = append(named, c)
		}
	}
	target := strings.Join(names, ", ")
	if target == "" {
		target = "(no message recognised)"
	}
	r.report(trace.Event{Time: time.Now(), Kind: trace.KindTool, Op: op, Target: target, Decision: trace.DecisionDeny, Rule: why, InFlight: named})
}
