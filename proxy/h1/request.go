package h1

import (
	"bytes"

	"github.com/proxyspec/proxyspec/proxy/internal/fault"
)

// Version is an HTTP/1.x version: HTTP10 or HTTP11.
type Version uint8

// Supported versions. A request naming HTTP/1.x with x > 1 is treated as
// HTTP/1.1 (RFC 9110 §2.5: a recipient of a higher minor version treats the
// message as the highest minor version it implements).
const (
	HTTP10 Version = 10
	HTTP11 Version = 11
)

func (v Version) String() string {
	if v == HTTP10 {
		return "HTTP/1.0"
	}
	return "HTTP/1.1"
}

// Form is the form of a request-target, RFC 9112 §3.2.
type Form uint8

// Request-target forms.
const (
	OriginForm    Form = iota // /path?query
	AbsoluteForm              // http://authority/path?query
	AuthorityForm             // host:port, CONNECT only
	AsteriskForm              // *, OPTIONS only
)

// Limits bound what a head parser accepts. Zero values are not defaults:
// callers pass real limits.
type Limits struct {
	// Faults are the deliberate deviations of a fault-injection build
	// (tag proxyspec_faults); always empty otherwise. Parsed messages and
	// their framing carry them on to the body readers.
	Faults         fault.Set
	MaxHeadBytes   int // whole head, start-line to the empty line
	MaxFields      int // field lines
	MaxTargetBytes int // request-target
}

// DefaultLimits are the proxy's defaults.
var DefaultLimits = Limits{MaxHeadBytes: 64 << 10, MaxFields: 100, MaxTargetBytes: 8 << 10}

// maxLeadingEmptyLines bounds the empty lines ignored before a request-line
// (RFC 9112 §2.2: a server SHOULD ignore at least one).
const maxLeadingEmptyLines = 4

// Request is a parsed request head. Slices point into the parsed buffer and
// are valid as long as that buffer is not reused. A Request is reusable:
// parsing into it reuses the Fields array.
type Request struct {
	faults  fault.Set // from the Limits it was parsed with
	Method  []byte
	Target  []byte // as received
	Version Version
	Form    Form
	// Path is the origin-form to forward: the target itself in origin-form,
	// the path and query of an absolute-form target (possibly empty or
	// starting with '?': see AppendOriginForm), "*" for asterisk-form, and
	// nil for authority-form.
	Path []byte
	// Host is the effective authority: the target's authority for absolute-
	// and authority-form (RFC 9112 §3.2.2: it replaces the Host field), else
	// the Host field value (empty if absent in HTTP/1.0).
	Host   []byte
	Fields []Field
}

// IsMethod reports whether the method is m (methods are case-sensitive,
// RFC 9110 §9.1).
func (r *Request) IsMethod(m string) bool { return string(r.Method) == m }

// AppendOriginForm appends the target to forward to an origin server.
func (r *Request) AppendOriginForm(dst []byte) []byte {
	if r.faults.Has(fault.AsteriskFormAsSlash) && (r.Form == AsteriskForm || r.Form == AbsoluteForm && len(r.Path) == 0 && r.IsMethod("OPTIONS")) {
		return append(dst, '/')
	}
	if r.Form == AbsoluteForm && len(r.Path) == 0 && r.IsMethod("OPTIONS") {
		return append(dst, '*') // RFC 9112 §3.2.4
	}
	if r.Form == AbsoluteForm && (len(r.Path) == 0 || r.Path[0] == '?') {
		dst = append(dst, '/') // RFC 9112 §3.2.1: empty path becomes "/"
	}
	return append(dst, r.Path...)
}

// ParseRequest parses a request head from the start of b into r. It returns
// the number of bytes consumed (the head, including up to a few ignored
// leading empty lines and the final empty line), ErrIncomplete if b holds
// only part of a head, or an *Error carrying the status to answer.
//
// Errors are reported as soon as the offending bytes are in b, so a caller
// can parse again after each read and reject early.
func ParseRequest(b []byte, r *Request, lim Limits) (int, error) {
	n, err := parseRequest(b, r, lim)
	if err == ErrIncomplete && len(b) >= lim.MaxHeadBytes {
		return 0, errHeadTooLarge
	}
	if err == nil && n > lim.MaxHeadBytes {
		return 0, errHeadTooLarge
	}
	return n, err
}

func parseRequest(b []byte, r *Request, lim Limits) (int, error) {
	r.Method, r.Target, r.Path, r.Host = nil, nil, nil, nil
	r.Fields = r.Fields[:0]
	r.faults = lim.Faults

	// RFC 9112 §2.2: ignore a few empty lines (CRLF only) before the request-line.
	i := 0
	for empty := 0; ; empty++ {
		if i >= len(b) {
			return 0, ErrIncomplete
		}
		if b[i] == '\n' {
			return 0, errBareLF
		}
		if b[i] != '\r' {
			break
		}
		if i+1 >= len(b) {
			return 0, ErrIncomplete
		}
		if b[i+1] != '\n' {
			return 0, errBareCR
		}
		if empty == maxLeadingEmptyLines || lim.Faults.Has(fault.LeadingEmptyLineRejected) {
			return 0, errTooManyEmpty
		}
		i += 2
	}

	// request-line = method SP request-target SP HTTP-version CRLF (RFC 9112 §3),
	// exactly one SP between the parts.
	start := i
	for i < len(b) && isTchar[b[i]] {
		i++
	}
	if i == len(b) {
		return 0, ErrIncomplete
	}
	anySpace := lim.Faults.Has(fault.RequestLineAnyWhitespace)
	if i == start || b[i] != ' ' && !(anySpace && isSpace(b[i])) {
		return 0, errMethod
	}
	r.Method = b[start:i]
	if len(r.Method) > 16 && lim.Faults.Has(fault.LongMethodRejected) {
		return 0, errMethod
	}
	i++

	start = i
	lenient := lim.Faults.Has(fault.TargetBytesUnchecked)
	for i < len(b) && (isTargetChar[b[i]] || lenient && b[i] != ' ' && b[i] != '\r' && b[i] != '\n') {
		i++
		if i-start > lim.MaxTargetBytes || i-start > 4096 && lim.Faults.Has(fault.ShortTargetLimit) {
			return 0, errTargetTooLong // RFC 9112 §3: MUST answer 414
		}
	}
	if i == len(b) {
		return 0, ErrIncomplete
	}
	if i == start {
		return 0, errRequestLine // empty target (e.g. two SP)
	}
	switch {
	case b[i] == ' ', anySpace && isSpace(b[i]):
	case b[i] == '\r' || b[i] == '\n':
		return 0, errVersionMissing // HTTP/0.9 simple request
	default:
		return 0, errTarget
	}
	if lim.Faults.Has(fault.TargetWithSpaces) {
		i = lastSpaceOfLine(b, i)
	}
	r.Target = b[start:i]
	i++

	v, n, err := parseVersion(b[i:], lim.Faults)
	if err != nil {
		return 0, err
	}
	i += n
	if lim.Faults.Has(fault.VersionPrefixParsed) {
		for i < len(b) && b[i] != '\r' && b[i] != '\n' {
			i++
		}
	}
	switch {
	case i >= len(b):
		return 0, ErrIncomplete
	case b[i] == '\n':
		return 0, errBareLF
	case b[i] != '\r':
		return 0, errRequestLine
	case i+1 >= len(b):
		return 0, ErrIncomplete
	case b[i+1] != '\n' && lim.Faults.Has(fault.BareCREndsRequestLine):
		i-- // the CR alone ends the line
	case b[i+1] != '\n':
		return 0, errBareCR
	}
	i += 2
	r.Version = v

	if err := r.classifyTarget(); err != nil {
		return 0, err
	}

	fields, n, err := parseFields(b[i:], r.Fields, lim.MaxFields, lim.Faults)
	r.Fields = fields
	if err != nil {
		return 0, err
	}
	if err := r.checkHost(); err != nil {
		return 0, err
	}
	return i + n, nil
}

// parseVersion parses HTTP-version = "HTTP/" DIGIT "." DIGIT (RFC 9112 §2.3),
// case-sensitive. It reports ErrIncomplete only while b is a prefix of a
// valid version.
func parseVersion(b []byte, faults fault.Set) (Version, int, error) {
	const pfx = "HTTP/"
	for k := 0; k < len(pfx); k++ {
		if k >= len(b) {
			return 0, 0, ErrIncomplete
		}
		if b[k] != pfx[k] && !(faults.Has(fault.VersionCaseInsensitive) && lower(b[k]) == lower(pfx[k])) {
			return 0, 0, errVersion
		}
	}
	if len(b) < 8 {
		if len(b) > 5 && !isDigit(b[5]) || len(b) > 6 && b[6] != '.' {
			return 0, 0, errVersion
		}
		return 0, 0, ErrIncomplete
	}
	major, dot, minor := b[5], b[6], b[7]
	if !isDigit(major) || dot != '.' || !isDigit(minor) {
		return 0, 0, errVersion
	}
	switch {
	case major == '0':
		return 0, 0, errVersion // HTTP/0.9 has no version token; "HTTP/0.x" is not a version we know
	case major != '1':
		return 0, 0, errVersion505 // RFC 9110 §15.6.6
	case minor == '0':
		return HTTP10, 8, nil
	case minor > '1' && faults.Has(fault.HTTP1xRejected):
		return 0, 0, errVersion505
	}
	return HTTP11, 8, nil
}

// isSpace reports ASCII whitespace other than SP (for fault
// RequestLineAnyWhitespace): HTAB, LF, VT, FF, CR.
func isSpace(c byte) bool { return c == '\t' || c == '\n' || c == 0x0b || c == 0x0c || c == '\r' }

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// lastSpaceOfLine returns the index of the last SP before the end of the
// line that starts its search at i (a space), or i if there is none: the
// split of a lenient request-line reader (fault TargetWithSpaces only).
func lastSpaceOfLine(b []byte, i int) int {
	end := bytes.IndexByte(b[i:], '\n')
	if end < 0 {
		return i
	}
	if k := bytes.LastIndexByte(b[i:i+end], ' '); k > 0 {
		return i + k
	}
	return i
}

// classifyTarget decides the request-target form (RFC 9112 §3.2) and
// validates it against the method.
func (r *Request) classifyTarget() error {
	t := r.Target
	connect := r.IsMethod("CONNECT")
	switch {
	case connect:
		// RFC 9112 §3.2.3: CONNECT uses authority-form only, and RFC 9110
		// §9.3.6 requires a port.
		if !validAuthority(t, true) {
			return errConnectTarget
		}
		r.Form, r.Host = AuthorityForm, t
		return nil
	case t[0] == '/':
		r.Form, r.Path = OriginForm, t
		return nil
	case len(t) == 1 && t[0] == '*':
		if !r.IsMethod("OPTIONS") {
			return errAsterisk // RFC 9112 §3.2.4
		}
		r.Form, r.Path = AsteriskForm, t
		return nil
	}
	// absolute-form (RFC 9112 §3.2.2). We accept the http and https schemes.
	if r.faults.Has(fault.AbsoluteFormRejected) {
		return errTarget
	}
	var rest []byte
	switch {
	case hasPrefixFold(t, "http://"):
		rest = t[len("http://"):]
	case hasPrefixFold(t, "https://"):
		rest = t[len("https://"):]
	default:
		if validAuthority(t, true) {
			return errAuthorityForm
		}
		return errScheme
	}
	end := bytes.IndexAny(rest, "/?")
	if end < 0 {
		end = len(rest)
	}
	auth := rest[:end]
	// RFC 9110 §4.2.1: an http(s) URI with an empty host is invalid; userinfo
	// is deprecated there and has no business in a request.
	if (len(auth) == 0 || !validAuthority(auth, false)) && !r.faults.Has(fault.AbsoluteFormAuthorityIgnored) &&
		!(r.faults.Has(fault.AbsoluteFormUserinfoAccepted) && bytes.IndexByte(auth, '@') > 0) {
		return errAuthority
	}
	r.Form, r.Host, r.Path = AbsoluteForm, auth, rest[end:]
	return nil
}

func hasPrefixFold(b []byte, p string) bool {
	return len(b) >= len(p) && EqualFold(b[:len(p)], p)
}

// checkHost applies RFC 9112 §3.2: an HTTP/1.1 request without a Host field,
// with more than one Host field line, or with an invalid Host value gets 400.
// With absolute-form the Host value is then ignored and replaced by the
// target's authority (§3.2.2), which classifyTarget already put in r.Host.
func (r *Request) checkHost() error {
	var host []byte
	n := 0
	for i := range r.Fields {
		if r.Fields[i].Key == KeyHost {
			if n == 0 {
				host = r.Fields[i].Value
			}
			n++
		}
	}
	switch {
	case n > 1 && !r.faults.Has(fault.DuplicateHostFirstWins):
		return errMultiHost
	case n == 0 && r.Version == HTTP11 && !r.faults.Has(fault.MissingHostAccepted):
		return errNoHost
	case n >= 1 && len(host) > 0 && !validAuthority(host, false) && !r.faults.Has(fault.InvalidHostAccepted):
		// An empty Host is valid: RFC 9112 §3.2 has clients send one when
		// the target URI has no authority.
		return errBadHost
	}
	if r.Form == OriginForm || r.Form == AsteriskForm || r.Form == AbsoluteForm && r.faults.Has(fault.AbsoluteFormAuthorityIgnored) {
		r.Host = host
	}
	return nil
}

// validAuthority reports whether b is uri-host [ ":" port ] (RFC 9110 §7.2,
// RFC 3986 §3.2.2). With needPort the port must be present and 1-65535
// (CONNECT, RFC 9110 §9.3.6). Otherwise an empty port is allowed by the
// grammar but a port above 65535 is not. The host must not be empty, contain
// userinfo ('@'), a path ('/'), a comma, whitespace or controls.
func validAuthority(b []byte, needPort bool) bool {
	if len(b) == 0 {
		return false
	}
	var host, port []byte
	hasPort := false
	if b[0] == '[' {
		// IP-literal: "[" IPv6address "]"; IPvFuture is not accepted.
		end := bytes.IndexByte(b, ']')
		if end < 0 {
			return false
		}
		host = b[:end+1]
		if !validIPv6(host[1:end]) {
			return false
		}
		switch rest := b[end+1:]; {
		case len(rest) == 0:
		case rest[0] == ':':
			hasPort, port = true, rest[1:]
		default:
			return false
		}
	} else {
		host = b
		if c := bytes.LastIndexByte(b, ':'); c >= 0 {
			host, port, hasPort = b[:c], b[c+1:], true
		}
		if len(host) == 0 {
			return false
		}
		for k := 0; k < len(host); k++ {
			c := host[k]
			if c == '%' {
				// pct-encoded = "%" HEXDIG HEXDIG
				if k+2 >= len(host) || hexVal[host[k+1]] < 0 || hexVal[host[k+2]] < 0 {
					return false
				}
				k += 2
				continue
			}
			if !isRegNameChar[c] {
				return false
			}
		}
	}
	if !hasPort {
		return !needPort
	}
	if len(port) == 0 {
		return !needPort
	}
	if len(port) > 5 {
		return false
	}
	p := 0
	for _, c := range port {
		if !isDigit(c) {
			return false
		}
		p = p*10 + int(c-'0')
	}
	if p > 65535 {
		return false
	}
	return !needPort || p > 0
}

func validIPv6(b []byte) bool {
	if len(b) < 2 || bytes.IndexByte(b, ':') < 0 {
		return false
	}
	for _, c := range b {
		if hexVal[c] < 0 && c != ':' && c != '.' {
			return false
		}
	}
	return true
}
