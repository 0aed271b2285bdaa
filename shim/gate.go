package shim

import (
	"bytes"
	"io"

	"github.com/srt-mcp/srt-mcp/internal/jsonrpc"
)

// verdict is a gate's decision about one message.
type verdict int

const (
	undecided verdict = iota
	pass              // relay the message unchanged
	drop              // do not relay it (the gate answers for it)
	replace           // relay other bytes instead (only at the end)
)

// gate decides about messages while they stream. partial is asked after
// each piece of a message with what the scanner has seen so far; it may
// return undecided to hold the bytes back (up to the gate's limit, after
// which overLimit decides). end gets the message's envelope(s) once it is
// complete, and, when the message was held to the end, its bytes.
type gate struct {
	partial   func(env *jsonrpc.Envelope, held int) verdict
	limit     int
	overLimit verdict
	end       func(envs []jsonrpc.Envelope, v verdict, msg []byte) (verdict, []byte)
}

// gatedPump is pump with a gate: a message is streamed as soon as the gate
// passes it, so only messages the gate must see whole are held in memory,
// and never more than the gate's limit of any one.
func gatedPump(dst io.Writer, src io.Reader, sc *jsonrpc.Scanner, g *gate) error {
	var envs []jsonrpc.Envelope
	emit := sc.SwapEmit(func(e *jsonrpc.Envelope) { envs = append(envs, *e) })
	defer sc.SwapEmit(emit)

	buf := make([]byte, relayBufSize)
	var held bytes.Buffer
	v := undecided
	write := func(p []byte) error {
		_, err := dst.Write(p)
		return err
	}
	for {
		n, err := src.Read(buf)
		for p := buf[:n]; len(p) > 0; {
			k, ended := sc.ScanLine(p)
			seg := p[:k]
			p = p[k:]
			if ended {
				if v == undecided || v == replace {
					held.Write(seg)
					v2, repl := g.end(envs, v, held.Bytes())
					switch v2 {
					case pass, undecided:
						if err := write(held.Bytes()); err != nil {
							return err
						}
					case replace:
						if err := write(repl); err != nil {
							return err
						}
					}
				} else {
					g.end(envs, v, nil)
					if v == pass {
						if err := write(seg); err != nil {
							return err
						}
					}
				}
				envs, v = envs[:0], undecided
				held.Reset()
				continue
			}
			switch v {
			case pass:
				if err := write(seg); err != nil {
					return err
				}
				continue
			case drop:
				continue
			}
			v = g.partial(sc.Partial(), held.Len()+len(seg))
			if v == undecided && held.Len()+len(seg) > g.limit {
				v = g.overLimit
			}
			switch v {
			case pass:
				if err := write(append(held.Bytes(), seg...)); err != nil {
					return err
				}
				held.Reset()
			case drop:
				held.Reset()
			default:
				held.Write(seg)
			}
		}
		if err == io.EOF {
			if sc.AtLineStart() {
				return nil // the stream ended at a line boundary
			}
			// An unterminated last message: it gets the same decision as
			// a terminated one, and counts as answered only if it is one
			// well-formed message (finishLastLine).
			finishLastLine(sc)
			if sc.Line().Bad {
				envs = envs[:0]
			}
			switch {
			case v == undecided && held.Len() > 0:
				switch v2, repl := g.end(envs, v, held.Bytes()); v2 {
				case pass, undecided:
					write(held.Bytes())
				case replace:
					write(repl)
				}
			case v != undecided:
				g.end(envs, v, nil)
			}
			return nil
		}
		if err != nil {
			return err
		}
	}
}
