package safetext

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestLine(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"plain", "/home/u/.ssh/id_rsa", "/home/u/.ssh/id_rsa"},
		{"empty", "", ""},
		{"unicode letters stay", "/tmp/café/日本", "/tmp/café/日本"},
		{"newline forging a line", "x\nsrt-mcp: forged", `x\nsrt-mcp: forged`},
		{"carriage return", "a\rb", `a\rb`},
		{"tab", "a\tb", `a\tb`},
		{"escape sequence", "a\x1b[2Jb", `a\x1b[2Jb`},
		{"NUL and DEL", "\x00\x7f", `\x00\x7f`},
		{"C1 CSI", "a\u009b2J", `a\u009b2J`},
		{"bidi override", "file\u202Egnp.exe", `file\u202egnp.exe`},
		{"bidi isolate", "\u2066x\u2069", `\u2066x\u2069`},
		{"zero width joiner", "a\u200db", `a\u200db`},
		{"BOM", "\ufeffx", `\ufeffx`},
		{"line separator", "a\u2028b\u2029c", `a\u2028b\u2029c`},
		{"non-ASCII space", "a\u00a0b", `a\u00a0b`},
		{"tag character", "a\U000E0041", `a\U000e0041`},
		{"private use", "\ue000", `\ue000`},
		{"invalid UTF-8", "a\xffb\xc3", `a\xffb\xc3`},
		{"backslash doubled", `C:\new`, `C:\\new`},
		{"literal backslash-n differs from a newline", `a\n`, `a\\n`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Line(tc.in); got != tc.want {
				t.Errorf("Line(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if Safe(tc.in) != (tc.in == tc.want) {
				t.Errorf("Safe(%q) = %v", tc.in, Safe(tc.in))
			}
		})
	}
}

func TestLines(t *testing.T) {
	in := "--- a\x1b[2J\n+++ b\u202e\n"
	want := "--- a\\x1b[2J\n+++ b\\u202e\n"
	if got := Lines(in); got != want {
		t.Errorf("Lines = %q, want %q", got, want)
	}
	if got := Lines("ok\nfine\n"); got != "ok\nfine\n" {
		t.Errorf("Lines changed safe text: %q", got)
	}
}

func TestMessageWriter(t *testing.T) {
	var b strings.Builder
	w := MessageWriter{W: &b}
	w.Write([]byte("srt-mcp: denied read /x\nsrt-mcp: forged\x1b[2J: rule\n"))
	w.Write([]byte("no newline"))
	want := "srt-mcp: denied read /x\\nsrt-mcp: forged\\x1b[2J: rule\nno newline"
	if b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}

func TestMessageWriterBlock(t *testing.T) {
	var b strings.Builder
	MessageWriter{W: &b}.Block("srt-mcp: denied tool-changed x\x1b: changed", []string{"- description: a", "+ description: b", "srt-mcp: forged"})
	want := "srt-mcp: denied tool-changed x\\x1b: changed\n    - description: a\n    + description: b\n    srt-mcp: forged\n"
	if b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}

func TestStreamWriter(t *testing.T) {
	for _, tc := range []struct {
		name   string
		chunks []string
		want   string
	}{
		{"lines pass", []string{"hello\n", "world\n"}, "hello\nworld\n"},
		{"split line joined", []string{"hel", "lo\n"}, "hello\n"},
		{"tabs kept", []string{"panic:\n\tmain.go:3\n"}, "panic:\n\tmain.go:3\n"},
		{"escapes escaped", []string{"\x1b[31mred\x1b[0m\n"}, "\\x1b[31mred\\x1b[0m\n"},
		{"impersonation labelled", []string{"srt-mcp: denied nothing\n"}, "[server] srt-mcp: denied nothing\n"},
		{"impersonation after blanks, any case", []string{"  SRT-MCP: x\n"}, "[server]   SRT-MCP: x\n"},
		{"impersonation split across writes", []string{"srt", "-mcp: x\n"}, "[server] srt-mcp: x\n"},
		{"bare CR cannot hide a line", []string{"ok\rsrt-mcp: forged\n"}, "ok\\rsrt-mcp: forged\n"},
		{"unterminated last line ended on Close", []string{"tail"}, "tail\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			w := &StreamWriter{W: &b, Impersonated: "srt", Label: "[server] "}
			for _, c := range tc.chunks {
				w.Write([]byte(c))
			}
			w.Close()
			if b.String() != tc.want {
				t.Errorf("got %q, want %q", b.String(), tc.want)
			}
		})
	}
}

func TestStreamWriterLongLine(t *testing.T) {
	var b strings.Builder
	w := &StreamWriter{W: &b}
	long := strings.Repeat("é", maxPending) // 2 bytes each: flushes mid-rune
	w.Write([]byte(long[:len(long)-1]))
	w.Write([]byte(long[len(long)-1:] + "\n"))
	if b.String() != long+"\n" {
		t.Errorf("a long line of valid UTF-8 was altered (len %d, want %d)", b.Len(), len(long)+1)
	}
}

// checkInert asserts the properties every escaped string must have.
func checkInert(t *testing.T, in, out string) {
	t.Helper()
	if !utf8.ValidString(out) {
		t.Fatalf("Line(%q) is not valid UTF-8: %q", in, out)
	}
	for _, r := range out {
		if r != ' ' && !unicode.IsGraphic(r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029' {
			t.Fatalf("Line(%q) = %q keeps %U", in, out, r)
		}
	}
	if Line(out) != strings.ReplaceAll(out, `\`, `\\`) {
		t.Fatalf("Line(%q) = %q is not stable apart from backslashes", in, out)
	}
}

func FuzzLine(f *testing.F) {
	for _, s := range []string{"", "plain", "a\nb", "\x1b]52;c;AAAA\x07", "\u202e", "\xff\xfe", `\`, "\u0085"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Line(s)
		checkInert(t, s, out)
		if Safe(s) && out != s {
			t.Fatalf("Safe(%q) but Line changed it to %q", s, out)
		}
		if unquote(out) != s {
			t.Fatalf("Line(%q) = %q does not decode back", s, out)
		}
	})
}

// unquote reverses Line, proving the escaped form is unambiguous.
func unquote(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] != '\\' {
			b.WriteByte(s[i])
			i++
			continue
		}
		switch s[i+1] {
		case '\\':
			b.WriteByte('\\')
			i += 2
		case 'n':
			b.WriteByte('\n')
			i += 2
		case 'r':
			b.WriteByte('\r')
			i += 2
		case 't':
			b.WriteByte('\t')
			i += 2
		case 'x':
			b.WriteByte(byte(hexVal(s[i+2 : i+4])))
			i += 4
		case 'u':
			b.WriteRune(rune(hexVal(s[i+2 : i+6])))
			i += 6
		case 'U':
			b.WriteRune(rune(hexVal(s[i+2 : i+10])))
			i += 10
		}
	}
	return b.String()
}

func hexVal(h string) uint32 {
	var v uint32
	for _, c := range h {
		v <<= 4
		switch {
		case c >= '0' && c <= '9':
			v |= uint32(c - '0')
		default:
			v |= uint32(c-'a') + 10
		}
	}
	return v
}

func TestJSON(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"a":"plain \n é"}`, `{"a":"plain \n é"}`},
		{"{\"a\":\"x\u202ey\u009b\x7f\"}", `{"a":"x\u202ey\u009b\u007f"}`},
		{"[\"\U000E0041\"]", `["\udb40\udc41"]`},
	} {
		got := string(JSON([]byte(tc.in)))
		if got != tc.want {
			t.Errorf("JSON(%q) = %q, want %q", tc.in, got, tc.want)
		}
		var a, b any
		if err := json.Unmarshal([]byte(tc.in), &a); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(got), &b); err != nil || !reflect.DeepEqual(a, b) {
			t.Errorf("JSON(%q) changed the meaning: %v vs %v (%v)", tc.in, a, b, err)
		}
	}
}

func FuzzJSON(f *testing.F) {
	f.Add("x\u202e\u0085\x7f\U000E0041")
	f.Fuzz(func(t *testing.T, s string) {
		enc, _ := json.Marshal(map[string]string{s: s})
		out := JSON(enc)
		var a, b map[string]string
		json.Unmarshal(enc, &a)
		if err := json.Unmarshal(out, &b); err != nil || !reflect.DeepEqual(a, b) {
			t.Fatalf("JSON changed the meaning of %q: %q", enc, out)
		}
		checkInert(t, string(enc), strings.ReplaceAll(string(out), `\`, ``))
	})
}
