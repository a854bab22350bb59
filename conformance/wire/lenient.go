package wire

// The observing parsers shared by the client and the origin. They never reject: they report what
// they saw and, where the bytes are not what RFC 9112 allows, say so in a string.

import (
	"bytes"
	"math"
	"strconv"
	"strings"
)

// MaxHead bounds a request or response head; a longer one is treated as unparseable.
const MaxHead = 1 << 20

// headEnd returns the length of the head at the start of b including the empty line that ends it
// (CRLF CRLF, LF LF, or a mix), or -1 if no empty line has arrived yet. Scanning starts at from,
// so a caller that gets more bytes can resume where it left off (from must be a line start or
// earlier).
func headEnd(b []byte, from int) int {
	if from < 0 {
		from = 0
	}
	for i := from; i < len(b); {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			return -1
		}
		i += j + 1
		if i < len(b) && b[i] == '\n' {
			return i + 1
		}
		if i+1 < len(b) && b[i] == '\r' && b[i+1] == '\n' {
			return i + 2
		}
	}
	return -1
}

// resumeFrom is where headEnd may resume scanning b once more bytes were appended to it.
func resumeFrom(b []byte) int {
	if len(b) < 3 {
		return 0
	}
	return len(b) - 3
}

// splitLines splits a head into lines on LF, dropping one CR before each LF and the empty lines
// that end the head.
func splitLines(head []byte) []string {
	s := string(head)
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSuffix(l, "\r")
	}
	for len(lines) > 1 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

const ows = " \t"

// parseFields parses field lines leniently: a line starting with whitespace continues the previous
// field (obs-fold, unfolded with one space); a line without a colon is kept as a name without a
// value. Names and values are trimmed of surrounding whitespace.
func parseFields(lines []string) []Field {
	var fs []Field
	for _, l := range lines {
		if l == "" {
			continue
		}
		if (l[0] == ' ' || l[0] == '\t') && len(fs) > 0 {
			fs[len(fs)-1].Value = strings.TrimRight(fs[len(fs)-1].Value+" "+strings.Trim(l, ows), ows)
			continue
		}
		i := strings.IndexByte(l, ':')
		if i < 0 {
			fs = append(fs, Field{Name: strings.Trim(l, ows)})
			continue
		}
		fs = append(fs, Field{Name: strings.Trim(l[:i], ows), Value: strings.Trim(l[i+1:], ows)})
	}
	return fs
}

// fieldValues returns the values of every field named name (case-insensitive), in order.
func fieldValues(fs []Field, name string) []string {
	var vs []string
	for _, f := range fs {
		if strings.EqualFold(f.Name, name) {
			vs = append(vs, f.Value)
		}
	}
	return vs
}

// firstField returns the value of the first field named name and whether there was one.
func firstField(fs []Field, name string) (string, bool) {
	for _, f := range fs {
		if strings.EqualFold(f.Name, name) {
			return f.Value, true
		}
	}
	return "", false
}

// chunkedLast reports whether the last transfer coding named in all Transfer-Encoding fields is
// chunked (parameters and case ignored).
func chunkedLast(fs []Field) bool {
	vs := fieldValues(fs, "Transfer-Encoding")
	if len(vs) == 0 {
		return false
	}
	codings := strings.Split(strings.Join(vs, ","), ",")
	for i := len(codings) - 1; i >= 0; i-- {
		c := strings.Trim(codings[i], ows)
		if c == "" {
			continue
		}
		if j := strings.IndexByte(c, ';'); j >= 0 {
			c = strings.Trim(c[:j], ows)
		}
		return strings.EqualFold(c, "chunked")
	}
	return false
}

// contentLength returns the first Content-Length value if it is all digits.
func contentLength(fs []Field) (int64, bool) {
	v, ok := firstField(fs, "Content-Length")
	if !ok || v == "" {
		return 0, false
	}
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		// All digits but beyond int64: a valid length no body will ever reach. Reading until the
		// connection ends records what came as a body cut short, not as bad framing.
		return math.MaxInt64, true
	}
	return n, true
}

// chunkedBody is the outcome of decoding a chunked body leniently.
type chunkedBody struct {
	Body []byte // data decoded so far (all of it when Done)
	N    int    // bytes of input consumed: the whole body when Done, up to the problem when Err is set
	Done bool   // the last chunk and the trailer section were complete
	Err  string // malformed beyond repair: decoding stopped at N
	Lax  string // first deviation from RFC 9112 §7.1 syntax that was tolerated (bare LF, ...)
}

const maxChunkLine = 4096

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func hexVal(c byte) int64 {
	switch {
	case c <= '9':
		return int64(c - '0')
	case c >= 'a':
		return int64(c-'a') + 10
	default:
		return int64(c-'A') + 10
	}
}

// dechunk decodes the chunked body at the start of b. Line endings may be CRLF or a bare LF
// (noted in Lax); chunk extensions are skipped; trailer fields are skipped.
func dechunk(b []byte) chunkedBody {
	var r chunkedBody
	lax := func(s string) {
		if r.Lax == "" {
			r.Lax = s
		}
	}
	p := 0
	for {
		nl := bytes.IndexByte(b[p:], '\n')
		if nl < 0 {
			if len(b)-p > maxChunkLine {
				r.Err, r.N = "chunk-size line too long", p
			} else if len(b) > p && !isHex(b[p]) && b[p] != ' ' && b[p] != '\t' {
				r.Err, r.N = "invalid chunk-size line "+strconv.Quote(string(b[p:])), p
			}
			return r
		}
		line := b[p : p+nl]
		if len(line) > 0 && line[len(line)-1] == '\r' {
			line = line[:len(line)-1]
		} else {
			lax("bare LF ends a chunk-size line")
		}
		if bytes.IndexByte(line, '\r') >= 0 {
			lax("bare CR in a chunk-size line")
		}
		i := 0
		for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
			i++
		}
		if i > 0 {
			lax("whitespace before a chunk size")
		}
		j := i
		var size int64
		huge := false
		for j < len(line) && isHex(line[j]) {
			// Leading zeros are valid (1*HEXDIG) and do not count; a size past 15 significant
			// digits is valid too, just larger than any body that will arrive.
			if size >= 1<<56 {
				huge = true
			} else {
				size = size<<4 | hexVal(line[j])
			}
			j++
		}
		if huge {
			r.N = p
			return r // incomplete: the rest is this chunk's data, until the connection ends
		}
		if j == i {
			r.Err, r.N = "invalid chunk-size line "+strconv.Quote(string(line)), p
			return r
		}
		if rest := bytes.TrimLeft(line[j:], ows); len(line[j:]) > 0 {
			if len(rest) == 0 || rest[0] != ';' {
				lax("invalid text after a chunk size: " + strconv.Quote(string(line[j:])))
			}
		}
		p += nl + 1
		if size == 0 {
			for {
				nl := bytes.IndexByte(b[p:], '\n')
				if nl < 0 {
					if len(b)-p > MaxHead {
						r.Err, r.N = "trailer section too long", p
					}
					return r
				}
				line := b[p : p+nl]
				p += nl + 1
				if len(line) == 0 || line[len(line)-1] != '\r' {
					lax("bare LF in the trailer section")
				}
				if len(line) == 0 || len(line) == 1 && line[0] == '\r' {
					r.N, r.Done = p, true
					return r
				}
			}
		}
		if int64(len(b)-p) < size {
			r.Body = append(r.Body, b[p:]...)
			return r
		}
		r.Body = append(r.Body, b[p:p+int(size)]...)
		p += int(size)
		switch {
		case p >= len(b):
			return r
		case b[p] == '\n':
			lax("bare LF after chunk data")
			p++
		case b[p] == '\r' && p+1 >= len(b):
			return r
		case b[p] == '\r' && b[p+1] == '\n':
			p += 2
		default:
			r.Err, r.N = "chunk data not followed by CRLF", p
			return r
		}
	}
}

// isLabelChar reports whether c may appear in a request label.
func isLabelChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '-'
}

func isLowerHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' }

// NonceLen is the length of a case nonce: "ps" and 10 lowercase hex digits.
const NonceLen = 12

// nonceAt reports whether b[i:] starts with a nonce.
func nonceAt(b []byte, i int) bool {
	if i+NonceLen > len(b) || b[i] != 'p' || b[i+1] != 's' {
		return false
	}
	for k := i + 2; k < i+NonceLen; k++ {
		if !isLowerHex(b[k]) {
			return false
		}
	}
	return true
}

// findMarker finds the first "/NONCE/LABEL" in b (a request target).
func findMarker(b []byte) (nonce, label string) {
	for i := 0; ; {
		j := bytes.Index(b[i:], []byte("/ps"))
		if j < 0 {
			return "", ""
		}
		i += j
		if nonceAt(b, i+1) && i+1+NonceLen < len(b) && b[i+1+NonceLen] == '/' {
			s := i + 2 + NonceLen
			e := s
			for e < len(b) && isLabelChar(b[e]) {
				e++
			}
			if e > s {
				return string(b[i+1 : i+1+NonceLen]), string(b[s:e])
			}
		}
		i++
	}
}

// findNonce finds the first "/NONCE" in b.
func findNonce(b []byte) string {
	for i := 0; ; {
		j := bytes.Index(b[i:], []byte("/ps"))
		if j < 0 {
			return ""
		}
		i += j
		if nonceAt(b, i+1) {
			return string(b[i+1 : i+1+NonceLen])
		}
		i++
	}
}

// isTchar reports whether c is a token character (RFC 9110 §5.6.2).
func isTchar(c byte) bool {
	if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// requestLinePrefixOK reports whether b (the start of a request head, possibly incomplete) can
// still become a request line: a method token followed by a space.
func requestLinePrefixOK(b []byte) bool {
	for i := 0; i < len(b); i++ {
		if isTchar(b[i]) {
			continue
		}
		return i > 0 && (b[i] == ' ' || b[i] == '\t')
	}
	return true
}

// splitRequestLine splits "METHOD SP TARGET SP VERSION" leniently: the target is everything between
// the first and the last space, the version anything after it ("http/1.1", "HTTP/1.10" and the
// like are kept for the judge to flag). ok is false when the line is not a request line at all:
// no method token, or fewer than three parts.
func splitRequestLine(line string) (method, target, version string, ok bool) {
	i := strings.IndexAny(line, ows)
	if i <= 0 {
		return "", "", "", false
	}
	method = line[:i]
	for k := 0; k < len(method); k++ {
		if !isTchar(method[k]) {
			return "", "", "", false
		}
	}
	rest := strings.TrimLeft(line[i:], ows)
	j := strings.LastIndexAny(rest, ows)
	if j <= 0 {
		return "", "", "", false
	}
	target = strings.TrimRight(rest[:j], ows)
	version = rest[j+1:]
	if version == "" || target == "" {
		return "", "", "", false
	}
	return method, target, version, true
}

// onlyLineEnds reports whether b holds nothing but CR and LF bytes.
func onlyLineEnds(b []byte) bool {
	for _, c := range b {
		if c != '\r' && c != '\n' {
			return false
		}
	}
	return true
}

// leadingEmptyLines returns the length of the empty lines (CRLF or LF) at the start of b.
func leadingEmptyLines(b []byte) int {
	i := 0
	for {
		switch {
		case i < len(b) && b[i] == '\n':
			i++
		case i+1 < len(b) && b[i] == '\r' && b[i+1] == '\n':
			i += 2
		default:
			return i
		}
	}
}
