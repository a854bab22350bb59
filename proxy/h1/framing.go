package h1

import (
	"bytes"

	"github.com/proxyspec/proxyspec/proxy/internal/fault"
)

// BodyKind says how a message body is delimited.
type BodyKind uint8

// Body delimitations, RFC 9112 §6.
const (
	BodyNone    BodyKind = iota // no content
	BodyLength                  // Content-Length octets
	BodyChunked                 // chunked transfer coding
	BodyClose                   // until the connection closes (responses only)
	BodyTunnel                  // 2xx to CONNECT: the connection becomes a tunnel
)

func (k BodyKind) String() string {
	switch k {
	case BodyNone:
		return "none"
	case BodyLength:
		return "length"
	case BodyChunked:
		return "chunked"
	case BodyClose:
		return "close"
	case BodyTunnel:
		return "tunnel"
	}
	return "invalid"
}

// Framing is the outcome of the message body length rules.
type Framing struct {
	faults fault.Set // of the message, passed on to its BodyReader
	Kind   BodyKind
	// Length is the Content-Length for BodyLength. For a response without
	// content (HEAD, 204, 304) it is the Content-Length the origin announced,
	// or -1 if it announced none.
	Length int64
	// OtherCodings is set when Transfer-Encoding lists codings other than
	// one final chunked. Those codings are not decoded by this package.
	OtherCodings bool
	// Announced is set when a response without content nonetheless carried
	// Transfer-Encoding or a non-zero Content-Length: the origin may send
	// those bytes anyway, so its connection must not be reused.
	Announced bool
}

// maxCLDigits bounds Content-Length so the value always fits in an int64
// (RFC 9110 §8.6: recipients MUST anticipate large values and prevent overflow).
const maxCLDigits = 18

// RequestFraming decides the body length of a request, following the
// numbered list of RFC 9112 §6.3 (steps 1, 2 and 8 concern responses only).
// Policy choices are noted at each step.
func RequestFraming(r *Request) (Framing, error) {
	te := Count(r.Fields, KeyTransferEncoding)
	cl := Count(r.Fields, KeyContentLength)
	switch {
	case r.faults.Has(fault.ContentEncodingChunkedFrames) && HasToken(r.Fields, KeyContentEncoding, "chunked"):
		return Framing{faults: r.faults, Kind: BodyChunked}, nil
	case r.faults.Has(fault.ConnectionHidesContentLength) && HasToken(r.Fields, KeyConnection, "content-length"),
		r.faults.Has(fault.CLIgnored):
		cl = 0
	case r.faults.Has(fault.TEIgnored):
		te = 0
	}

	// Step 3: both Transfer-Encoding and Content-Length. RFC 9112 §6.1 lets
	// a server reject such a request or process it by Transfer-Encoding
	// alone; either way it MUST close. We reject (400, then close).
	if te > 0 && cl > 0 {
		switch {
		case r.faults.Has(fault.CLTEContentLengthWins):
			te = 0
		case r.faults.Has(fault.CLTEKeepAlive):
			cl = 0 // and nothing asks the caller to close
		default:
			return Framing{}, errCLAndTE
		}
	}
	// Step 4: Transfer-Encoding present.
	if te > 0 {
		// RFC 9112 §6.1: Transfer-Encoding in HTTP/1.0 means faulty framing.
		if r.Version == HTTP10 {
			return Framing{}, errTE10
		}
		tc, err := parseCodings(r.Fields, r.faults)
		switch {
		case err != nil:
			return Framing{}, err
		case tc.chunked > 1:
			return Framing{}, errTETwice // §6.1: MUST NOT apply chunked twice
		case tc.chunked == 1 && !tc.chunkedFinal:
			if !r.faults.Has(fault.ChunkedNotFinalAccepted) {
				return Framing{}, errTENotFinal // §6.3 step 4: 400 and close
			}
		case tc.others > 0 && tc.chunked == 0 && r.faults.Has(fault.UnknownCodingIgnored):
			te = 0 // framed below as if Transfer-Encoding were absent
		case tc.others > 0:
			// §6.1: a server SHOULD answer 501 to a transfer coding it does
			// not understand; we only implement chunked.
			return Framing{}, errTEUnknown
		case tc.chunked == 0:
			return Framing{}, errTEMalformed // empty list
		}
		if te > 0 {
			return Framing{faults: r.faults, Kind: BodyChunked}, nil
		}
	}
	// Step 5: Content-Length. Several field lines, or a list value (even of
	// identical numbers, which RFC 9110 §8.6 MAY collapse), are rejected.
	if cl > 0 {
		if cl > 1 && !r.faults.Has(fault.CLFirstWins) && !r.faults.Has(fault.CLLastWins) {
			return Framing{}, errCLMultiple
		}
		v, _ := Get(r.Fields, KeyContentLength)
		if cl > 1 && r.faults.Has(fault.CLLastWins) {
			v = lastValue(r.Fields, KeyContentLength)
		}
		n, ok := parseContentLength(v, r.faults)
		if !ok {
			return Framing{}, errCLInvalid
		}
		return Framing{faults: r.faults, Kind: BodyLength, Length: n}, nil
	}
	// Step 7: neither: the body length is 0, in every HTTP version.
	if r.Version == HTTP10 && r.faults.Has(fault.HTTP10BodyUntilClose) {
		return Framing{faults: r.faults, Kind: BodyClose}, nil
	}
	return Framing{faults: r.faults, Kind: BodyNone}, nil
}

// lastValue returns the value of the last field line with the given key.
func lastValue(fields []Field, key Key) []byte {
	var v []byte
	for i := range fields {
		if fields[i].Key == key {
			v = fields[i].Value
		}
	}
	return v
}

// ResponseFraming decides the body length of a response to a request with
// the given method, following RFC 9112 §6.3 in order.
func ResponseFraming(method []byte, r *Response) (Framing, error) {
	te := Count(r.Fields, KeyTransferEncoding)
	cl := Count(r.Fields, KeyContentLength)

	// A Content-Length we forward must be valid (RFC 9110 §8.6: a sender
	// MUST NOT forward an invalid one), so it is checked for every status;
	// an invalid one is §6.3 step 5's unrecoverable error: 502.
	length := int64(-1)
	if cl > 0 && te == 0 {
		v, _ := Get(r.Fields, KeyContentLength)
		n, ok := parseContentLength(v, r.faults)
		switch {
		case cl == 1 && ok:
			length = n
		case r.faults.Has(fault.ResponseInvalidCLReadToClose):
			// length stays unknown: read until close (step 8)
		case cl > 1:
			return Framing{}, errCLMultiple
		default:
			return Framing{}, errCLInvalid
		}
	}

	// Step 1: responses to HEAD, 1xx, 204 and 304 end at the head.
	head := string(method) == "HEAD" || r.faults.Has(fault.MethodCaseInsensitive) && EqualFold(method, "HEAD")
	noContent := head && !r.faults.Has(fault.HeadResponseBodyRead) ||
		r.Status < 200 ||
		r.Status == 204 && !r.faults.Has(fault.Response204BodyRead) ||
		r.Status == 304 && !r.faults.Has(fault.Response304BodyRead)
	if noContent {
		return Framing{faults: r.faults, Kind: BodyNone, Length: length, Announced: te > 0 || length > 0}, nil
	}
	// Step 2: a 2xx to CONNECT switches to tunnel mode; CL/TE are ignored.
	if string(method) == "CONNECT" && r.Status < 300 {
		return Framing{faults: r.faults, Kind: BodyTunnel}, nil
	}
	// Step 3: with both, Transfer-Encoding wins and a proxy MUST remove
	// Content-Length (the caller never forwards it).
	// Step 4: Transfer-Encoding present.
	if te > 0 {
		tc, err := parseCodings(r.Fields, r.faults)
		switch {
		case err != nil:
			return Framing{}, err
		case tc.chunked > 1:
			return Framing{}, errTETwice
		case tc.chunked == 0 && tc.others == 0:
			return Framing{}, errTEMalformed
		case tc.chunkedFinal:
			return Framing{faults: r.faults, Kind: BodyChunked, OtherCodings: tc.others > 0}, nil
		}
		// Chunked is not final: the response is delimited by close.
		return Framing{faults: r.faults, Kind: BodyClose, OtherCodings: true}, nil
	}
	// Step 5 (validated above) and step 6.
	if length >= 0 {
		return Framing{faults: r.faults, Kind: BodyLength, Length: length}, nil
	}
	// Step 8: neither: read until the server closes.
	if cl == 0 && r.faults.Has(fault.ResponseUnframedEmpty) {
		return Framing{faults: r.faults, Kind: BodyNone, Length: -1}, nil
	}
	return Framing{faults: r.faults, Kind: BodyClose}, nil
}

// ParseContentLength parses Content-Length = 1*DIGIT (RFC 9110 §8.6) with at
// most 18 digits: no sign, no spaces, no list.
func ParseContentLength(v []byte) (int64, bool) { return parseContentLength(v, fault.Set{}) }

func parseContentLength(v []byte, faults fault.Set) (int64, bool) {
	if faults.Has(fault.CLListFirstElement) {
		if c := bytes.IndexByte(v, ','); c >= 0 {
			v = trimOWS(v[:c])
		}
	}
	sign := byte(0)
	if len(v) > 1 && (v[0] == '+' || v[0] == '-') && faults.Has(fault.CLSignAccepted) {
		sign, v = v[0], v[1:]
	}
	if len(v) > maxCLDigits && faults.Has(fault.CLDigitsTruncated) {
		v = v[:maxCLDigits]
	}
	if len(v) == 0 || len(v) > maxCLDigits && !faults.Has(fault.CLOverflowWraps) {
		return 0, false
	}
	var n int64
	for _, c := range v {
		if !isDigit(c) {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	// n < 0: only a wrapped value (fault CLOverflowWraps)
	return n, n >= 0 && (sign != '-' || n == 0)
}

// codings summarizes a Transfer-Encoding list.
type codings struct {
	chunked      int  // times chunked appears
	chunkedFinal bool // chunked is the last coding
	others       int  // codings other than chunked
}

// maxEmptyElements is the "reasonable number" of empty list elements a
// recipient ignores (RFC 9110 §5.6.1.2); more make the list malformed.
const maxEmptyElements = 8

// parseCodings reads all Transfer-Encoding field lines as one list (RFC 9110
// §5.3) of transfer-coding = token *( OWS ";" OWS transfer-parameter ),
// RFC 9112 §7. Empty elements are ignored, as RFC 9110 §5.6.1.2 requires
// (up to maxEmptyElements); a list without any coding, quoted names,
// malformed parameters and chunked with parameters are errors (400).
func parseCodings(fields []Field, faults fault.Set) (codings, error) {
	var tc codings
	var err error
	empty := 0
	eachListElement(fields, KeyTransferEncoding, func(e []byte) bool {
		if len(e) == 0 {
			empty++
			if empty > maxEmptyElements || faults.Has(fault.TEEmptyElementRejected) {
				err = errTEMalformed
				return false
			}
			return true
		}
		name, params := e, []byte(nil)
		for k, c := range e {
			if c == ';' || c == ' ' || c == '\t' {
				name, params = e[:k], e[k:]
				break
			}
		}
		if !IsToken(name) || !validParams(params) {
			err = errTEMalformed
			return false
		}
		isChunked := EqualFold(name, "chunked")
		if faults.Has(fault.CodingCaseSensitive) {
			isChunked = string(name) == "chunked"
		}
		if isChunked {
			if len(params) > 0 && !faults.Has(fault.ChunkedParametersIgnored) {
				err = errTEMalformed
				return false
			}
			tc.chunked++
			tc.chunkedFinal = true
			return true
		}
		tc.others++
		tc.chunkedFinal = false
		return true
	})
	return tc, err
}

// validParams checks *( OWS ";" OWS name "=" ( token / quoted-string ) ),
// RFC 9110 §5.6.6.
func validParams(p []byte) bool {
	for len(p) > 0 {
		p = trimOWS(p)
		if len(p) == 0 {
			return true
		}
		if p[0] != ';' {
			return false
		}
		p = trimOWS(p[1:])
		k := 0
		for k < len(p) && isTchar[p[k]] {
			k++
		}
		if k == 0 || k == len(p) || p[k] != '=' {
			return false
		}
		p = p[k+1:]
		if len(p) > 0 && p[0] == '"' {
			n, ok := quotedString(p)
			if !ok {
				return false
			}
			p = p[n:]
			continue
		}
		k = 0
		for k < len(p) && isTchar[p[k]] {
			k++
		}
		if k == 0 {
			return false
		}
		p = p[k:]
	}
	return true
}

// quotedString returns the length of the quoted-string at the start of p
// (RFC 9110 §5.6.4).
func quotedString(p []byte) (int, bool) {
	for k := 1; k < len(p); k++ {
		switch c := p[k]; {
		case c == '"':
			return k + 1, true
		case c == '\\':
			k++
			if k >= len(p) || !(p[k] == '\t' || p[k] >= 0x20 && p[k] != 0x7f) {
				return 0, false
			}
		case c == '\t' || c == ' ' || c == 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c != 0x7f):
		default:
			return 0, false
		}
	}
	return 0, false
}
