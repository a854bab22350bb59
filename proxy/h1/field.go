package h1

import (
	"bytes"

	"github.com/proxyspec/proxyspec/proxy/internal/fault"
)

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
func parseFields(b []byte, fields []Field, maxFields int, faults fault.Set) ([]Field, int, error) {
	i := 0
	valStart := 0 // where the last field's value starts in b (for fault ObsFoldForwarded)
	for {
		ns := i // where the field name starts
		if i >= len(b) {
			return fields, 0, ErrIncomplete
		}
		switch b[i] {
		case '\r':
			if i+1 >= len(b) {
				return fields, 0, ErrIncomplete
			}
			if b[i+1] != '\n' {
				if faults.Has(fault.HeadEndsAtBareCR) {
					return fields, i + 1, nil
				}
				return fields, 0, errBareCR
			}
			return fields, i + 2, nil
		case '\n':
			return fields, 0, errBareLF
		case ' ', '\t':
			switch {
			case len(fields) > 0 && faults.Has(fault.ObsFoldForwarded):
				// The continuation stays in the previous value, CRLF included.
				k := bytes.IndexByte(b[i:], '\n')
				if k < 0 {
					return fields, 0, ErrIncomplete
				}
				if b[i+k-1] != '\r' {
					return fields, 0, errBareLF
				}
				if err := checkValue(b[i:i+k], true, faults); err != nil {
					return fields, 0, err
				}
				fields[len(fields)-1].Value = trimOWS(b[valStart : i+k-1])
				i += k + 1
				continue
			case len(fields) > 0 && faults.Has(fault.ObsFoldDropped):
				k := bytes.IndexByte(b[i:], '\n')
				if k < 0 {
					return fields, 0, ErrIncomplete
				}
				i += k + 1
				continue
			case len(fields) == 0 && faults.Has(fault.StartLineWhitespaceForwarded):
				// The name keeps the whitespace (ns): the line is forwarded as it came.
				i += len(b[i:]) - len(trimLeftOWS(b[i:]))
				if i == len(b) {
					return fields, 0, ErrIncomplete
				}
			default:
				return fields, 0, errLeadingSpace
			}
		}
		// field-name = token, then ':' with nothing in between.
		j := i
		for j < len(b) && isTchar[b[j]] {
			j++
		}
		if faults.Has(fault.FieldNameNotToken) {
			for j < len(b) && b[j] != ':' && b[j] != '\r' && b[j] != '\n' {
				j++
			}
			if j < len(b) && b[j] == ':' {
				for j > i && (b[j-1] == ' ' || b[j-1] == '\t') {
					j-- // whitespace before the colon is another rule
				}
			}
		}
		if j == len(b) {
			return fields, 0, ErrIncomplete
		}
		if b[j] != ':' {
			switch {
			case j == i && b[j] == ':':
				return fields, 0, errEmptyName
			case (b[j] == ' ' || b[j] == '\t') && faults.Has(fault.SpaceBeforeColonForwarded):
				k := j + len(b[j:]) - len(trimLeftOWS(b[j:]))
				if k == len(b) {
					return fields, 0, ErrIncomplete
				}
				if b[k] != ':' {
					return fields, 0, errSpaceBeforeColon
				}
				j = k // the name keeps its whitespace
			case b[j] == ' ' || b[j] == '\t':
				return fields, 0, errSpaceBeforeColon
			case (b[j] == '\r' || b[j] == '\n') && faults.Has(fault.LineWithoutColonIgnored):
				k := bytes.IndexByte(b[j:], '\n')
				if k < 0 {
					return fields, 0, ErrIncomplete
				}
				i = j + k + 1
				continue
			case b[j] == '\r' || b[j] == '\n':
				return fields, 0, errNoColon
			default:
				return fields, 0, errFieldName
			}
		}
		if j == i && !faults.Has(fault.FieldNameNotToken) {
			return fields, 0, errEmptyName
		}
		name := b[ns:j]
		// The value runs to the LF; the byte before it must be CR.
		k := bytes.IndexByte(b[j+1:], '\n')
		if faults.Has(fault.BareLFInValueForwarded) {
			if k = bytes.Index(b[j+1:], crlf); k >= 0 {
				k++ // the LF of the CRLF
			}
		}
		if k < 0 {
			// Reject a bad byte early, without waiting for the line end.
			if err := checkValue(b[j+1:], true, faults); err != nil {
				return fields, 0, err
			}
			return fields, 0, ErrIncomplete
		}
		lf := j + 1 + k
		if b[lf-1] != '\r' {
			return fields, 0, errBareLF
		}
		value := b[j+1 : lf-1]
		if faults.Has(fault.ValueTruncatedAtNUL) {
			if z := bytes.IndexByte(value, 0); z >= 0 {
				value = value[:z]
			}
		}
		if faults.Has(fault.ValueTrimIsspace) {
			value = trimIsspace(value)
		}
		if err := checkValue(value, false, faults); err != nil {
			return fields, 0, err
		}
		if len(fields) >= maxFields {
			return fields, 0, errTooManyFields
		}
		f := Field{Name: name, Value: trimOWS(value), Key: LookupKey(name)}
		if faults.Has(fault.OWSTabKept) {
			f.Value = bytes.Trim(value, " ")
		}
		if f.Key != KeyOther && faults.Has(fault.FieldNameCaseSensitive) && string(name) != keyNames[f.Key] {
			f.Key = KeyOther
		}
		fields = append(fields, f)
		valStart = j + 1
		i = lf + 1
	}
}

// checkValue validates field value bytes. With partial set, a trailing CR is
// allowed (its LF may still arrive).
func checkValue(v []byte, partial bool, faults fault.Set) error {
	for n, c := range v {
		if isValueChar[c] {
			continue
		}
		switch c {
		case '\r':
			if partial && n == len(v)-1 || faults.Has(fault.BareCRInValueForwarded) {
				continue
			}
			return errBareCR
		case '\n':
			if faults.Has(fault.BareLFInValueForwarded) {
				continue
			}
		case 0:
			if faults.Has(fault.NULInValueForwarded) {
				continue
			}
			return errNUL
		}
		return errValueChar
	}
	return nil
}

// keyNames are the usual spellings of the known field names (for fault
// FieldNameCaseSensitive, which matches only these).
var keyNames = [...]string{
	KeyHost: "Host", KeyContentLength: "Content-Length", KeyTransferEncoding: "Transfer-Encoding",
	KeyConnection: "Connection", KeyKeepAlive: "Keep-Alive", KeyProxyConnection: "Proxy-Connection",
	KeyTE: "TE", KeyTrailer: "Trailer", KeyUpgrade: "Upgrade", KeyExpect: "Expect", KeyVia: "Via",
	KeyXForwardedFor: "X-Forwarded-For", KeyXForwardedProto: "X-Forwarded-Proto", KeyRange: "Range",
	KeyIfRange: "If-Range", KeyETag: "ETag", KeyLastModified: "Last-Modified",
	KeyContentRange: "Content-Range", KeyContentType: "Content-Type",
	KeyContentEncoding: "Content-Encoding", KeyAcceptRanges: "Accept-Ranges",
}

// trimIsspace trims what a locale-aware isspace() calls whitespace (for
// fault ValueTrimIsspace): SP, HTAB, VT, FF, NEL (0x85) and NBSP (0xA0).
func trimIsspace(v []byte) []byte {
	isSpace := func(c byte) bool { return c == ' ' || c == '\t' || c == 0x0b || c == 0x0c || c == 0x85 || c == 0xa0 }
	for len(v) > 0 && isSpace(v[0]) {
		v = v[1:]
	}
	for len(v) > 0 && isSpace(v[len(v)-1]) {
		v = v[:len(v)-1]
	}
	return v
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
