package safetext

import (
	"bytes"
	"io"
	"strings"
	"sync"
	"unicode/utf8"
)

// MessageWriter is for a program's own one-line messages: every Write is
// one message, and everything in it is escaped except one final newline.
// Whatever untrusted text a message carries, it stays on its own line.
type MessageWriter struct {
	W io.Writer
}

// Write escapes p (keeping one trailing newline) and writes it at once.
func (m MessageWriter) Write(p []byte) (int, error) {
	body, nl := p, false
	if len(body) > 0 && body[len(body)-1] == '\n' {
		body, nl = body[:len(body)-1], true
	}
	out := Line(string(body))
	if nl {
		out += "\n"
	}
	if _, err := io.WriteString(m.W, out); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Block writes one message with continuation lines (a diff under a
// report) in a single Write: first as Write would, then each line of more
// escaped and indented by four spaces. The program's own lines never start
// with a blank, so an untrusted continuation line cannot pass for one.
func (m MessageWriter) Block(first string, more []string) error {
	var b strings.Builder
	b.WriteString(Line(strings.TrimSuffix(first, "\n")))
	b.WriteByte('\n')
	for _, l := range more {
		b.WriteString("    ")
		b.WriteString(Line(l))
		b.WriteByte('\n')
	}
	_, err := io.WriteString(m.W, b.String())
	return err
}

// maxPending bounds how much of one unterminated line StreamWriter holds
// before it writes the escaped part out (the line then continues).
const maxPending = 64 << 10

// StreamWriter relays an untrusted byte stream (a sandboxed server's
// stderr) line by line: each line is escaped as Line does, except that tabs
// are kept (stack traces indent with them; a tab cannot start a line or
// drive a terminal), and a line that could pass for one of the program's
// own (it starts with Impersonated, after blanks) gets Label in front.
// Each complete line is written with one Write, so it does not interleave
// with the program's own messages on a shared, locked writer.
type StreamWriter struct {
	W            io.Writer
	Impersonated string // e.g. "srt": compared without regard to case
	Label        string // e.g. "[server] "

	mu      sync.Mutex
	pending []byte
	midLine bool // part of the current line was already written
}

// Write takes any chunk of the stream.
func (s *StreamWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			s.pending = append(s.pending, p...)
			if len(s.pending) >= maxPending {
				s.flushPartial()
			}
			return n, nil
		}
		s.pending = append(s.pending, p[:i]...)
		p = p[i+1:]
		if err := s.emit(s.pending, true); err != nil {
			return n, err
		}
		s.pending, s.midLine = s.pending[:0], false
	}
	return n, nil
}

// Close writes an unterminated last line, ended with a newline.
func (s *StreamWriter) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.pending) == 0 && !s.midLine {
		return nil
	}
	err := s.emit(s.pending, true)
	s.pending, s.midLine = s.pending[:0], false
	return err
}

// flushPartial writes the held part of a long line, keeping back an
// incomplete UTF-8 sequence at its end.
func (s *StreamWriter) flushPartial() {
	cut := len(s.pending)
	for k := 1; k < utf8.UTFMax && k <= cut; k++ {
		if utf8.RuneStart(s.pending[cut-k]) {
			if !utf8.FullRune(s.pending[cut-k:]) {
				cut -= k
			}
			break
		}
	}
	_ = s.emit(s.pending[:cut], false)
	rest := copy(s.pending, s.pending[cut:])
	s.pending = s.pending[:rest]
	s.midLine = true
}

func (s *StreamWriter) emit(line []byte, end bool) error {
	var b strings.Builder
	text := string(line)
	if !s.midLine && s.Impersonated != "" && hasPrefixFold(strings.TrimLeft(text, " \t"), s.Impersonated) {
		b.WriteString(s.Label)
	}
	for len(text) > 0 {
		tab := strings.IndexByte(text, '\t')
		if tab < 0 {
			b.WriteString(Line(text))
			break
		}
		b.WriteString(Line(text[:tab]))
		b.WriteByte('\t')
		text = text[tab+1:]
	}
	if end {
		b.WriteByte('\n')
	}
	_, err := io.WriteString(s.W, b.String())
	return err
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
