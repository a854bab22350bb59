package h1

import "bytes"

// Key identifies the fields the proxy acts on, so that callers dispatch with
// a switch instead of repeated case-insensitive comparisons.
type Key uint8

// Known field names. KeyOther is every other field.
const (
	KeyOther Key = iota
	KeyHost
	KeyContentLength
	KeyTransferEncoding
	KeyConnection
	KeyKeepAlive
	KeyProxyConnection
	KeyTE
	KeyTrailer
	KeyUpgrade
	KeyExpect
	KeyVia
	KeyXForwardedFor
	KeyXForwardedProto
	KeyRange
	KeyIfRange
	KeyETag
	KeyLastModified
	KeyContentRange
	KeyContentType
	KeyContentEncoding
	KeyAcceptRanges
)

// maxKeyLen is the length of the longest known field name.
const maxKeyLen = len("transfer-encoding")

// LookupKey returns the Key of a field name (case-insensitive).
func LookupKey(name []byte) Key {
	if len(name) > maxKeyLen || len(name) < 2 {
		return KeyOther
	}
	var buf [maxKeyLen]byte
	for i, c := range name {
		buf[i] = lower(c)
	}
	// The compiler turns this switch over string(bytes) into comparisons
	// without converting (no allocation).
	switch string(buf[:len(name)]) {
	case "host":
		return KeyHost
	case "content-length":
		return KeyContentLength
	case "transfer-encoding":
		return KeyTransferEncoding
	case "connection":
		return KeyConnection
	case "keep-alive":
		return KeyKeepAlive
	case "proxy-connection":
		return KeyProxyConnection
	case "te":
		return KeyTE
	case "trailer":
		return KeyTrailer
	case "upgrade":
		return KeyUpgrade
	case "expect":
		return KeyExpect
	case "via":
		return KeyVia
	case "x-forwarded-for":
		return KeyXForwardedFor
	case "x-forwarded-proto":
		return KeyXForwardedProto
	case "range":
		return KeyRange
	case "if-range":
		return KeyIfRange
	case "etag":
		return KeyETag
	case "last-modified":
		return KeyLastModified
	case "content-range":
		return KeyContentRange
	case "content-type":
		return KeyContentType
	case "content-encoding":
		return KeyContentEncoding
	case "accept-ranges":
		return KeyAcceptRanges
	}
	return KeyOther
}

// Field is one field line. Name and Value are slices of the parsed buffer;
// Value has its leading and trailing OWS removed.
type Field struct {
	Name  []byte
	Value []byte
	Key   Key
}

// parseFields parses field lines (RFC 9112 §5) from b up to and including the
// empty line that ends the section, appending them to fields. It returns the
// fields, the number of bytes consumed, and ErrIncomplete if b ends first.
//
// The rules, strict by policy:
//   - every line ends in CRLF; a bare LF or bare CR is an error (RFC 9112 §2.2
//     allows accepting a bare LF; we do not);
//   - a line starting with SP or HTAB is obs-fold (or whitespace after the
//     start-line) and is rejected (RFC 9112 §5.2, §2.2);
//   - a field name is a non-empty token directly followed by ':'; whitespace
//     before the colon is rejected (RFC 9112 §5.1 MUST);
//   - a value holds only field-vchar, SP and HTAB: CR, LF, NUL (RFC 9110 §5.5
//     MUST) and the other controls and DEL are rejected; obs-text is allowed.
func parseFields(b []byte, fields []Field, maxFields int) ([]Field, int, error) {
	i := 0
	for {
		if i >= len(b) {
			return fields, 0, ErrIncomplete
		}
		switch b[i] {
		case '\r':
			if i+1 >= len(b) {
				return fields, 0, ErrIncomplete
			}
			if b[i+1] != '\n' {
				return fields, 0, errBareCR
			}
			return fields, i + 2, nil
		case '\n':
			return fields, 0, errBareLF
		case ' ', '\t':
			return fields, 0, errLeadingSpace
		}
		// field-name = token, then ':' with nothing in between.
		j := i
		for j < len(b) && isTchar[b[j]] {
			j++
		}
		if j == len(b) {
			return fields, 0, ErrIncomplete
		}
		if b[j] != ':' {
			switch {
			case j == i && b[j] == ':':
				return fields, 0, errEmptyName
			case b[j] == ' ' || b[j] == '\t':
				return fields, 0, errSpaceBeforeColon
			case b[j] == '\r' || b[j] == '\n':
				return fields, 0, errNoColon
			}
			return fields, 0, errFieldName
		}
		if j == i {
			return fields, 0, errEmptyName
		}
		name := b[i:j]
		// The value runs to the LF; the byte before it must be CR.
		k := bytes.IndexByte(b[j+1:], '\n')
		if k < 0 {
			// Reject a bad byte early, without waiting for the line end.
			if err := checkValue(b[j+1:], true); err != nil {
				return fields, 0, err
			}
			return fields, 0, ErrIncomplete
		}
		lf := j + 1 + k
		if b[lf-1] != '\r' {
			return fields, 0, errBareLF
		}
		value := b[j+1 : lf-1]
		if err := checkValue(value, false); err != nil {
			return fields, 0, err
		}
		if len(fields) >= maxFields {
			return fields, 0, errTooManyFields
		}
		fields = append(fields, Field{Name: name, Value: trimOWS(value), Key: LookupKey(name)})
		i = lf + 1
	}
}

// checkValue validates field value bytes. With partial set, a trailing CR is
// allowed (its LF may still arrive).
func checkValue(v []byte, partial bool) error {
	for n, c := range v {
		if isValueChar[c] {
			continue
		}
		switch c {
		case '\r':
			if partial && n == len(v)-1 {
				return nil
			}
			return errBareCR
		case 0:
			return errNUL
		}
		return errValueChar
	}
	return nil
}

// eachListElement calls fn for each element of a comma-separated list (RFC 9110
// §5.6.1) spread over all field lines with the given key. Elements are
// OWS-trimmed; empty elements are passed as empty slices so callers decide
// whether to accept them. fn returns false to stop.
func eachListElement(fields []Field, key Key, fn func(elem []byte) bool) {
	for i := range fields {
		if fields[i].Key != key {
			continue
		}
		v := fields[i].Value
		for {
			c := bytes.IndexByte(v, ',')
			if c < 0 {
				if !fn(trimOWS(v)) {
					return
				}
				break
			}
			if !fn(trimOWS(v[:c])) {
				return
			}
			v = v[c+1:]
		}
	}
}

// HasToken reports whether any field line with the given key lists token
// (case-insensitive), e.g. Connection: close.
func HasToken(fields []Field, key Key, token string) bool {
	found := false
	eachListElement(fields, key, func(e []byte) bool {
		if EqualFold(e, token) {
			found = true
			return false
		}
		return true
	})
	return found
}

// Get returns the value of the first field line with the given key.
func Get(fields []Field, key Key) ([]byte, bool) {
	for i := range fields {
		if fields[i].Key == key {
			return fields[i].Value, true
		}
	}
	return nil, false
}

// Count returns how many field lines have the given key.
func Count(fields []Field, key Key) int {
	n := 0
	for i := range fields {
		if fields[i].Key == key {
			n++
		}
	}
	return n
}
