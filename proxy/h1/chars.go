package h1

// Byte classes used by the parsers. They are tables rather than functions so
// the inner loops are a single load and branch per byte.
var (
	// isTchar: tchar, RFC 9110 §5.6.2. Field names, methods and transfer
	// codings are tokens.
	isTchar [256]bool
	// isValueChar: bytes allowed inside a field value, RFC 9110 §5.5:
	// field-vchar (VCHAR / obs-text), SP and HTAB. CR, LF, NUL, the other
	// controls and DEL are not.
	isValueChar [256]bool
	// isTargetChar: bytes allowed in a request-target. The URI grammar (RFC
	// 3986) only uses visible ASCII; we accept all of VCHAR except '#'
	// (a fragment is never part of a request-target, RFC 9112 §3.2).
	isTargetChar [256]bool
	// isRegNameChar: reg-name / IPv4address characters of uri-host (RFC 3986
	// §3.2.2) except ',' (a comma in Host means a list was folded in) and
	// '%' (checked separately as pct-encoded).
	isRegNameChar [256]bool
	// hexVal maps HEXDIG to its value; -1 for anything else.
	hexVal [256]int8
)

func init() {
	for c := 0; c < 256; c++ {
		hexVal[c] = -1
	}
	for c := '0'; c <= '9'; c++ {
		hexVal[c] = int8(c - '0')
	}
	for c := 'a'; c <= 'f'; c++ {
		hexVal[c] = int8(c - 'a' + 10)
		hexVal[c-'a'+'A'] = int8(c - 'a' + 10)
	}
	for c := 0x21; c < 0x7f; c++ {
		isValueChar[c] = true
		isTargetChar[c] = c != '#'
	}
	for c := 0x80; c < 0x100; c++ {
		isValueChar[c] = true // obs-text
	}
	isValueChar[' '] = true
	isValueChar['\t'] = true

	for c := 'a'; c <= 'z'; c++ {
		isTchar[c] = true
		isTchar[c-'a'+'A'] = true
		isRegNameChar[c] = true
		isRegNameChar[c-'a'+'A'] = true
	}
	for c := '0'; c <= '9'; c++ {
		isTchar[c] = true
		isRegNameChar[c] = true
	}
	for _, c := range []byte("!#$%&'*+-.^_`|~") {
		isTchar[c] = true
	}
	for _, c := range []byte("-._~!$&'()*+;=") {
		isRegNameChar[c] = true
	}
}

// lower returns c in lower case when it is an ASCII letter.
func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// EqualFold reports whether a and b are equal under ASCII case folding.
// Field names and transfer codings are case-insensitive (RFC 9110 §5.1, §10.1.4).
func EqualFold(a []byte, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if lower(a[i]) != lower(b[i]) {
			return false
		}
	}
	return true
}

// IsToken reports whether b is a non-empty token (RFC 9110 §5.6.2).
func IsToken(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if !isTchar[c] {
			return false
		}
	}
	return true
}

// trimOWS removes leading and trailing OWS (SP / HTAB), RFC 9110 §5.6.3.
func trimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}
