package h1

import "github.com/proxyspec/proxyspec/proxy/internal/fault"

// Response is a parsed response head. Slices point into the parsed buffer.
type Response struct {
	faults  fault.Set // from the Limits it was parsed with
	Version Version
	Status  int
	Reason  []byte
	Fields  []Field
}

// ParseResponse parses a response head from the start of b into r, like
// [ParseRequest]. The field rules are the same as for requests; a proxy
// answers any error here with 502 (RFC 9112 §5.1, §5.2 allow a proxy to
// reject a response with obs-fold or whitespace before the colon).
//
// One leniency: a status-line without the SP before an empty reason-phrase
// ("HTTP/1.1 200" CRLF) is accepted, since the reason-phrase is ignored by
// clients anyway (RFC 9112 §4) and such servers are common.
func ParseResponse(b []byte, r *Response, lim Limits) (int, error) {
	n, err := parseResponse(b, r, lim)
	if err == ErrIncomplete && len(b) >= lim.MaxHeadBytes {
		return 0, errHeadTooLarge
	}
	if err == nil && n > lim.MaxHeadBytes {
		return 0, errHeadTooLarge
	}
	return n, err
}

func parseResponse(b []byte, r *Response, lim Limits) (int, error) {
	r.Reason = nil
	r.Fields = r.Fields[:0]
	r.faults = lim.Faults
	// status-line = HTTP-version SP status-code SP [ reason-phrase ] CRLF
	v, i, err := parseVersion(b, fault.Set{}) // version faults concern requests
	if err != nil {
		if err == errVersion505 {
			err = errVersion
		}
		return 0, err
	}
	if len(b) < i+4 {
		return 0, ErrIncomplete
	}
	if b[i] != ' ' {
		return 0, errStatusLine
	}
	i++
	st := 0
	for k := 0; k < 3; k++ {
		c := b[i+k]
		if !isDigit(c) {
			return 0, errStatusCode
		}
		st = st*10 + int(c-'0')
	}
	i += 3
	// RFC 9110 §15: values outside 100..599 are invalid.
	if st < 100 || st > 599 {
		return 0, errStatusCode
	}
	if i >= len(b) {
		return 0, ErrIncomplete
	}
	start := i
	if b[i] == ' ' {
		i++
		start = i
		// reason-phrase = 1*( HTAB / SP / VCHAR / obs-text )
		for i < len(b) && isValueChar[b[i]] {
			i++
		}
		if i == len(b) {
			return 0, ErrIncomplete
		}
		if i == start && lim.Faults.Has(fault.EmptyReasonRejected) {
			return 0, errReason
		}
	}
	reason := b[start:i]
	switch {
	case b[i] == '\n':
		return 0, errBareLF
	case b[i] != '\r':
		if b[i] == 0 {
			return 0, errNUL
		}
		return 0, errReason
	case i+1 >= len(b):
		return 0, ErrIncomplete
	case b[i+1] != '\n':
		return 0, errBareCR
	}
	i += 2
	fields, n, err := parseFields(b[i:], r.Fields, lim.MaxFields, lim.Faults)
	r.Fields = fields
	if err != nil {
		return 0, err
	}
	r.Version, r.Status, r.Reason = v, st, reason
	return i + n, nil
}
