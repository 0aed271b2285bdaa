package jsonrpc

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"hash"
	"strings"
	"unicode"
)

// Envelope is what the shim learns about one JSON-RPC message while its
// bytes stream past: enough to correlate requests with responses and to
// name the MCP call in flight. Everything else in the message is skipped
// without being stored, so a 64 MiB message costs no more memory than a
// small one.
type Envelope struct {
	ID        []byte // raw JSON of "id"; nil when absent
	Method    string
	ToolName  string // params.name (tools/call, prompts/get)
	RequestID []byte // params.requestId (notifications/cancelled)
	HasResult bool
	HasError  bool
	// ServerName is result.serverInfo.name (initialize and
	// server/discover responses).
	ServerName string
	// ArgNames are the top-level keys of params.arguments (tools/call),
	// at most maxArgNames of them. The values are never kept.
	ArgNames []string
	// ArgDigest is a keyed digest of the raw params.arguments object (when
	// the Scanner has a digest key): equal arguments give equal digests
	// without the values being recorded.
	ArgDigest string
	// Malformed is set when the line is not one well-formed JSON object or
	// batch array; the fields above hold whatever was recognised before.
	// (Line reports the same for the whole line, which is what a gate must
	// use: batch elements are emitted before the end of the line.)
	Malformed bool
	// Batch: the message is an element of a JSON-RPC batch (an array).
	Batch bool
}

// IsRequest reports a message that expects a response.
func (e *Envelope) IsRequest() bool { return e.Method != "" && e.ID != nil }

// IsResponse reports a reply to an earlier request.
func (e *Envelope) IsResponse() bool {
	return e.Method == "" && e.ID != nil && (e.HasResult || e.HasError)
}

// Bounds on what one message may make the scanner hold.
const (
	maxCapture  = 1024 // id, method, names: longer values are not captured
	maxKey      = 64   // longer keys cannot be one we look for
	maxArgNames = 64
	trackLevels = 8 // keys remembered; deeper levels are never captured
	// maxDepth is the deepest nesting the scanner follows: encoding/json's
	// limit (json.Valid refuses anything deeper), so a line this deep is
	// one that parsers disagree on anyway.
	maxDepth = 10000
)

type scanState uint8

const (
	stValue    scanState = iota // expecting a value
	stKeyOrEnd                  // in an object, expecting a key or '}'
	stKey                       // in an object after ',', expecting a key
	stColon                     // after a key
	stAfter                     // after a value: ',' or a closing bracket
	stString                    // inside a string
	stLiteral                   // inside a number, true, false or null
	stDone                      // top-level value complete: only whitespace may follow
	stBad                       // malformed: skip to the end of the line
)

// capture targets for the string or literal being read
const (
	capNone = iota
	capKey
	capID
	capMethod
	capToolName
	capRequestID
	capServerName
)

// Scanner finds message boundaries (newlines) and envelopes in a stream of
// newline-delimited JSON-RPC. Feed it every byte, in order, with Scan.
type Scanner struct {
	emit func(*Envelope)

	state scanState
	depth int
	// kinds[d] is '{' or '[' for container depth d, at every depth: after
	// a comma, only the kind says whether a key or a value follows. (Kept
	// for the first trackLevels only, a schema nested deeper, like the
	// TypeScript SDK's tool schemas, read as malformed: the answer lost its
	// id, stayed in flight for good, and a tools/list written result first
	// passed the gate unfiltered and unpinned.)
	// Grown as deep as a line goes (to maxDepth), kept across lines.
	kinds     []byte
	keys      [trackLevels + 1]string
	msgLevel  int // depth of the message object: 1, or 2 inside a batch
	started   bool
	strIsKey  bool
	bsRun     int // backslashes at the end of the string read so far
	capture   int
	buf       []byte // the captured string or literal, with quotes
	seg       []byte // the segment being scanned
	segCtl    bool   // seg holds a byte below 0x20
	overflow  bool
	env       Envelope
	inMessage bool // an envelope is being filled

	// What the scanner knows about the current line as a whole: a gate
	// relays a line only if it is exactly one well-formed JSON value that
	// every parser reads the same way (see strictness below).
	lineBad bool   // the line is not exactly one value, or is ambiguous
	why     string // the first reason for lineBad
	lineLen int    // bytes of the line scanned so far (the newline excluded)
	endAt   int    // offset of the top-level value's closing byte; -1 before
	crAt    int    // offset of a carriage return nothing has followed yet; -1
	seen    uint8  // watched keys seen in the current message (watchBits)
	last    LineInfo

	// Digest of params.arguments, fed with the raw bytes as they pass.
	newDigest func() hash.Hash // nil: no digest
	digest    hash.Hash
	digestAt  int // index in the current segment from which bytes are not yet digested
	digestLvl int // container depth the arguments object closes back to
	pos       int // index in the current segment just past the byte being handled
}

// NewScanner returns a Scanner that calls emit once per message (each
// element of a batch counts as a message). The Envelope is reused after emit
// returns.
func NewScanner(emit func(*Envelope)) *Scanner {
	return &Scanner{emit: emit, buf: make([]byte, 0, 128), kinds: make([]byte, 1, trackLevels+1), endAt: -1, crAt: -1}
}

// LineInfo is the scanner's verdict on a complete line.
type LineInfo struct {
	// Blank: nothing but spaces, tabs and carriage returns.
	Blank bool
	// Bad: not exactly one well-formed JSON object or array, or one that
	// parsers may read differently. Strictness, and why each rule exists:
	//   - one value only: a server that parses a JSON stream would take a
	//     second value (or garbage after the first) as another message;
	//   - no carriage return except right before the newline: servers that
	//     read with universal newlines (Python's default) split there;
	//   - no control character (C0, NUL) inside a string or between tokens
	//     other than space and tab: invalid JSON, and NUL ends a C string;
	//   - no UTF-8 byte-order mark: not JSON; some readers skip it;
	//   - id, method, params and params.name at most once, and spelt in
	//     exactly that case: parsers disagree on duplicates (first or last
	//     wins), and encoding/json (mcp-go, most Go servers) matches keys
	//     case-insensitively, with Unicode folding ("paramſ" is "params");
	//   - those keys' values short enough to capture (maxCapture), and keys
	//     with valid escapes: otherwise the gate could not see what the
	//     server will.
	Bad bool
	Why string // the first reason the line is Bad, for people
}

// Line is the verdict on the last line ScanLine or Scan completed.
func (s *Scanner) Line() LineInfo { return s.last }

// SafeLen is how many bytes of the current, unfinished line may be handed
// to a reader before the end of the line is known: everything before the
// top-level value's closing byte and before a carriage return that may turn
// out to be bare. A prefix of that length is never a complete JSON value
// and never contains a line break of any convention, so a reader cannot
// act on it even if the rest of the line is refused.
func (s *Scanner) SafeLen() int {
	n := s.lineLen
	if s.endAt >= 0 && s.endAt < n {
		n = s.endAt
	}
	if s.crAt >= 0 && s.crAt < n {
		n = s.crAt
	}
	return n
}

// LineBad reports whether the current, unfinished line is already known
// to be refused.
func (s *Scanner) LineBad() bool { return s.lineBad || s.state == stBad }

// Why is the first reason the current, unfinished line is refused, or ""
// (LineBad says whether it is).
func (s *Scanner) Why() string { return s.why }

// AtLineStart reports that nothing but blanks has been scanned since the
// last newline: a stream that ends here ended at a message boundary.
func (s *Scanner) AtLineStart() bool { return !s.started && !s.inMessage }

// SwapEmit replaces the function called once per message and returns the
// previous one, so that a relay can collect a line's envelopes before it
// decides what to do with the line.
func (s *Scanner) SwapEmit(emit func(*Envelope)) (previous func(*Envelope)) {
	previous, s.emit = s.emit, emit
	return previous
}

// DigestArguments makes the scanner compute Envelope.ArgDigest with the
// hash newDigest returns (an HMAC, so that short secrets cannot be found by
// hashing guesses).
func (s *Scanner) DigestArguments(newDigest func() hash.Hash) { s.newDigest = newDigest }

// Scan consumes the next bytes of the stream.
func (s *Scanner) Scan(p []byte) {
	for len(p) > 0 {
		nl := bytes.IndexByte(p, '\n')
		if nl < 0 {
			s.scanSegment(p)
			return
		}
		s.scanSegment(p[:nl])
		s.endLine()
		p = p[nl+1:]
	}
}

// ScanLine consumes p up to and including its first newline, if any, and
// returns how many bytes it consumed and whether a line (a message) ended.
// It lets a caller act at message boundaries without searching the bytes
// for newlines a second time.
func (s *Scanner) ScanLine(p []byte) (n int, ended bool) {
	nl := bytes.IndexByte(p, '\n')
	if nl < 0 {
		s.scanSegment(p)
		return len(p), false
	}
	s.scanSegment(p[:nl])
	s.endLine()
	return nl + 1, true
}

// endLine finishes the message at a newline, whatever state it is in: a
// newline can never occur inside well-formed JSON-RPC framing, so it is
// where the scanner resynchronises after garbage.
func (s *Scanner) endLine() {
	if s.started && s.state != stDone {
		s.beginMessage() // a line that ended early still gets an envelope
		s.env.Malformed = true
		s.lineBad = true
	}
	if s.inMessage {
		s.emitEnvelope()
	}
	last := LineInfo{Blank: !s.started, Bad: s.started && s.lineBad}
	if last.Bad {
		last.Why = s.why
	}
	*s = Scanner{emit: s.emit, buf: s.buf[:0], kinds: s.kinds, newDigest: s.newDigest, endAt: -1, crAt: -1, last: last}
}

func (s *Scanner) beginMessage() {
	if !s.inMessage {
		s.env = Envelope{Batch: s.msgLevel == 2}
		s.inMessage = true
		s.seen = 0
	}
}

// Partial is what is known so far of the message being scanned, or nil
// between messages. It is only valid until the next call to Scan.
func (s *Scanner) Partial() *Envelope {
	if !s.inMessage {
		if s.msgLevel == 2 {
			return &Envelope{Batch: true}
		}
		return nil
	}
	return &s.env
}

func (s *Scanner) emitEnvelope() {
	s.inMessage = false
	if s.lineBad {
		s.env.Malformed = true
	}
	s.emit(&s.env)
}

func (s *Scanner) bad() {
	s.refuse("not well-formed JSON")
	s.state = stBad
}

// refuse marks the line as one a gate must not relay, but keeps scanning:
// the line is still well-formed enough to find the ids in it.
func (s *Scanner) refuse(why string) {
	s.beginMessage()
	s.env.Malformed = true
	s.lineBad = true
	if s.why == "" {
		s.why = why
	}
}

// nextValue starts a second top-level value on the line. The line is
// refused whatever it holds, but scanning on finds the ids of the requests
// in it, so that each can be answered with an error.
func (s *Scanner) nextValue(c byte) {
	s.lineBad = true
	if s.why == "" {
		s.why = "more than one JSON value on the line"
	}
	if s.inMessage {
		s.emitEnvelope()
	}
	s.msgLevel = 0
	s.valueStart(c)
}

func (s *Scanner) scanSegment(p []byte) {
	s.digestAt = 0
	defer func() {
		if s.digest != nil && s.digestAt < len(p) {
			s.digest.Write(p[s.digestAt:])
		}
		s.lineLen += len(p)
	}()
	s.seg = p
	// One fast pass decides whether strings in this segment need checking
	// for raw control characters at all (usually not).
	s.segCtl = hasControl(p)
	for i := 0; i < len(p); {
		switch s.state {
		case stBad:
			return
		case stString:
			i = s.scanString(p, i)
			continue
		case stLiteral:
			c := p[i]
			if isLiteralByte(c) {
				s.capByte(c)
				i++
				continue
			}
			s.finishScalar()
			continue // re-examine c in stAfter
		}
		c := p[i]
		i++
		s.pos = i
		if s.crAt >= 0 {
			s.refuse("a carriage return inside the line")
			s.crAt = -1
		}
		switch c {
		case ' ', '\t':
			continue
		case '\r':
			s.crAt = s.lineLen + i - 1
			continue
		}
		s.started = true
		switch s.state {
		case stDone:
			if c == '{' || c == '[' {
				s.nextValue(c)
			} else {
				s.bad()
			}
		case stValue:
			s.valueStart(c)
		case stKeyOrEnd, stKey:
			switch {
			case c == '"':
				s.state, s.strIsKey, s.bsRun = stString, true, 0
				s.startCapture(capKey)
			case c == '}' && s.state == stKeyOrEnd:
				s.closeContainer('{')
			default:
				s.bad()
			}
		case stColon:
			if c != ':' {
				s.bad()
				continue
			}
			s.state = stValue
		case stAfter:
			switch c {
			case ',':
				if s.kind(s.depth) == '{' {
					s.state = stKey
				} else {
					s.state = stValue
				}
			case '}', ']':
				s.closeContainer(openerOf(c))
			default:
				s.bad()
			}
		}
	}
}

func openerOf(c byte) byte {
	if c == '}' {
		return '{'
	}
	return '['
}

func (s *Scanner) kind(d int) byte {
	if d < len(s.kinds) {
		return s.kinds[d]
	}
	return 0
}

// valueStart handles the first byte of a value.
func (s *Scanner) valueStart(c byte) {
	key := s.currentKey()
	switch c {
	case '{', '[':
		if s.depth == 0 {
			if c == '[' {
				s.msgLevel = 2 // a batch: its elements are the messages
			} else {
				s.msgLevel = 1
				s.beginMessage()
			}
		} else if s.depth == 1 && s.msgLevel == 2 {
			if c != '{' {
				s.bad()
				return
			}
			s.beginMessage()
		}
		if key == "id" && s.path() {
			s.refuse("an id that is not a string, a number or null")
		}
		s.noteContainerValue(key)
		if c == '{' && key == "arguments" && s.path("params") && s.newDigest != nil && s.digest == nil {
			s.digest = s.newDigest()
			s.digestAt = s.pos - 1 // from the opening brace
			s.digestLvl = s.depth
		}
		if s.depth == maxDepth {
			s.bad()
			return
		}
		s.depth++
		for len(s.kinds) <= s.depth {
			s.kinds = append(s.kinds, 0)
		}
		s.kinds[s.depth] = c
		if s.depth <= trackLevels {
			s.keys[s.depth] = ""
		}
		if c == '{' {
			s.state = stKeyOrEnd
		} else {
			s.state = stValue
		}
	case ']':
		// only valid for an empty array
		if s.kind(s.depth) == '[' && s.lastWasOpen() {
			s.closeContainer('[')
			return
		}
		s.bad()
	case '"':
		if s.depth == 0 {
			s.bad()
			return
		}
		s.state, s.strIsKey, s.bsRun = stString, false, 0
		s.startCapture(s.scalarTarget(key))
		s.capByte('"')
	default:
		if !isLiteralByte(c) || s.depth == 0 {
			s.bad()
			return
		}
		s.state = stLiteral
		s.startCapture(s.scalarTarget(key))
		s.capByte(c)
	}
}

// lastWasOpen is true right after '[' (no element yet). The scanner does not
// keep a flag per level, so it approximates with the state: stValue right
// after an opener and after a comma look alike, and "[1,]" is accepted. That
// laxness only affects what counts as Malformed, never the bytes relayed.
func (s *Scanner) lastWasOpen() bool { return s.state == stValue }

func (s *Scanner) closeContainer(opener byte) {
	if s.depth == 0 || s.kind(s.depth) != opener {
		s.bad()
		return
	}
	s.depth--
	if s.depth == 0 && s.endAt < 0 {
		s.endAt = s.lineLen + s.pos - 1
	}
	if s.digest != nil && s.depth == s.digestLvl {
		s.digest.Write(s.seg[s.digestAt:s.pos])
		s.env.ArgDigest = "hmac-sha256:" + hex.EncodeToString(s.digest.Sum(nil))[:32]
		s.digest = nil
		s.digestAt = s.pos
	}
	if s.msgLevel == 2 && s.depth == 1 && s.inMessage {
		s.emitEnvelope() // end of one batch element
	}
	s.afterValue()
}

func (s *Scanner) afterValue() {
	if s.depth == 0 {
		s.state = stDone
	} else {
		s.state = stAfter
	}
}

// currentKey is the key whose value comes next, at the current depth.
func (s *Scanner) currentKey() string {
	if s.depth >= 1 && s.depth <= trackLevels && s.kinds[s.depth] == '{' {
		return s.keys[s.depth]
	}
	return ""
}

// path reports whether the keys leading to the current depth, from the
// message object down, are exactly want.
func (s *Scanner) path(want ...string) bool {
	m := s.msgLevel
	if m == 0 || s.depth != m+len(want) || s.depth > trackLevels {
		return false
	}
	for i, w := range want {
		if s.keys[m+i] != w {
			return false
		}
	}
	return true
}

func (s *Scanner) noteContainerValue(key string) {
	switch {
	case s.path() && key == "result":
		s.env.HasResult = true
	case s.path() && key == "error":
		s.env.HasError = true
	}
}

func (s *Scanner) scalarTarget(key string) int {
	switch {
	case s.path():
		switch key {
		case "id":
			return capID
		case "method":
			return capMethod
		case "result":
			s.env.HasResult = true
		case "error":
			s.env.HasError = true
		}
	case s.path("params"):
		switch key {
		case "name":
			return capToolName
		case "requestId":
			return capRequestID
		}
	case s.path("result", "serverInfo"):
		if key == "name" {
			return capServerName
		}
	}
	return capNone
}

func (s *Scanner) startCapture(target int) {
	s.capture = target
	s.buf = s.buf[:0]
	s.overflow = false
}

func (s *Scanner) capByte(c byte) {
	if s.capture == capNone {
		return
	}
	if len(s.buf) >= maxCapture {
		s.overflow = true
		return
	}
	s.buf = append(s.buf, c)
}

func (s *Scanner) capBytes(b []byte) {
	if s.capture == capNone || len(b) == 0 {
		return
	}
	if len(s.buf)+len(b) > maxCapture {
		s.overflow = true
		return
	}
	s.buf = append(s.buf, b...)
}

// scanString consumes string bytes from p[i:] and returns the next index.
// It jumps from quote to quote with IndexByte, so long strings (the bulk of
// large MCP payloads) are skipped at memory speed.
func (s *Scanner) scanString(p []byte, i int) int {
	for {
		q := bytes.IndexByte(p[i:], '"')
		if q < 0 {
			if s.segCtl && hasControl(p[i:]) {
				s.refuse("a raw control character inside a string")
			}
			s.capBytes(p[i:])
			s.bsRun = trailingBackslashes(p[i:], s.bsRun)
			return len(p)
		}
		if s.segCtl && hasControl(p[i:i+q]) {
			s.refuse("a raw control character inside a string")
		}
		run := trailingBackslashes(p[i:i+q], s.bsRun)
		s.capBytes(p[i : i+q+1])
		i += q + 1
		if run%2 == 1 {
			s.bsRun = 0 // an escaped quote: still inside the string
			continue
		}
		s.finishString()
		return i
	}
}

// trailingBackslashes counts the backslashes that end b, continuing a run
// of carry from before b when b is nothing but backslashes.
func trailingBackslashes(b []byte, carry int) int {
	n := 0
	for n < len(b) && b[len(b)-1-n] == '\\' {
		n++
	}
	if n == len(b) {
		return carry + n
	}
	return n
}

func (s *Scanner) finishString() {
	if s.strIsKey {
		key := ""
		if !s.overflow && len(s.buf) <= maxKey+1 {
			raw := s.buf[:len(s.buf)-1] // drop the closing quote
			if bytes.IndexByte(raw, '\\') >= 0 {
				var k string
				if json.Unmarshal(append([]byte{'"'}, s.buf...), &k) != nil {
					s.refuse("an invalid escape in a key") // parsers would disagree
				}
				key = k
			} else {
				key = string(raw)
			}
		}
		if !s.watchKey(key) {
			s.refuse("a repeated or differently cased \"" + key + "\" key")
		}
		if s.depth <= trackLevels {
			s.keys[s.depth] = key
		}
		if s.path("params", "arguments") && len(s.env.ArgNames) < maxArgNames && !s.overflow {
			s.env.ArgNames = append(s.env.ArgNames, key)
		}
		s.state = stColon
		return
	}
	s.finishScalar()
}

func (s *Scanner) finishScalar() {
	if s.capture != capNone && !s.overflow {
		s.store(s.buf)
	}
	if s.overflow && (s.capture == capID || s.capture == capMethod || s.capture == capToolName) {
		s.refuse("an id, method or tool name over 1 KiB") // the gate could not see what the server would
	}
	s.capture = capNone
	s.afterValue()
}

// Keys whose every spelling the scanner must see, by level (watchBits).
var (
	watchedMessageKeys = [...]string{"id", "method", "params"}
	watchedParamsKeys  = [...]string{"name"}
)

// watchKey records a key of the message object or of its params and
// reports false when the key makes the message ambiguous: a second
// occurrence of a watched key, or a spelling of one that differs but
// matches under Unicode case folding, as encoding/json would match it.
func (s *Scanner) watchKey(key string) bool {
	var watched []string
	var shift uint
	switch {
	case s.path():
		watched = watchedMessageKeys[:]
	case s.path("params"):
		watched, shift = watchedParamsKeys[:], uint(len(watchedMessageKeys))
	default:
		return true
	}
	for i, w := range watched {
		if !strings.EqualFold(key, w) {
			continue
		}
		bit := uint8(1) << (shift + uint(i))
		if key != w || s.seen&bit != 0 {
			return false
		}
		s.seen |= bit
	}
	return true
}

// plainName reports whether a method or tool name reads the same to every
// server: graphic characters only (no control or format character, which
// includes NUL and the BOM), and no blank at either end.
func plainName(v string) bool {
	for _, r := range v {
		if !unicode.IsGraphic(r) || unicode.Is(unicode.Cf, r) {
			return false
		}
	}
	return strings.TrimSpace(v) == v
}

// hasControl reports whether b holds a byte below 0x20: raw control
// characters are invalid inside JSON strings, and a raw CR or NUL there is
// a line break or an end of string to some readers. It tests eight bytes
// at a time, since strings are the bulk of large messages.
func hasControl(b []byte) bool {
	const ones, highs = 0x2020202020202020, 0x8080808080808080
	i := 0
	for ; i+32 <= len(b); i += 32 {
		x0 := binary.LittleEndian.Uint64(b[i:])
		x1 := binary.LittleEndian.Uint64(b[i+8:])
		x2 := binary.LittleEndian.Uint64(b[i+16:])
		x3 := binary.LittleEndian.Uint64(b[i+24:])
		if ((x0-ones)&^x0|(x1-ones)&^x1|(x2-ones)&^x2|(x3-ones)&^x3)&highs != 0 {
			return true
		}
	}
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		if (x-0x2020202020202020)&^x&0x8080808080808080 != 0 {
			return true
		}
	}
	for ; i < len(b); i++ {
		if b[i] < 0x20 {
			return true
		}
	}
	return false
}

func (s *Scanner) store(raw []byte) {
	str := func() string {
		var v string
		if json.Unmarshal(raw, &v) != nil {
			return ""
		}
		return v
	}
	switch s.capture {
	case capID:
		s.env.ID = append([]byte(nil), raw...)
	case capMethod, capToolName:
		var v string
		if raw[0] != '"' || json.Unmarshal(raw, &v) != nil {
			// Not a valid string: the gate cannot know what a lenient
			// parser would make of it.
			s.refuse("a method or tool name that is not a valid JSON string")
		}
		if !plainName(v) {
			// A NUL ends the name for a C-string reader, and other
			// controls, format characters or surrounding blanks are what
			// a lenient reader strips: it could call another tool than
			// the one the gate judged.
			s.refuse("a method or tool name with a control or format character, or surrounding blanks")
		}
		if s.capture == capMethod {
			s.env.Method = v
		} else {
			s.env.ToolName = v
		}
	case capRequestID:
		s.env.RequestID = append([]byte(nil), raw...)
	case capServerName:
		s.env.ServerName = str()
	}
}

func isLiteralByte(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c == '-' || c == '+' || c == '.' || c == 'E'
}
