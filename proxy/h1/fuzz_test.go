package h1

import (
	"bytes"
	"io"
	"testing"
)

// FuzzParseRequest: no input may panic; an accepted head has a consistent
// framing decision and survives a reparse of exactly the consumed bytes.
func FuzzParseRequest(f *testing.F) {
	for _, s := range []string{
		string(typicalHead),
		"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
		"GET http://a:1/p HTTP/1.0\r\n\r\n",
		"CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n",
		"\r\nOPTIONS * HTTP/1.1\r\nHost: [::1]\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var r Request
		n, err := ParseRequest(in, &r, DefaultLimits)
		if err != nil {
			return
		}
		if n <= 0 || n > len(in) || !bytes.HasSuffix(in[:n], []byte("\r\n\r\n")) {
			t.Fatalf("consumed %d of %d", n, len(in))
		}
		var r2 Request
		if n2, err := ParseRequest(in[:n], &r2, DefaultLimits); err != nil || n2 != n {
			t.Fatalf("reparse: %d %v", n2, err)
		}
		fr, err := RequestFraming(&r)
		if err != nil {
			return
		}
		if fr.Kind == BodyChunked || fr.Kind == BodyLength {
			rd := NewReader(bytes.NewReader(in[n:]), 0)
			var br BodyReader
			br.Reset(rd, fr, 1<<20, 10)
			io.Copy(io.Discard, &br)
			rd.Release()
		}
	})
}

func FuzzParseResponse(f *testing.F) {
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"))
	f.Add([]byte("HTTP/1.0 304 Not Modified\r\n\r\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		var r Response
		if _, err := ParseResponse(in, &r, DefaultLimits); err != nil {
			return
		}
		ResponseFraming([]byte("GET"), &r)
		ResponseFraming([]byte("HEAD"), &r)
		ResponseFraming([]byte("CONNECT"), &r)
	})
}
