package h1

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// readBody reads a whole body framed by f from in, returning the content, the
// trailers as "name: value" lines and the bytes left over.
func readBody(t *testing.T, in string, f Framing, oneByte bool) (string, []string, string, error) {
	t.Helper()
	var src io.Reader = strings.NewReader(in)
	if oneByte {
		src = iotest.OneByteReader(src)
	}
	rd := NewReader(src, 0)
	defer rd.Release()
	var br BodyReader
	br.Reset(rd, f, 0, 10)
	var out bytes.Buffer
	for {
		p, err := br.Next()
		out.Write(p)
		if err == io.EOF {
			break
		}
		if err != nil {
			return out.String(), nil, "", err
		}
	}
	if !br.Done() || br.Total() != int64(out.Len()) {
		t.Errorf("Done=%v Total=%d len=%d", br.Done(), br.Total(), out.Len())
	}
	var tr []string
	for _, f := range br.Trailers() {
		tr = append(tr, string(f.Name)+": "+string(f.Value))
	}
	rest, _ := io.ReadAll(io.MultiReader(bytes.NewReader(rd.Buffered()), src))
	return out.String(), tr, string(rest), nil
}

func TestChunkedReaderAccept(t *testing.T) {
	tests := []struct {
		name, in, body string
		trailers       []string
	}{
		{name: "simple", in: "5|hello|0||NEXT", body: "hello"},
		{name: "two chunks", in: "5|hello|6| world|0||NEXT", body: "hello world"},
		{name: "hex upper lower", in: "A|0123456789|a|abcdefghij|0||NEXT", body: "0123456789abcdefghij"},
		{name: "leading zeros", in: "0005|hello|000||NEXT", body: "hello"},
		{name: "empty body", in: "0||NEXT", body: ""},
		{name: "extension", in: "5;name=value|hello|0;x||NEXT", body: "hello"},
		{name: "extension quoted", in: "5;a=\"b;c\\\"d\"|hello|0||NEXT", body: "hello"},
		{name: "extension BWS", in: "5 ; a = b ;c|hello|0\t;x||NEXT", body: "hello"},
		{name: "extensions several", in: "5;a;b=c;d=\"e\"|hello|0||NEXT", body: "hello"},
		{name: "trailers", in: "5|hello|0|X-T: 1|Y:2 ||NEXT", body: "hello", trailers: []string{"X-T: 1", "Y: 2"}},
		{name: "data with CRLF inside", in: "4|\r\n\r\n|0||NEXT", body: "\r\n\r\n"},
	}
	for _, tt := range tests {
		for _, one := range []bool{false, true} {
			t.Run(tt.name, func(t *testing.T) {
				in := strings.ReplaceAll(tt.in, "|", "\r\n")
				if tt.name == "data with CRLF inside" {
					in = "4\r\n\r\n\r\n\r\n0\r\n\r\nNEXT"
				}
				body, tr, rest, err := readBody(t, in, Framing{Kind: BodyChunked}, one)
				if err != nil {
					t.Fatal(err)
				}
				if body != tt.body || rest != "NEXT" || strings.Join(tr, ",") != strings.Join(tt.trailers, ",") {
					t.Errorf("body %q trailers %q rest %q", body, tr, rest)
				}
			})
		}
	}
}

func TestChunkedReaderReject(t *testing.T) {
	tests := []struct{ name, in string }{
		{"bare LF size line", "5\nhello|0||"},
		{"bare LF after data", "5|hello\n0||"},
		{"bare CR after data", "5|hello\r0||"},
		{"bare CR in size line", "5\r\r\nhello|0||"},
		{"bare LF last chunk", "5|hello|0\n|"},
		{"bare LF trailer end", "5|hello|0|\n"},
		{"bare LF trailer", "5|hello|0|X: y\n|"},
		{"data too long", "5|helloX|0||"},
		{"data too short", "5|hell|0||"},
		{"no size", ";a|hello|0||"},
		{"empty size line", "|hello|0||"},
		{"space before size", " 5|hello|0||"},
		{"trailing space", "5 |hello|0||"},
		{"trailing tab", "5\t|hello|0||"},
		{"sign", "+5|hello|0||"},
		{"0x prefix", "0x5|hello|0||"},
		{"junk after size", "5g|hello|0||"},
		{"overflow", "fffffffffffffffff|hello|0||"},
		{"overflow 16 digits", "8000000000000000|x|0||"},
		{"ext no name", "5;|hello|0||"},
		{"ext bad name", "5;a@b|hello|0||"},
		{"ext empty value", "5;a=|hello|0||"},
		{"ext bad quote", "5;a=\"b|hello|0||"},
		{"ext trailing space", "5;a=b |hello|0||"},
		{"ext junk", "5;a=b c|hello|0||"},
		{"ext NUL", "5;a=\x00|hello|0||"},
		{"ext too long", "5;a=" + strings.Repeat("b", 5000) + "|hello|0||"},
		{"ext total too long", strings.Repeat("1;a="+strings.Repeat("b", 500)+"|x|", 10) + "0||"},
		{"trailer obs-fold", "5|hello|0|X: y| z||"},
		{"trailer space before colon", "5|hello|0|X : y||"},
		{"trailer NUL", "5|hello|0|X: \x00||"},
		{"truncated data", "5|hel"},
		{"truncated size", "5"},
		{"truncated trailers", "5|hello|0|X: y|"},
		{"too many trailers", "0|" + strings.Repeat("X: y|", 11) + "|"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := strings.ReplaceAll(tt.in, "|", "\r\n")
			_, _, _, err := readBody(t, in, Framing{Kind: BodyChunked}, false)
			if err == nil {
				t.Fatal("accepted")
			}
			if strings.HasPrefix(tt.name, "truncated") && !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("err %v, want unexpected EOF", err)
			}
		})
	}
}

func TestBodyReaderLengthAndClose(t *testing.T) {
	body, _, rest, err := readBody(t, "helloNEXT", Framing{Kind: BodyLength, Length: 5}, true)
	if err != nil || body != "hello" || rest != "NEXT" {
		t.Errorf("length: %q %q %v", body, rest, err)
	}
	if _, _, _, err := readBody(t, "hel", Framing{Kind: BodyLength, Length: 5}, false); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("short length body: %v", err)
	}
	body, _, _, err = readBody(t, "all of it", Framing{Kind: BodyClose}, false)
	if err != nil || body != "all of it" {
		t.Errorf("close: %q %v", body, err)
	}
	body, _, rest, err = readBody(t, "NEXT", Framing{Kind: BodyNone}, false)
	if err != nil || body != "" || rest != "NEXT" {
		t.Errorf("none: %q %q %v", body, rest, err)
	}
	body, _, rest, err = readBody(t, "NEXT", Framing{Kind: BodyLength}, false)
	if err != nil || body != "" || rest != "NEXT" {
		t.Errorf("zero length: %q %q %v", body, rest, err)
	}
}

func TestBodyReaderLimitAndRead(t *testing.T) {
	rd := NewReader(strings.NewReader("5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n"), 0)
	var br BodyReader
	br.Reset(rd, Framing{Kind: BodyChunked}, 7, 10)
	b, err := io.ReadAll(&br)
	if err != ErrBodyTooLarge || string(b) != "hello" {
		t.Errorf("limit: %q %v", b, err)
	}
	rd = NewReader(strings.NewReader("hello world"), 0)
	br.Reset(rd, Framing{Kind: BodyLength, Length: 11}, 0, 10)
	p := make([]byte, 4)
	n, err := br.Read(p)
	if n != 4 || err != nil || string(p) != "hell" {
		t.Errorf("Read: %d %v %q", n, err, p)
	}
	if n, _ := br.Read(nil); n != 0 {
		t.Error("Read(nil)")
	}
	d, _ := br.NextN(3)
	if string(d) != "o w" || !br.Ready() {
		t.Errorf("NextN: %q", d)
	}
	rest, err := io.ReadAll(&br)
	if string(rest) != "orld" || err != nil {
		t.Errorf("rest: %q %v", rest, err)
	}
}

func TestChunkedWriter(t *testing.T) {
	var buf bytes.Buffer
	cw := ChunkedWriter{W: &buf}
	cw.Write([]byte("hello"))
	cw.Write(nil)
	cw.Write(bytes.Repeat([]byte("x"), 26))
	cw.Close([]Field{{Name: []byte("X-T"), Value: []byte("1")}})
	want := "5\r\nhello\r\n1a\r\n" + strings.Repeat("x", 26) + "\r\n0\r\nX-T: 1\r\n\r\n"
	if buf.String() != want {
		t.Fatalf("got %q", buf.String())
	}
	// Round trip through the reader.
	body, tr, _, err := readBody(t, want, Framing{Kind: BodyChunked}, true)
	if err != nil || body != "hello"+strings.Repeat("x", 26) || len(tr) != 1 {
		t.Errorf("round trip: %q %v %v", body, tr, err)
	}
	for _, w := range []io.Writer{&failWriter{0}, &failWriter{1}, &failWriter{2}} {
		cw := ChunkedWriter{W: w}
		if _, err := cw.Write([]byte("x")); err == nil {
			t.Error("write error not reported")
		}
	}
	for i := 0; i < 6; i++ {
		cw := ChunkedWriter{W: &failWriter{i}}
		if err := cw.Close([]Field{{Name: []byte("a"), Value: []byte("b")}}); err == nil {
			t.Errorf("close error %d not reported", i)
		}
	}
}

type failWriter struct{ ok int }

func (w *failWriter) Write(p []byte) (int, error) {
	if w.ok == 0 {
		return 0, errors.New("fail")
	}
	w.ok--
	return len(p), nil
}

func TestWriteHelpers(t *testing.T) {
	b := AppendRequestLine(nil, []byte("GET"), []byte("/x"))
	b = AppendField(b, []byte("A"), []byte("b"))
	b = AppendFieldString(b, "C", "d")
	b = AppendContentLength(b, 42)
	if string(b) != "GET /x HTTP/1.1\r\nA: b\r\nC: d\r\nContent-Length: 42\r\n" {
		t.Errorf("got %q", b)
	}
	if s := string(AppendStatusLine(nil, 404, nil)); s != "HTTP/1.1 404 Not Found\r\n" {
		t.Errorf("got %q", s)
	}
	if s := string(AppendStatusLine(nil, 200, []byte("Fine"))); s != "HTTP/1.1 200 Fine\r\n" {
		t.Errorf("got %q", s)
	}
	for _, c := range []int{100, 101, 200, 204, 206, 304, 400, 404, 405, 408, 411, 413, 414, 416, 417, 426, 431, 500, 501, 502, 503, 504, 505, 299} {
		if StatusText(c) == "" {
			t.Errorf("no text for %d", c)
		}
	}
}

func TestReader(t *testing.T) {
	// A head split across many reads, followed by a pipelined one.
	in := "GET /1 HTTP/1.1\r\nHost: a\r\nX: " + strings.Repeat("v", 40000) + "\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n"
	rd := NewReader(iotest.HalfReader(strings.NewReader(in)), 128<<10)
	defer rd.Release()
	var r Request
	if err := rd.ReadRequest(&r, DefaultLimits); err != nil || string(r.Target) != "/1" {
		t.Fatalf("first: %v %q", err, r.Target)
	}
	if err := rd.ReadRequest(&r, DefaultLimits); err != nil || string(r.Target) != "/2" {
		t.Fatalf("second: %v %q", err, r.Target)
	}
	if err := rd.ReadRequest(&r, DefaultLimits); err != io.EOF {
		t.Fatalf("third: %v", err)
	}
	if rd.Err() != io.EOF {
		t.Error("sticky error")
	}
	// Head too large, arriving slowly.
	rd = NewReader(iotest.OneByteReader(strings.NewReader("GET / HTTP/1.1\r\nX: "+strings.Repeat("v", 70000))), 0)
	if err := rd.ReadRequest(&r, DefaultLimits); statusOf(err) != 431 {
		t.Errorf("large: %v", err)
	}
	rd.Release()
	// Target too long without a line end.
	rd = NewReader(strings.NewReader("GET /"+strings.Repeat("a", 9000)), 0)
	if err := rd.ReadRequest(&r, DefaultLimits); statusOf(err) != 414 {
		t.Errorf("long target: %v", err)
	}
	rd.Release()
	// Responses.
	rd = NewReader(strings.NewReader("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"), 0)
	var resp Response
	if err := rd.ReadResponse(&resp, DefaultLimits); err != nil || resp.Status != 100 {
		t.Fatal(err)
	}
	if err := rd.ReadResponse(&resp, DefaultLimits); err != nil || resp.Status != 200 {
		t.Fatal(err)
	}
	rd.Release()
}

func TestBufferPool(t *testing.T) {
	for _, n := range []int{0, 1, 16 << 10, 16<<10 + 1, 1 << 20, 4 << 20} {
		p := GetBuffer(n)
		if len(*p) < min(n, 1<<20) {
			t.Errorf("GetBuffer(%d) = %d bytes", n, len(*p))
		}
		PutBuffer(p)
	}
	odd := make([]byte, 20000)
	PutBuffer(&odd)
	PutBuffer(nil)
	small := make([]byte, 10)
	PutBuffer(&small)
}

// TestReaderGrowKeepsPinnedHead: a body read that needs a bigger buffer
// must not recycle the buffer the pinned head points into.
func TestReaderGrowKeepsPinnedHead(t *testing.T) {
	head := "POST /x HTTP/1.1\r\nHost: a\r\nX-Big: " + strings.Repeat("v", 15000) + "\r\nTransfer-Encoding: chunked\r\n\r\n"
	body := "1;e=" + strings.Repeat("x", 3000) + "\r\nz\r\n0\r\n\r\n"
	rd := NewReader(strings.NewReader(head+body), 128<<10)
	defer rd.Release()
	var r Request
	if err := rd.ReadRequest(&r, DefaultLimits); err != nil {
		t.Fatal(err)
	}
	f, _ := RequestFraming(&r)
	var br BodyReader
	br.Reset(rd, f, 0, 10)
	b, err := io.ReadAll(&br)
	if err != nil || string(b) != "z" {
		t.Fatalf("body %q %v", b, err)
	}
	for i := 0; i < 4; i++ { // churn the pool
		PutBuffer(GetBuffer(16 << 10))
		p := GetBuffer(16 << 10)
		for j := range *p {
			(*p)[j] = '#'
		}
		PutBuffer(p)
	}
	if v, _ := Get(r.Fields, KeyHost); string(v) != "a" || string(r.Target) != "/x" {
		t.Errorf("pinned head corrupted: host %q target %q", v, r.Target)
	}
}
