package rangefilter

import (
	"bytes"
	"errors"
	"io"
	"math"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func TestKindString(t *testing.T) {
	for k, want := range map[Kind]string{
		Ignore: "Ignore", Single: "Single", Multi: "Multi", Unsatisfiable: "Unsatisfiable", Kind(7): "Kind(7)", Kind(-1): "Kind(-1)",
	} {
		if got := k.String(); got != want {
			t.Errorf("Kind(%d).String() = %q, want %q", int(k), got, want)
		}
	}
}

// TestDecideRange covers the Range grammar and resolution, without If-Range.
func TestDecideRange(t *testing.T) {
	const maxI = "9223372036854775807"  // math.MaxInt64
	const overI = "9223372036854775808" // math.MaxInt64 + 1
	tests := []struct {
		name   string
		value  string
		size   int64
		kind   Kind
		ranges []Range
	}{
		// Basic forms (RFC 9110 §14.1.2).
		{"first-last", "bytes=0-4", 10, Single, []Range{{0, 4}}},
		{"single byte", "bytes=3-3", 10, Single, []Range{{3, 3}}},
		{"last byte", "bytes=9-9", 10, Single, []Range{{9, 9}}},
		{"whole", "bytes=0-9", 10, Single, []Range{{0, 9}}},
		{"open ended", "bytes=5-", 10, Single, []Range{{5, 9}}},
		{"open ended from zero", "bytes=0-", 10, Single, []Range{{0, 9}}},
		{"suffix", "bytes=-3", 10, Single, []Range{{7, 9}}},
		{"suffix whole exact", "bytes=-10", 10, Single, []Range{{0, 9}}},
		{"suffix longer than size", "bytes=-500", 10, Single, []Range{{0, 9}}},
		{"suffix one", "bytes=-1", 10, Single, []Range{{9, 9}}},
		{"leading zeros", "bytes=000-004", 10, Single, []Range{{0, 4}}},
		{"suffix leading zeros", "bytes=-0003", 10, Single, []Range{{7, 9}}},

		// Clamping (RFC 9110 §14.1.2).
		{"clamp last", "bytes=5-100", 10, Single, []Range{{5, 9}}},
		{"clamp last exactly size", "bytes=5-10", 10, Single, []Range{{5, 9}}},
		{"clamp MaxInt64", "bytes=0-" + maxI, 10, Single, []Range{{0, 9}}},
		{"first MaxInt64", "bytes=" + maxI + "-", 10, Unsatisfiable, nil},
		{"suffix MaxInt64", "bytes=-" + maxI, 10, Single, []Range{{0, 9}}},

		// Unit (RFC 9110 §14.1: case-insensitive).
		{"unit upper", "BYTES=0-4", 10, Single, []Range{{0, 4}}},
		{"unit mixed", "ByTeS=0-4", 10, Single, []Range{{0, 4}}},
		{"other unit", "items=0-4", 10, Ignore, nil},
		{"unit prefix", "byte=0-4", 10, Ignore, nil},
		{"unit longer", "bytess=0-4", 10, Ignore, nil},
		{"no unit", "=0-4", 10, Ignore, nil},
		{"no equals", "bytes 0-4", 10, Ignore, nil},
		{"no equals bare", "0-4", 10, Ignore, nil},
		{"space before equals", "bytes =0-4", 10, Ignore, nil},
		{"empty value", "", 10, Ignore, nil},
		{"only whitespace", "   ", 10, Ignore, nil},

		// Whitespace (RFC 9110 §5.6.1.2, §5.5).
		{"OWS around field", "  bytes=0-4 \t", 10, Single, []Range{{0, 4}}},
		{"space after equals", "bytes= 0-4", 10, Single, []Range{{0, 4}}},
		{"OWS around commas", "bytes=0-1 ,\t3-4 , 6-7", 10, Multi, []Range{{0, 1}, {3, 4}, {6, 7}}},
		{"empty elements", "bytes=,0-1,,,3-4,", 10, Multi, []Range{{0, 1}, {3, 4}}},
		{"empty elements with OWS", "bytes= , 0-1 , ,3-4 , ", 10, Multi, []Range{{0, 1}, {3, 4}}},
		{"space inside number", "bytes=1 0-20", 30, Ignore, nil},
		{"space before dash", "bytes=0 -4", 10, Ignore, nil},
		{"space after dash", "bytes=0- 4", 10, Ignore, nil},
		{"space in suffix", "bytes=- 4", 10, Ignore, nil},

		// Empty range-set: 416 (Pingora 0.8 parity).
		{"empty set", "bytes=", 10, Unsatisfiable, nil},
		{"empty set spaces", "bytes=  ", 10, Unsatisfiable, nil},
		{"empty set commas", "bytes=,,", 10, Unsatisfiable, nil},
		{"empty set commas spaces", "bytes= , \t,", 10, Unsatisfiable, nil},
		{"empty set size 0", "bytes=", 0, Unsatisfiable, nil},

		// Malformed elements: whole field ignored (RFC 9110 §14.2).
		{"dash only", "bytes=-", 10, Ignore, nil},
		{"double dash", "bytes=--5", 10, Ignore, nil},
		{"no dash", "bytes=5", 10, Ignore, nil},
		{"two dashes", "bytes=1-2-3", 10, Ignore, nil},
		{"plus sign", "bytes=+1-2", 10, Ignore, nil},
		{"plus last", "bytes=1-+2", 10, Ignore, nil},
		{"negative last", "bytes=1--2", 10, Ignore, nil},
		{"hex", "bytes=0x1-2", 10, Ignore, nil},
		{"letters", "bytes=a-b", 10, Ignore, nil},
		{"trailing junk", "bytes=0-4x", 10, Ignore, nil},
		{"decimal", "bytes=0.5-4", 10, Ignore, nil},
		{"semicolon", "bytes=0-4;1-2", 10, Ignore, nil},
		{"one bad among good", "bytes=0-1,x,3-4", 10, Ignore, nil},
		{"bad after unsatisfiable", "bytes=50-60,zz", 10, Ignore, nil},
		{"second unit", "bytes=0-1,bytes=3-4", 10, Ignore, nil},
		{"non-ascii digit", "bytes=\u0661-2", 10, Ignore, nil},
		{"overflow first", "bytes=" + overI + "-", 10, Ignore, nil},
		{"overflow last", "bytes=0-" + overI, 10, Ignore, nil},
		{"overflow suffix", "bytes=-" + overI, 10, Ignore, nil},
		{"overflow huge", "bytes=0-99999999999999999999999999999999", 10, Ignore, nil},
		{"overflow leading zeros ok", "bytes=0000000000000000000000000000004-5", 10, Single, []Range{{4, 5}}},

		// last < first (Pingora 0.8): unsatisfiable spec.
		{"last before first", "bytes=1-0", 10, Unsatisfiable, nil},
		{"last before first big", "bytes=9-2", 10, Unsatisfiable, nil},
		{"last before first dropped", "bytes=5-1,0-2", 10, Single, []Range{{0, 2}}},

		// Suffix of zero (RFC 9110 §14.1.1).
		{"suffix zero", "bytes=-0", 10, Unsatisfiable, nil},
		{"suffix zero dropped", "bytes=-0,0-1", 10, Single, []Range{{0, 1}}},

		// Unsatisfiable (RFC 9110 §14.1.1, §15.5.17).
		{"first at size", "bytes=10-", 10, Unsatisfiable, nil},
		{"first at size closed", "bytes=10-20", 10, Unsatisfiable, nil},
		{"first past size", "bytes=100-200", 10, Unsatisfiable, nil},
		{"mixed satisfiable", "bytes=100-200,0-1", 10, Single, []Range{{0, 1}}},
		{"all unsatisfiable", "bytes=100-200,10-,-0", 10, Unsatisfiable, nil},

		// Size 0: nothing is satisfiable.
		{"size0 first", "bytes=0-", 0, Unsatisfiable, nil},
		{"size0 closed", "bytes=0-0", 0, Unsatisfiable, nil},
		{"size0 suffix", "bytes=-5", 0, Unsatisfiable, nil},
		{"size0 malformed", "bytes=x", 0, Ignore, nil},
		{"size1 suffix", "bytes=-5", 1, Single, []Range{{0, 0}}},

		// Multiple ranges, order preserved (RFC 9110 §15.3.7.2).
		{"two ranges", "bytes=0-1,5-6", 10, Multi, []Range{{0, 1}, {5, 6}}},
		{"adjacent", "bytes=0-4,5-9", 10, Multi, []Range{{0, 4}, {5, 9}}},
		{"descending disjoint", "bytes=5-6,0-1", 10, Multi, []Range{{5, 6}, {0, 1}}},
		{"suffix and prefix", "bytes=0-0,-1", 10, Multi, []Range{{0, 0}, {9, 9}}},
		{"three mixed order", "bytes=8-9,0-1,4-5", 10, Multi, []Range{{8, 9}, {0, 1}, {4, 5}}},

		// Overlap policy: ignore.
		{"overlap", "bytes=0-5,3-8", 10, Ignore, nil},
		{"duplicate", "bytes=0-1,0-1", 10, Ignore, nil},
		{"contained", "bytes=0-9,3-4", 10, Ignore, nil},
		{"overlap one byte", "bytes=0-4,4-9", 10, Ignore, nil},
		{"overlap after clamp", "bytes=0-100,5-", 10, Ignore, nil},
		{"overlap suffix", "bytes=-5,0-", 10, Ignore, nil},
		{"overlap descending far", "bytes=8-9,0-1,4-5,1-1", 10, Ignore, nil},
		{"overlap with unsat ignored", "bytes=0-1,20-30,20-30", 10, Single, []Range{{0, 1}}},

		// Range count limit.
		{"100 ranges", manyRanges(100), 1000, Multi, nil /* checked below */},
		{"101 ranges", manyRanges(101), 1000, Ignore, nil},
		{"101 unsatisfiable", "bytes=" + strings.Repeat("500-600,", 101), 10, Ignore, nil},
		{"many empty elements", "bytes=" + strings.Repeat(",", 1000) + "0-1", 10, Single, []Range{{0, 1}}},

		// Negative size (unknown length).
		{"negative size", "bytes=0-1", -1, Ignore, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Decide("GET", tt.value, true, "", "", "", tt.size)
			if d.Kind != tt.kind {
				t.Fatalf("Decide(%q, size %d).Kind = %v, want %v (ranges %v)", tt.value, tt.size, d.Kind, tt.kind, d.Ranges)
			}
			if tt.ranges != nil && !reflect.DeepEqual(d.Ranges, tt.ranges) {
				t.Fatalf("Decide(%q, size %d).Ranges = %v, want %v", tt.value, tt.size, d.Ranges, tt.ranges)
			}
			checkInvariants(t, d, tt.size)
		})
	}
}

// manyRanges returns a Range value with n disjoint two-byte ranges.
func manyRanges(n int) string {
	var b strings.Builder
	b.WriteString("bytes=")
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(i * 3))
		b.WriteByte('-')
		b.WriteString(strconv.Itoa(i*3 + 1))
	}
	return b.String()
}

func TestDecideManyRangesOrder(t *testing.T) {
	d := Decide("GET", manyRanges(100), true, "", "", "", 1000)
	if d.Kind != Multi || len(d.Ranges) != 100 {
		t.Fatalf("got %v with %d ranges", d.Kind, len(d.Ranges))
	}
	for i, r := range d.Ranges {
		if want := (Range{int64(i * 3), int64(i*3 + 1)}); r != want {
			t.Fatalf("range %d = %v, want %v", i, r, want)
		}
	}
}

func TestDecideMethodAndPresence(t *testing.T) {
	tests := []struct {
		method  string
		present bool
		kind    Kind
	}{
		{"GET", true, Single},
		{"GET", false, Ignore},
		{"HEAD", true, Ignore},
		{"POST", true, Ignore},
		{"PUT", true, Ignore},
		{"get", true, Ignore}, // methods are case-sensitive (RFC 9110 §9.1)
		{"Get", true, Ignore},
		{"", true, Ignore},
		{"BREW", true, Ignore},
	}
	for _, tt := range tests {
		if d := Decide(tt.method, "bytes=0-1", tt.present, "", "", "", 10); d.Kind != tt.kind {
			t.Errorf("Decide(%q, present=%v) = %v, want %v", tt.method, tt.present, d.Kind, tt.kind)
		}
	}
	// Not present: the value is irrelevant, even if it would be a 416.
	if d := Decide("GET", "bytes=", false, "", "", "", 10); d.Kind != Ignore {
		t.Errorf("absent empty-set Range = %v, want Ignore", d.Kind)
	}
}

func TestDecideIfRange(t *testing.T) {
	const lm = "Sun, 06 Nov 1994 08:49:37 GMT"
	tests := []struct {
		name         string
		value        string // Range; "bytes=0-4" if empty
		ifRange      string
		etag         string
		lastModified string
		kind         Kind
	}{
		{"absent", "", "", `"abc"`, lm, Single},
		{"absent, no validators", "", "", "", "", Single},

		// Entity tags: strong comparison (RFC 9110 §8.8.3.2).
		{"etag match", "", `"abc"`, `"abc"`, "", Single},
		{"etag match empty opaque", "", `""`, `""`, "", Single},
		{"etag match with OWS", "", ` "abc" `, `"abc"`, "", Single},
		{"etag mismatch", "", `"abc"`, `"abd"`, "", Ignore},
		{"etag case differs", "", `"abc"`, `"ABC"`, "", Ignore},
		{"etag weak request", "", `W/"abc"`, `"abc"`, "", Ignore},
		{"etag weak response", "", `"abc"`, `W/"abc"`, "", Ignore},
		{"etag weak both", "", `W/"abc"`, `W/"abc"`, "", Ignore},
		{"etag lowercase w is invalid", "", `w/"abc"`, `"abc"`, "", Ignore},
		{"etag no response etag", "", `"abc"`, "", lm, Ignore},
		{"etag response invalid", "", `"abc"`, `abc`, "", Ignore},
		{"etag unquoted response", "", `"abc"`, `"abc`, "", Ignore},
		{"etag unterminated", "", `"abc`, `"abc`, "", Ignore},
		{"etag inner quote", "", `"a"c"`, `"a"c"`, "", Ignore},
		{"etag inner space", "", `"a c"`, `"a c"`, "", Ignore},
		{"etag list", "", `"abc", "def"`, `"abc"`, "", Ignore},
		{"etag star", "", `*`, `"abc"`, "", Ignore},
		{"etag obs-text", "", "\"a\x80b\"", "\"a\x80b\"", "", Single},
		{"etag vs lastmod", "", `"abc"`, "", `"abc"`, Ignore},

		// HTTP-date: exact match with Last-Modified (RFC 9110 §13.1.5).
		{"date match", "", lm, `"abc"`, lm, Single},
		{"date match with OWS", "", " " + lm + " ", "", lm, Single},
		{"date mismatch", "", "Sun, 06 Nov 1994 08:49:38 GMT", "", lm, Ignore},
		{"date no last-modified", "", lm, `"abc"`, "", Ignore},
		{"date rfc850 exact", "", "Sunday, 06-Nov-94 08:49:37 GMT", "", "Sunday, 06-Nov-94 08:49:37 GMT", Single},
		{"date asctime exact", "", "Sun Nov  6 08:49:37 1994", "", "Sun Nov  6 08:49:37 1994", Single},
		{"date same instant other format", "", "Sunday, 06-Nov-94 08:49:37 GMT", "", lm, Ignore},
		{"date not a date", "", "yesterday", "", "yesterday", Ignore},
		{"date garbage", "", "Sun, 06 Nov 1994", "", "Sun, 06 Nov 1994", Ignore},
		{"date non-GMT", "", "Sun, 06 Nov 1994 08:49:37 PST", "", "Sun, 06 Nov 1994 08:49:37 PST", Ignore},
		{"whitespace only", "", "   ", `"abc"`, lm, Ignore},

		// If-Range false beats everything else (RFC 9110 §13.2.2 step 5).
		{"false beats 416", "bytes=100-", `"x"`, `"abc"`, "", Ignore},
		{"false beats empty set", "bytes=", `"x"`, `"abc"`, "", Ignore},
		{"true keeps 416", "bytes=100-", `"abc"`, `"abc"`, "", Unsatisfiable},
		{"true keeps multi", "bytes=0-1,3-4", lm, "", lm, Multi},
		{"invalid range stays ignored", "bytes=x", `"abc"`, `"abc"`, "", Ignore},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := tt.value
			if v == "" {
				v = "bytes=0-4"
			}
			d := Decide("GET", v, true, tt.ifRange, tt.etag, tt.lastModified, 10)
			if d.Kind != tt.kind {
				t.Fatalf("Decide(%q, If-Range %q, ETag %q, LM %q) = %v, want %v", v, tt.ifRange, tt.etag, tt.lastModified, d.Kind, tt.kind)
			}
			checkInvariants(t, d, 10)
		})
	}
}

func TestHeaderValues(t *testing.T) {
	for _, tt := range []struct{ got, want string }{
		{ContentRange(Range{0, 4}, 10), "bytes 0-4/10"},
		{ContentRange(Range{9, 9}, 10), "bytes 9-9/10"},
		{ContentRange(Range{0, math.MaxInt64 - 1}, math.MaxInt64), "bytes 0-9223372036854775806/9223372036854775807"},
		{UnsatisfiedRange(10), "bytes */10"},
		{UnsatisfiedRange(0), "bytes */0"},
		{MultipartContentType("abc123"), "multipart/byteranges; boundary=abc123"},
	} {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestNewBoundary(t *testing.T) {
	hexRE := regexp.MustCompile(`^[0-9a-f]{32}$`)
	seen := map[string]bool{}
	for range 100 {
		b := NewBoundary()
		if !hexRE.MatchString(b) || !validBoundary(b) {
			t.Fatalf("bad boundary %q", b)
		}
		if seen[b] {
			t.Fatalf("repeated boundary %q", b)
		}
		seen[b] = true
	}
}

func TestWriteMultipartExact(t *testing.T) {
	body := []byte("0123456789")
	var out bytes.Buffer
	ranges := []Range{{0, 1}, {5, 9}, {3, 3}}
	if err := WriteMultipart(&out, bytes.NewReader(body), ranges, "text/plain", 10, "BND"); err != nil {
		t.Fatal(err)
	}
	want := "--BND\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-1/10\r\n\r\n01\r\n" +
		"--BND\r\nContent-Type: text/plain\r\nContent-Range: bytes 5-9/10\r\n\r\n56789\r\n" +
		"--BND\r\nContent-Type: text/plain\r\nContent-Range: bytes 3-3/10\r\n\r\n3\r\n" +
		"--BND--\r\n"
	if out.String() != want {
		t.Fatalf("body:\n%q\nwant:\n%q", out.String(), want)
	}
	if n := MultipartLength(ranges, "text/plain", 10, "BND"); n != int64(len(want)) {
		t.Fatalf("MultipartLength = %d, want %d", n, len(want))
	}

	out.Reset()
	if err := WriteMultipart(&out, bytes.NewReader(body), ranges[:1], "", 10, "BND"); err != nil {
		t.Fatal(err)
	}
	want = "--BND\r\nContent-Range: bytes 0-1/10\r\n\r\n01\r\n--BND--\r\n"
	if out.String() != want {
		t.Fatalf("body without content type:\n%q\nwant:\n%q", out.String(), want)
	}
}

func TestMultipartLengthMatchesWritten(t *testing.T) {
	sizes := []int64{1, 2, 9, 10, 11, 99, 100, 1000, 12345}
	values := []string{"bytes=0-0", "bytes=0-0,-1", "bytes=0-1,5-6,8-", "bytes=-3,0-2", "bytes=1-1,3-3,5-5,7-7,9-9", manyRanges(100), "bytes=0-,"}
	cts := []string{"", "text/plain", "application/octet-stream; charset=\"x y\"", "a/b\tc"}
	for _, size := range sizes {
		body := make([]byte, size)
		for i := range body {
			body[i] = byte(i*7 + 3)
		}
		for _, v := range values {
			d := Decide("GET", v, true, "", "", "", size)
			if d.Kind != Single && d.Kind != Multi {
				continue
			}
			for _, ct := range cts {
				b := NewBoundary()
				var out bytes.Buffer
				if err := WriteMultipart(&out, bytes.NewReader(body), d.Ranges, ct, size, b); err != nil {
					t.Fatalf("size %d %q: %v", size, v, err)
				}
				if n := MultipartLength(d.Ranges, ct, size, b); n != int64(out.Len()) {
					t.Fatalf("size %d %q ct %q: MultipartLength = %d, written %d", size, v, ct, n, out.Len())
				}
				checkMultipartBody(t, out.Bytes(), body, d.Ranges, ct, size, b)
			}
		}
	}
}

// checkMultipartBody re-parses a written body independently.
func checkMultipartBody(t *testing.T, got, full []byte, ranges []Range, ct string, size int64, boundary string) {
	t.Helper()
	rest := got
	for _, r := range ranges {
		hdr := "--" + boundary + "\r\n"
		if ct != "" {
			hdr += "Content-Type: " + ct + "\r\n"
		}
		hdr += "Content-Range: " + ContentRange(r, size) + "\r\n\r\n"
		if !bytes.HasPrefix(rest, []byte(hdr)) {
			t.Fatalf("part header mismatch at %q", rest[:min(len(rest), 80)])
		}
		rest = rest[len(hdr):]
		data := full[r.Start : r.End+1]
		if !bytes.HasPrefix(rest, data) {
			t.Fatalf("part data mismatch for %v", r)
		}
		rest = rest[len(data):]
		if !bytes.HasPrefix(rest, []byte("\r\n")) {
			t.Fatalf("missing CRLF after data for %v", r)
		}
		rest = rest[2:]
	}
	if string(rest) != "--"+boundary+"--\r\n" {
		t.Fatalf("bad close delimiter %q", rest)
	}
}

type errWriter struct{ n int }

func (w *errWriter) Write(p []byte) (int, error) {
	if w.n <= 0 {
		return 0, errors.New("boom")
	}
	w.n--
	return len(p), nil
}

func TestWriteMultipartErrors(t *testing.T) {
	body := bytes.NewReader([]byte("0123456789"))
	ok := []Range{{0, 1}, {4, 5}}
	bad := []struct {
		name     string
		body     io.ReaderAt
		ranges   []Range
		ct       string
		size     int64
		boundary string
	}{
		{"nil body", nil, ok, "", 10, "b"},
		{"no ranges", body, nil, "", 10, "b"},
		{"negative start", body, []Range{{-1, 2}}, "", 10, "b"},
		{"start after end", body, []Range{{3, 2}}, "", 10, "b"},
		{"end at size", body, []Range{{0, 10}}, "", 10, "b"},
		{"empty boundary", body, ok, "", 10, ""},
		{"long boundary", body, ok, "", 10, strings.Repeat("a", 71)},
		{"boundary trailing space", body, ok, "", 10, "ab "},
		{"boundary CRLF", body, ok, "", 10, "a\r\nb"},
		{"boundary quote", body, ok, "", 10, `a"b`},
		{"ct CRLF", body, ok, "text/plain\r\nX-Evil: 1", 10, "b"},
		{"ct LF", body, ok, "text/plain\nX: 1", 10, "b"},
		{"ct NUL", body, ok, "text/plain\x00", 10, "b"},
		{"ct DEL", body, ok, "text/plain\x7f", 10, "b"},
		{"ct leading space", body, ok, " text/plain", 10, "b"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := WriteMultipart(&out, tt.body, tt.ranges, tt.ct, tt.size, tt.boundary); err == nil {
				t.Fatal("WriteMultipart succeeded, want error")
			}
			if out.Len() != 0 {
				t.Fatalf("wrote %d bytes before failing validation", out.Len())
			}
			if tt.body != nil {
				if n := MultipartLength(tt.ranges, tt.ct, tt.size, tt.boundary); n != -1 {
					t.Fatalf("MultipartLength = %d, want -1", n)
				}
			}
		})
	}
	// Valid boundaries of the edge lengths and characters.
	for _, b := range []string{"a", strings.Repeat("z", 70), "'()+_,-./:=? x"} {
		if MultipartLength(ok, "", 10, b) < 0 {
			t.Errorf("boundary %q rejected", b)
		}
	}

	// Short body: the representation is shorter than size claims.
	var out bytes.Buffer
	err := WriteMultipart(&out, bytes.NewReader([]byte("01234")), []Range{{0, 1}, {3, 8}}, "", 10, "b")
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("short body: err = %v, want ErrUnexpectedEOF", err)
	}

	// Writer errors are returned.
	for n := range 5 {
		err := WriteMultipart(&errWriter{n: n}, body, ok, "", 10, "b")
		if err == nil {
			t.Fatalf("errWriter(%d): no error", n)
		}
	}

	// Overflowing total length.
	huge := []Range{{0, math.MaxInt64 - 2}}
	if n := MultipartLength(huge, "", math.MaxInt64, "b"); n != -1 {
		t.Fatalf("overflowing MultipartLength = %d, want -1", n)
	}
	if err := WriteMultipart(io.Discard, body, huge, "", math.MaxInt64, "b"); err == nil {
		t.Fatal("overflowing WriteMultipart succeeded")
	}
}

// checkInvariants asserts the structural guarantees of a Decision.
func checkInvariants(t testing.TB, d Decision, size int64) {
	t.Helper()
	switch d.Kind {
	case Ignore, Unsatisfiable:
		if d.Ranges != nil {
			t.Fatalf("%v with ranges %v", d.Kind, d.Ranges)
		}
	case Single:
		if len(d.Ranges) != 1 {
			t.Fatalf("Single with %d ranges", len(d.Ranges))
		}
	case Multi:
		if len(d.Ranges) < 2 || len(d.Ranges) > maxRanges {
			t.Fatalf("Multi with %d ranges", len(d.Ranges))
		}
	default:
		t.Fatalf("unknown kind %v", d.Kind)
	}
	for i, r := range d.Ranges {
		if r.Start < 0 || r.Start > r.End || r.End >= size {
			t.Fatalf("range %v out of [0,%d)", r, size)
		}
		for _, q := range d.Ranges[:i] {
			if r.Start <= q.End && q.Start <= r.End {
				t.Fatalf("overlapping ranges %v and %v", q, r)
			}
		}
	}
}

// oracle is an independent, simple (allocation-heavy) implementation of the
// same rules used for differential fuzzing. It ignores If-Range.
func oracle(v string, size int64) Decision {
	v = strings.Trim(v, " \t")
	unit, set, ok := strings.Cut(v, "=")
	if !ok || !strings.EqualFold(unit, "bytes") || size < 0 {
		return Decision{Kind: Ignore}
	}
	spec := regexp.MustCompile(`^(?:([0-9]+)-([0-9]*)|-([0-9]+))$`)
	var out []Range
	count := 0
	for _, e := range strings.Split(set, ",") {
		e = strings.Trim(e, " \t")
		if e == "" {
			continue
		}
		count++
		if count > 100 {
			return Decision{Kind: Ignore}
		}
		m := spec.FindStringSubmatch(e)
		if m == nil {
			return Decision{Kind: Ignore}
		}
		if m[3] != "" {
			n, err := strconv.ParseInt(m[3], 10, 64)
			if err != nil {
				return Decision{Kind: Ignore}
			}
			if n > 0 && size > 0 {
				out = append(out, Range{max(0, size-n), size - 1})
			}
			continue
		}
		first, err := strconv.ParseInt(m[1], 10, 64)
		if err != nil {
			return Decision{Kind: Ignore}
		}
		last := int64(math.MaxInt64)
		if m[2] != "" {
			if last, err = strconv.ParseInt(m[2], 10, 64); err != nil {
				return Decision{Kind: Ignore}
			}
		}
		if last < first || first >= size {
			continue
		}
		out = append(out, Range{first, min(last, size-1)})
	}
	if len(out) == 0 {
		return Decision{Kind: Unsatisfiable}
	}
	for i := range out {
		for j := range i {
			if out[i].Start <= out[j].End && out[j].Start <= out[i].End {
				return Decision{Kind: Ignore}
			}
		}
	}
	if len(out) == 1 {
		return Decision{Kind: Single, Ranges: out}
	}
	return Decision{Kind: Multi, Ranges: out}
}

func FuzzDecide(f *testing.F) {
	seeds := []string{
		"bytes=0-4", "bytes=-3", "bytes=5-", "bytes=", "bytes=  ", "bytes=1-0", "bytes=-0",
		"bytes=0-1,3-4", "bytes=0-5,3-8", "bytes=,,0-1,", "BYTES=0-0", "items=0-1",
		"bytes=9223372036854775807-", "bytes=0-9223372036854775808", "bytes=- 1", manyRanges(101),
	}
	for i, s := range seeds {
		f.Add("GET", s, int64(i*3), "", `"a"`)
	}
	f.Add("GET", "bytes=0-1", int64(10), `"a"`, `"a"`)
	f.Add("GET", "bytes=0-1", int64(10), `W/"a"`, `W/"a"`)
	f.Add("HEAD", "bytes=0-1", int64(10), "", "")
	f.Fuzz(func(t *testing.T, method, value string, size int64, ifRange, etag string) {
		d := Decide(method, value, true, ifRange, etag, etag, size)
		checkInvariants(t, d, size)
		if method != "GET" || size < 0 {
			if d.Kind != Ignore {
				t.Fatalf("method %q size %d: %v", method, size, d.Kind)
			}
			return
		}
		// Without If-Range, compare with the oracle.
		d0 := Decide(method, value, true, "", "", "", size)
		if want := oracle(value, size); !reflect.DeepEqual(d0, want) {
			t.Fatalf("Decide(%q, %d) = %+v, oracle %+v", value, size, d0, want)
		}
		// If-Range can only turn a decision into Ignore.
		if d.Kind != Ignore && !reflect.DeepEqual(d, d0) {
			t.Fatalf("If-Range changed %+v into %+v", d0, d)
		}
		// For small bodies, check the multipart writer agrees with the length.
		if (d0.Kind == Single || d0.Kind == Multi) && size <= 1<<16 {
			body := make([]byte, size)
			var out bytes.Buffer
			b := NewBoundary()
			if err := WriteMultipart(&out, bytes.NewReader(body), d0.Ranges, "text/plain", size, b); err != nil {
				t.Fatal(err)
			}
			if n := MultipartLength(d0.Ranges, "text/plain", size, b); n != int64(out.Len()) {
				t.Fatalf("MultipartLength %d != written %d", n, out.Len())
			}
		}
	})
}

func BenchmarkDecide(b *testing.B) {
	cases := []struct {
		name, value, ifRange string
	}{
		{"single", "bytes=0-1023", ""},
		{"suffix", "bytes=-500", ""},
		{"multi3", "bytes=0-99,200-299,-100", ""},
		{"multi100", manyRanges(100), ""},
		{"unsatisfiable", "bytes=999999-", ""},
		{"malformed", "bytes=abc", ""},
		{"ifrange-etag", "bytes=0-1023", `"v1"`},
		{"ifrange-date", "bytes=0-1023", "Sun, 06 Nov 1994 08:49:37 GMT"},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Decide("GET", c.value, true, c.ifRange, `"v1"`, "Sun, 06 Nov 1994 08:49:37 GMT", 100000)
			}
		})
	}
}
