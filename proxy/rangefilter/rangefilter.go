package rangefilter

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// Kind is the action the proxy takes for a range request.
type Kind int

const (
	// Ignore: send the 200 response unchanged.
	Ignore Kind = iota
	// Single: send a 206 (Partial Content) with a single part and a
	// Content-Range header field (RFC 9110 §15.3.7.1).
	Single
	// Multi: send a 206 (Partial Content) with a multipart/byteranges body
	// (RFC 9110 §14.6, §15.3.7.2).
	Multi
	// Unsatisfiable: send a 416 (Range Not Satisfiable) with
	// "Content-Range: bytes */LEN" (RFC 9110 §15.5.17).
	Unsatisfiable
)

// String returns the name of k.
func (k Kind) String() string {
	switch k {
	case Ignore:
		return "Ignore"
	case Single:
		return "Single"
	case Multi:
		return "Multi"
	case Unsatisfiable:
		return "Unsatisfiable"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Range is a satisfiable byte range. Start and End are inclusive byte
// positions already resolved against the representation length, so
// 0 <= Start <= End < size.
type Range struct{ Start, End int64 }

// Decision is the result of [Decide]. Ranges is non-nil only for Single
// (exactly one element) and Multi (two or more elements, in request order).
type Decision struct {
	Kind   Kind
	Ranges []Range
}

// maxRanges is the largest number of range-specs honoured in one Range
// field. RFC 9110 §14.2 allows a server to ignore a Range field that is an
// "indication of either a broken client or a deliberate denial-of-service
// attack"; a field with more range-specs than this is ignored (200).
const maxRanges = 100

// Decide decides what a proxy does with a full 200 response of size bytes to
// a request.
//
// method is the request method; only GET has range semantics (anything else,
// HEAD included, yields Ignore). rangeValue/present are the Range field
// value and whether the field was present. ifRange is the If-Range field
// value ("" if absent). etag and lastModified are the response's ETag and
// Last-Modified field values ("" if absent). A negative size (unknown
// length) yields Ignore.
func Decide(method, rangeValue string, present bool, ifRange, etag, lastModified string, size int64) Decision {
	// RFC 9110 §14.2: "A server MUST ignore a Range header field received
	// with a request method that is unrecognized or for which range handling
	// is not defined. For this specification, GET is the only method for
	// which range handling is defined." Method names are case-sensitive
	// (RFC 9110 §9.1), so "get" is not GET. HEAD is ignored too.
	if method != "GET" || !present {
		return Decision{Kind: Ignore}
	}
	// The filter only applies to a representation of known length.
	if size < 0 {
		return Decision{Kind: Ignore}
	}

	var buf [maxRanges]Range
	n, ok := parseRange(rangeValue, size, &buf)
	if !ok {
		// Invalid field, unknown unit, or too many ranges: RFC 9110 §14.2
		// lets the server ignore it and send the full 200.
		return Decision{Kind: Ignore}
	}

	// RFC 9110 §13.1.5 / §13.2.2 step 5: when both Range and If-Range are
	// present on a GET, the Range is honoured only if the If-Range condition
	// is true; otherwise the Range field is ignored and a 200 is sent. This
	// is evaluated before satisfiability, so a false If-Range turns even an
	// unsatisfiable Range into a 200.
	if ifRange != "" && !ifRangeHolds(ifRange, etag, lastModified) {
		return Decision{Kind: Ignore}
	}

	// RFC 9110 §14.1.1: "Otherwise, the range-set is unsatisfiable."
	// RFC 9110 §15.5.17: 416 when "none of the ranges in the request's Range
	// header field overlap the current extent of the selected resource".
	// This also covers the empty range-set ("bytes=", see parseRange).
	if n == 0 {
		return Decision{Kind: Unsatisfiable}
	}

	// Overlap policy (RFC 9110 §14.2: a server MAY ignore a ranges-specifier
	// with overlapping ranges; §15.3.7.2 would also allow coalescing). We
	// never coalesce or reorder: if any two satisfiable ranges overlap, the
	// whole field is ignored, as Pingora does. Touching ranges ("0-4,5-9")
	// and non-overlapping ranges in descending order are served as
	// requested, in request order (RFC 9110 §15.3.7.2: parts SHOULD be sent
	// in the order requested).
	if overlapping(buf[:n]) {
		return Decision{Kind: Ignore}
	}

	ranges := make([]Range, n)
	copy(ranges, buf[:n])
	// RFC 9110 §15.3.7.1/§15.3.7.2: one remaining range is sent as a single
	// part (a multipart response MAY, not MUST, be used when several ranges
	// were requested but only one is satisfiable); several as
	// multipart/byteranges.
	if n == 1 {
		return Decision{Kind: Single, Ranges: ranges}
	}
	return Decision{Kind: Multi, Ranges: ranges}
}

// parseRange parses a Range field value and resolves every satisfiable
// range-spec against size into out, in request order. It returns the number
// of satisfiable ranges and ok=false when the field must be ignored (invalid
// syntax, a unit other than bytes, or more than maxRanges range-specs).
// It does not allocate.
func parseRange(v string, size int64, out *[maxRanges]Range) (n int, ok bool) {
	// RFC 9110 §5.5: a field value does not include leading or trailing
	// whitespace; strip any the caller left in.
	v = trimOWS(v)

	// RFC 9110 §14.1.1: ranges-specifier = range-unit "=" range-set.
	// No whitespace is allowed around "=".
	eq := strings.IndexByte(v, '=')
	if eq < 0 {
		return 0, false
	}
	// RFC 9110 §14.1: "Range unit names are case-insensitive". Any other
	// unit is ignored (RFC 9110 §14.2: a proxy MAY discard a Range header
	// field that contains a range unit it does not understand).
	if !strings.EqualFold(v[:eq], "bytes") {
		return 0, false
	}

	// RFC 9110 §14.1.1: range-set = 1#range-spec. RFC 9110 §5.6.1.2: list
	// elements are separated by OWS "," OWS and a recipient MUST parse and
	// ignore empty list elements. A range-set with no range-spec at all
	// ("bytes=", "bytes=  ", "bytes=,,") does not match 1#range-spec; we
	// answer it with 416 like Pingora 0.8 (sending the 200 by ignoring the
	// field would be equally conformant, RFC 9110 §14.2). That falls out
	// naturally: no satisfiable range -> n == 0 -> Unsatisfiable.
	set := v[eq+1:]
	specs := 0
	for set != "" {
		var elem string
		if i := strings.IndexByte(set, ','); i >= 0 {
			elem, set = set[:i], set[i+1:]
		} else {
			elem, set = set, ""
		}
		elem = trimOWS(elem)
		if elem == "" {
			continue // RFC 9110 §5.6.1.2: ignore empty list elements.
		}
		specs++
		// RFC 9110 §14.2 anti-abuse: ignore a field with too many ranges.
		if specs > maxRanges {
			return 0, false
		}
		r, satisfiable, valid := parseSpec(elem, size)
		if !valid {
			// RFC 9110 §14.2: a server MAY ignore a Range header field that
			// contains an invalid ranges-specifier. One bad element
			// invalidates the whole field.
			return 0, false
		}
		if satisfiable {
			out[n] = r
			n++
		}
	}
	return n, true
}

// parseSpec parses one range-spec (already trimmed, non-empty) and resolves
// it against size. valid=false means the element is syntactically invalid;
// satisfiable=false means it is valid but selects no bytes.
func parseSpec(s string, size int64) (r Range, satisfiable, valid bool) {
	// RFC 9110 §14.1.1/§14.1.2:
	//   range-spec   = int-range / suffix-range / other-range
	//   int-range    = first-pos "-" [ last-pos ]
	//   suffix-range = "-" suffix-length
	//   first-pos = last-pos = suffix-length = 1*DIGIT
	// other-range is not defined for the bytes unit, so it is invalid here.
	if s[0] == '-' {
		suffix, rest, ok := parseDigits(s[1:])
		if !ok || rest != "" {
			return Range{}, false, false
		}
		// RFC 9110 §14.1.1: a range-set is satisfiable if it includes "at
		// least one suffix-range with a non-zero suffix-length" (and the
		// representation is non-empty, §14.1.3). So "-0" and any suffix of
		// an empty representation are unsatisfiable.
		if suffix == 0 || size == 0 {
			return Range{}, false, true
		}
		// RFC 9110 §14.1.2: "If the selected representation is shorter than
		// the specified suffix-length, the entire representation is used."
		if suffix >= size {
			return Range{0, size - 1}, true, true
		}
		return Range{size - suffix, size - 1}, true, true
	}

	first, rest, ok := parseDigits(s)
	if !ok || rest == "" || rest[0] != '-' {
		return Range{}, false, false
	}
	rest = rest[1:]
	last := int64(-1) // absent
	if rest != "" {
		last, rest, ok = parseDigits(rest)
		if !ok || rest != "" {
			return Range{}, false, false
		}
		// RFC 9110 §14.1.1: "An int-range is invalid if the last-pos value
		// is present and less than the first-pos." Following Pingora 0.8
		// we treat such a spec as unsatisfiable (it is dropped; if nothing
		// else remains the answer is 416) rather than ignoring the field.
		if last < first {
			return Range{}, false, true
		}
	}
	// RFC 9110 §14.1.1: a range-set is satisfiable only through a range-spec
	// "with a first-pos that is less than the current length of the
	// representation"; size 0 makes every int-range unsatisfiable.
	if first >= size {
		return Range{}, false, true
	}
	// RFC 9110 §14.1.2: "If the last-pos value is absent, or if the value
	// is greater than or equal to the current length of the representation
	// data, the byte range is interpreted as the remainder of the
	// representation (i.e., the server replaces the value of last-pos with
	// a value that is one less than the current length of the selected
	// representation)."
	if last < 0 || last >= size {
		last = size - 1
	}
	return Range{first, last}, true, true
}

// parseDigits parses a leading 1*DIGIT from s. ok is false if there is no
// digit or the value overflows int64 (treated as an invalid element). Signs,
// spaces and any other byte stop the number and are left in rest.
func parseDigits(s string) (v int64, rest string, ok bool) {
	i := 0
	for ; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			break
		}
		d := int64(c - '0')
		// Guard against int64 overflow: v*10 + d must be <= MaxInt64.
		if v > (math.MaxInt64-d)/10 {
			return 0, s, false
		}
		v = v*10 + d
	}
	if i == 0 {
		return 0, s, false
	}
	return v, s[i:], true
}

// overlapping reports whether any two ranges share a byte. Ranges that only
// touch (a.End+1 == b.Start) do not overlap.
func overlapping(rs []Range) bool {
	ascending := true
	for i := 1; i < len(rs); i++ {
		if rs[i].Start <= rs[i-1].End {
			ascending = false
			break
		}
	}
	if ascending {
		return false // strictly ascending and disjoint: the common case.
	}
	for i := 1; i < len(rs); i++ {
		for j := 0; j < i; j++ {
			if rs[i].Start <= rs[j].End && rs[j].Start <= rs[i].End {
				return true
			}
		}
	}
	return false
}

// trimOWS removes leading and trailing OWS (SP / HTAB, RFC 9110 §5.6.3).
func trimOWS(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// ifRangeHolds evaluates a present If-Range field (RFC 9110 §13.1.5).
// An unparseable value is treated as a false condition (the Range is
// ignored and the full 200 is sent, which is always safe).
func ifRangeHolds(ifRange, etag, lastModified string) bool {
	v := trimOWS(ifRange)
	if v == "" {
		return false
	}
	// RFC 9110 §13.1.5: If-Range = entity-tag / HTTP-date. "A valid
	// entity-tag can be distinguished from a valid HTTP-date by examining
	// the first three characters for a DQUOTE."
	if strings.IndexByte(v[:min(3, len(v))], '"') >= 0 {
		// RFC 9110 §13.1.5: "If the entity-tag validator provided exactly
		// matches the ETag field value for the selected representation using
		// the strong comparison function (Section 8.8.3.2), the condition is
		// true." RFC 9110 §8.8.3.2: strong comparison matches only if both
		// entity tags are not weak and their opaque-tags match
		// character-by-character. So a W/ tag on either side never matches
		// (and clients MUST NOT send a weak tag in If-Range).
		reqTag, reqWeak, ok := parseEntityTag(v)
		if !ok || reqWeak {
			return false
		}
		respTag, respWeak, ok := parseEntityTag(trimOWS(etag))
		if !ok || respWeak {
			return false
		}
		return reqTag == respTag
	}
	// RFC 9110 §13.1.5: the HTTP-date form: "If the HTTP-date validator
	// provided exactly matches the Last-Modified field value for the
	// selected representation, the condition is true. Otherwise, the
	// condition is false." The value must be a valid HTTP-date (RFC 9110
	// §5.6.7); it is then compared byte-for-byte with Last-Modified.
	// (Step 1, "not a strong validator" per §8.8.2.2, needs the response
	// Date and is not evaluated here.)
	if !isHTTPDate(v) {
		return false
	}
	return v == trimOWS(lastModified)
}

// parseEntityTag parses a complete entity-tag (RFC 9110 §8.8.3):
//
//	entity-tag = [ weak ] opaque-tag
//	weak       = %s"W/"
//	opaque-tag = DQUOTE *etagc DQUOTE
//	etagc      = %x21 / %x23-7E / obs-text
//
// It returns the opaque-tag (with quotes) and whether it is weak.
func parseEntityTag(s string) (opaque string, weak, ok bool) {
	if strings.HasPrefix(s, "W/") { // %s: case-sensitive
		weak = true
		s = s[2:]
	}
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return "", false, false
	}
	for i := 1; i < len(s)-1; i++ {
		c := s[i]
		if c == 0x21 || (c >= 0x23 && c <= 0x7E) || c >= 0x80 {
			continue
		}
		return "", false, false
	}
	return s, weak, true
}

// HTTP-date formats (RFC 9110 §5.6.7): the preferred IMF-fixdate and the two
// obsolete formats recipients MUST accept.
const (
	imfFixdate = "Mon, 02 Jan 2006 15:04:05 GMT"
	rfc850Date = "Monday, 02-Jan-06 15:04:05 GMT"
	asctimeDt  = "Mon Jan _2 15:04:05 2006"
)

// isHTTPDate reports whether s is an HTTP-date (RFC 9110 §5.6.7).
func isHTTPDate(s string) bool {
	for _, layout := range [...]string{imfFixdate, rfc850Date, asctimeDt} {
		if _, err := time.Parse(layout, s); err == nil {
			return true
		}
	}
	return false
}
