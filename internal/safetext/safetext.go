// Package safetext makes untrusted text safe to print for people.
//
// Much of what srt-mcp prints comes from the sandboxed server: the paths it
// tried to open, the host names it asked the proxies for, its tool names,
// its stderr. Printed raw, a newline in such a string starts a line that
// looks like srt-mcp's own ("srt-mcp: ..."), an ESC byte drives the
// terminal that shows the log (clear the screen, rewrite the title, set the
// clipboard with OSC 52), and a Unicode bidi override or zero-width
// character makes a path read as something else. Every string of that kind
// goes through Line before it reaches stderr or a human-readable report.
// JSON output does not: encoding/json already escapes control characters.
package safetext

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Line returns s as one line of inert text. Every rune that is not a
// graphic character or the ASCII space is replaced by a Go-style escape:
// control characters (C0, DEL, C1), line and paragraph separators, format
// characters (bidi overrides and isolates, zero-width joiners, the BOM,
// tag characters), non-ASCII spaces, private-use and unassigned code
// points. Invalid UTF-8 bytes become \xNN. The backslash is doubled, so the
// escaped form is unambiguous: a path that really contains the two
// characters `\n` prints as `\\n`, never as an escaped newline.
//
// Strings that need no escaping are returned unchanged without allocating.
func Line(s string) string {
	i := firstUnsafe(s)
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	b.WriteString(s[:i])
	appendEscaped(&b, s[i:])
	return b.String()
}

// Lines applies Line to each line of s and keeps the newlines between
// them: for multi-line text of our own (a diff, a report) that carries
// untrusted fragments. A final newline is kept as it is.
func Lines(s string) string {
	if firstUnsafeExceptNewline(s) < 0 {
		return s
	}
	trailing := strings.HasSuffix(s, "\n")
	parts := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	for i, p := range parts {
		parts[i] = Line(p)
	}
	out := strings.Join(parts, "\n")
	if trailing {
		out += "\n"
	}
	return out
}

// Safe reports whether Line would return s unchanged.
func Safe(s string) bool { return firstUnsafe(s) < 0 }

// Escape reports whether r must be escaped.
func Escape(r rune) bool { return r == '\\' || !unicode.IsPrint(r) }

func firstUnsafe(s string) int {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f || c == '\\' {
				return i
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 || Escape(r) {
			return i
		}
		i += n
	}
	return -1
}

func firstUnsafeExceptNewline(s string) int {
	for i := 0; i < len(s); {
		j := firstUnsafe(s[i:])
		if j < 0 {
			return -1
		}
		if s[i+j] != '\n' {
			return i + j
		}
		i += j + 1
	}
	return -1
}

const hexDigits = "0123456789abcdef"

func appendEscaped(b *strings.Builder, s string) {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case c == '\\':
				b.WriteString(`\\`)
			case c == '\n':
				b.WriteString(`\n`)
			case c == '\r':
				b.WriteString(`\r`)
			case c == '\t':
				b.WriteString(`\t`)
			case c < 0x20 || c == 0x7f:
				b.WriteString(`\x`)
				b.WriteByte(hexDigits[c>>4])
				b.WriteByte(hexDigits[c&0xf])
			default:
				b.WriteByte(c)
			}
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			b.WriteString(`\x`)
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&0xf])
		case !Escape(r):
			b.WriteString(s[i : i+n])
		case r <= 0xffff:
			b.WriteString(`\u`)
			writeHex(b, uint32(r), 4)
		default:
			b.WriteString(`\U`)
			writeHex(b, uint32(r), 8)
		}
		i += n
	}
}

func writeHex(b *strings.Builder, v uint32, digits int) {
	for d := digits - 1; d >= 0; d-- {
		b.WriteByte(hexDigits[(v>>(4*uint(d)))&0xf])
	}
}

// JSON makes encoded JSON safe for a terminal without changing what it
// means: encoding/json escapes C0 controls, but leaves DEL, C1 controls,
// bidi overrides and other format characters raw. In encoded JSON such a
// rune can only be inside a string, where \uXXXX (a surrogate pair above
// U+FFFF) denotes the same rune.
func JSON(b []byte) []byte {
	i := firstUnsafeJSON(b)
	if i < 0 {
		return b
	}
	out := make([]byte, 0, len(b)+16)
	out = append(out, b[:i]...)
	for i < len(b) {
		r, n := utf8.DecodeRune(b[i:])
		// ASCII other than DEL is left alone: encoding/json has escaped
		// the controls inside strings, and the ones outside are the
		// indentation's newlines and tabs. An invalid byte (r is
		// RuneError, n is 1) becomes \ufffd, as encoding/json would.
		if r < 0x7f || !Escape(r) && !(r == utf8.RuneError && n == 1) {
			out = append(out, b[i:i+n]...)
			i += n
			continue
		}
		if r > 0xffff {
			r -= 0x10000
			out = appendU(out, 0xd800+(r>>10))
			out = appendU(out, 0xdc00+(r&0x3ff))
		} else {
			out = appendU(out, r)
		}
		i += n
	}
	return out
}

func firstUnsafeJSON(b []byte) int {
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			if c == 0x7f {
				return i
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError || Escape(r) {
			return i
		}
		i += n
	}
	return -1
}

func appendU(out []byte, r rune) []byte {
	return append(out, '\\', 'u', hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
}
