package h1

import (
	"bufio"
	"bytes"
	"net/http"
	"testing"
)

// typicalHead is a browser-like request with 8 fields.
var typicalHead = []byte("GET /api/v1/items?id=12345&sort=desc HTTP/1.1\r\n" +
	"Host: www.example.com\r\n" +
	"User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n" +
	"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n" +
	"Accept-Language: en-US,en;q=0.5\r\n" +
	"Accept-Encoding: gzip, deflate, br\r\n" +
	"Connection: keep-alive\r\n" +
	"Cookie: session=8f2a9c1e7b3d4f60a1b2c3d4e5f60718; theme=dark\r\n" +
	"Cache-Control: max-age=0\r\n" +
	"\r\n")

// BenchmarkParseRequestHead compares ParseRequest (+ framing) with
// net/http's ReadRequest on the same head.
func BenchmarkParseRequestHead(b *testing.B) {
	b.Run("h1", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(typicalHead)))
		var r Request
		for b.Loop() {
			if _, err := ParseRequest(typicalHead, &r, DefaultLimits); err != nil {
				b.Fatal(err)
			}
			if _, err := RequestFraming(&r); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("net-http", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(typicalHead)))
		rd := bytes.NewReader(typicalHead)
		br := bufio.NewReader(rd)
		for b.Loop() {
			rd.Reset(typicalHead)
			br.Reset(rd)
			if _, err := http.ReadRequest(br); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func TestParseRequestAllocs(t *testing.T) {
	var r Request
	ParseRequest(typicalHead, &r, DefaultLimits)
	n := testing.AllocsPerRun(100, func() {
		ParseRequest(typicalHead, &r, DefaultLimits)
		RequestFraming(&r)
		HasToken(r.Fields, KeyConnection, "close")
	})
	if n != 0 {
		t.Errorf("%v allocs/op, want 0", n)
	}
	if len(r.Fields) != 8 {
		t.Errorf("%d fields", len(r.Fields))
	}
}

func BenchmarkChunkedReader(b *testing.B) {
	var in bytes.Buffer
	cw := ChunkedWriter{W: &in}
	chunk := bytes.Repeat([]byte("x"), 4096)
	for i := 0; i < 64; i++ {
		cw.Write(chunk)
	}
	cw.Close(nil)
	data := in.Bytes()
	b.ReportAllocs()
	b.SetBytes(64 * 4096)
	rd := NewReader(nil, 0)
	var br BodyReader
	src := bytes.NewReader(data)
	for b.Loop() {
		src.Reset(data)
		rd.Reset(src, 0)
		br.Reset(rd, Framing{Kind: BodyChunked}, 0, 10)
		for {
			_, err := br.Next()
			if err != nil {
				break
			}
		}
	}
}
