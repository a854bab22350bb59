package rangefilter

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
)

// ContentRange returns the Content-Range field value for r within a
// representation of size bytes, e.g. "bytes 0-4/10" (RFC 9110 §14.4:
// range-resp = incl-range "/" ( complete-length / "*" )).
func ContentRange(r Range, size int64) string {
	b := make([]byte, 0, 6+3*20+2)
	return string(appendContentRange(b, r, size))
}

func appendContentRange(b []byte, r Range, size int64) []byte {
	b = append(b, "bytes "...)
	b = strconv.AppendInt(b, r.Start, 10)
	b = append(b, '-')
	b = strconv.AppendInt(b, r.End, 10)
	b = append(b, '/')
	return strconv.AppendInt(b, size, 10)
}

// UnsatisfiedRange returns the Content-Range field value for a 416 response,
// e.g. "bytes */10" (RFC 9110 §14.4 unsatisfied-range = "*/"
// complete-length; §15.5.17: a 416 to a byte-range request SHOULD carry it).
func UnsatisfiedRange(size int64) string {
	return "bytes */" + strconv.FormatInt(size, 10)
}

// NewBoundary returns a fresh random multipart boundary: 32 lowercase hex
// digits from crypto/rand. Hex digits are bchars (RFC 2046 §5.1.1), need no
// quoting in the Content-Type parameter, and 128 random bits make a
// collision with the body content negligible.
func NewBoundary() string {
	var b [16]byte
	// Since Go 1.24 crypto/rand.Read never returns an error (it aborts the
	// program if the OS source fails).
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// MultipartContentType returns the Content-Type field value of a
// multipart/byteranges response (RFC 9110 §14.6), e.g.
// "multipart/byteranges; boundary=0123abcd".
func MultipartContentType(boundary string) string {
	return "multipart/byteranges; boundary=" + boundary
}

// Multipart body layout (RFC 9110 §14.6, RFC 2046 §5.1.1), for each range:
//
//	--BOUNDARY CRLF
//	Content-Type: <ct> CRLF            (omitted when contentType == "")
//	Content-Range: bytes a-b/size CRLF
//	CRLF
//	<data> CRLF
//
// followed by the close delimiter "--BOUNDARY--" CRLF. The CRLF after each
// part's data belongs to the next delimiter (RFC 2046 §5.1.1).
const (
	hdrContentType  = "Content-Type: "
	hdrContentRange = "Content-Range: "
	crlf            = "\r\n"
)

// MultipartLength returns the exact number of bytes [WriteMultipart] writes
// for the same arguments, so the proxy can send Content-Length. It returns
// -1 if the arguments are invalid (WriteMultipart would return an error
// without writing): no ranges, a range outside [0, size) or with
// Start > End, a boundary that is not a valid RFC 2046 boundary, a
// contentType that is not a valid field value, or a total that overflows
// int64.
func MultipartLength(ranges []Range, contentType string, size int64, boundary string) int64 {
	if validateMultipart(ranges, contentType, size, boundary) != nil {
		return -1
	}
	n, ok := multipartLength(ranges, contentType, size, boundary)
	if !ok {
		return -1
	}
	return n
}

func multipartLength(ranges []Range, contentType string, size int64, boundary string) (int64, bool) {
	// Per part, everything except the data and the two numbers that vary.
	fixed := int64(2 + len(boundary) + 2) // "--" boundary CRLF
	if contentType != "" {
		fixed += int64(len(hdrContentType) + len(contentType) + 2)
	}
	// "Content-Range: bytes " a "-" b "/" size CRLF, then CRLF, then data
	// followed by CRLF.
	fixed += int64(len(hdrContentRange)+len("bytes ")+1+1) + int64(decimalLen(size)) + 2 + 2 + 2
	total := int64(2 + len(boundary) + 2 + 2) // "--" boundary "--" CRLF
	for _, r := range ranges {
		part := fixed + int64(decimalLen(r.Start)+decimalLen(r.End))
		data := r.End - r.Start + 1 // no overflow: 0 <= Start <= End < size
		if data > math.MaxInt64-part || total > math.MaxInt64-(part+data) {
			return 0, false
		}
		total += part + data
	}
	return total, true
}

// decimalLen returns the number of decimal digits of a non-negative v.
func decimalLen(v int64) int {
	n := 1
	for v >= 10 {
		v /= 10
		n++
	}
	return n
}

// WriteMultipart writes the multipart/byteranges body (RFC 9110 §14.6) for
// ranges, in the given order, reading the range data from body, which holds
// the full representation of size bytes. Exactly
// MultipartLength(ranges, contentType, size, boundary) bytes are written on
// success. Invalid arguments are reported before anything is written. If
// body ends before a range's last byte, io.ErrUnexpectedEOF is returned
// (wrapped).
func WriteMultipart(w io.Writer, body io.ReaderAt, ranges []Range, contentType string, size int64, boundary string) error {
	if body == nil {
		return errors.New("rangefilter: nil body")
	}
	if err := validateMultipart(ranges, contentType, size, boundary); err != nil {
		return err
	}
	if _, ok := multipartLength(ranges, contentType, size, boundary); !ok {
		return errors.New("rangefilter: multipart length overflows int64")
	}

	buf := make([]byte, 0, 2+len(boundary)+2+len(hdrContentType)+len(contentType)+2+len(hdrContentRange)+6+3*20+2+2+2)
	for i, r := range ranges {
		buf = buf[:0]
		if i > 0 {
			buf = append(buf, crlf...) // ends the previous part's data
		}
		buf = append(buf, "--"...)
		buf = append(buf, boundary...)
		buf = append(buf, crlf...)
		if contentType != "" {
			buf = append(buf, hdrContentType...)
			buf = append(buf, contentType...)
			buf = append(buf, crlf...)
		}
		buf = append(buf, hdrContentRange...)
		buf = appendContentRange(buf, r, size)
		buf = append(buf, crlf...)
		buf = append(buf, crlf...)
		if _, err := w.Write(buf); err != nil {
			return err
		}
		n := r.End - r.Start + 1
		written, err := io.CopyN(w, io.NewSectionReader(body, r.Start, n), n)
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return fmt.Errorf("rangefilter: range %d-%d: copied %d of %d bytes: %w", r.Start, r.End, written, n, err)
		}
	}
	buf = append(buf[:0], crlf+"--"...)
	buf = append(buf, boundary...)
	buf = append(buf, "--"+crlf...)
	_, err := w.Write(buf)
	return err
}

func validateMultipart(ranges []Range, contentType string, size int64, boundary string) error {
	// RFC 2046 §5.1.1: a multipart body has at least one body part.
	if len(ranges) == 0 {
		return errors.New("rangefilter: no ranges")
	}
	for _, r := range ranges {
		if r.Start < 0 || r.Start > r.End || r.End >= size {
			return fmt.Errorf("rangefilter: range %d-%d outside representation of %d bytes", r.Start, r.End, size)
		}
	}
	if !validBoundary(boundary) {
		return fmt.Errorf("rangefilter: invalid multipart boundary %q", boundary)
	}
	if !validFieldValue(contentType) {
		return fmt.Errorf("rangefilter: invalid Content-Type %q", contentType)
	}
	return nil
}

// validBoundary checks RFC 2046 §5.1.1:
//
//	boundary := 0*69<bchars> bcharsnospace
//	bchars := bcharsnospace / " "
//	bcharsnospace := DIGIT / ALPHA / "'" / "(" / ")" / "+" / "_" / "," /
//	                 "-" / "." / "/" / ":" / "=" / "?"
func validBoundary(b string) bool {
	if len(b) == 0 || len(b) > 70 || b[len(b)-1] == ' ' {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case c == '\'', c == '(', c == ')', c == '+', c == '_', c == ',',
			c == '-', c == '.', c == '/', c == ':', c == '=', c == '?', c == ' ':
		default:
			return false
		}
	}
	return true
}

// validFieldValue checks that s can be emitted as a part header field value
// (RFC 9110 §5.5: field-vchar = VCHAR / obs-text, with SP/HTAB inside, no
// leading or trailing whitespace). In particular CR and LF are rejected,
// so a part header cannot be split.
func validFieldValue(s string) bool {
	if s == "" {
		return true
	}
	if s[0] == ' ' || s[0] == '\t' || s[len(s)-1] == ' ' || s[len(s)-1] == '\t' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == ' ' || c == '\t' || (c > 0x20 && c != 0x7F) {
			continue
		}
		return false
	}
	return true
}
