package wire

import (
	"bytes"
	"testing"
	"time"

	"github.com/proxyspec/proxyspec/corpus"
)

// FuzzResponseParser: any bytes, split anywhere, parse without panicking, and every parsed byte is
// accounted for in order.
func FuzzResponseParser(f *testing.F) {
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 100 C\r\n\r\nHTTP/1.1 204 N\r\n\r\n"), uint8(3), true)
	f.Add([]byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"), uint8(1), false)
	f.Add([]byte("HTTP/1.1 101 S\r\n\r\nxyz"), uint8(7), false)
	f.Fuzz(func(t *testing.T, in []byte, step uint8, eof bool) {
		n := int(step) + 1
		var cc ClientConn
		var p respParser
		method := func(k int) string {
			if k%3 == 1 {
				return "HEAD"
			}
			return "GET"
		}
		for i := 0; i < len(in); i += n {
			cc.Received = append(cc.Received, in[i:min(i+n, len(in))]...)
			p.parse(&cc, method, false, false)
		}
		p.parse(&cc, method, eof, true)
		var got []byte
		for _, r := range cc.Final {
			for _, i := range r.Interim {
				got = append(got, i.Raw...)
			}
			got = append(got, r.Raw...)
		}
		if !bytes.HasPrefix(in, got) {
			t.Fatalf("parsed bytes are not a prefix of the input")
		}
		if cc.ParseError != "" && !bytes.HasSuffix(in, cc.Trailing) {
			t.Fatalf("Trailing is not the end of the input")
		}
	})
}

// FuzzOriginFeed: any bytes from the proxy, split anywhere, never panic the origin.
func FuzzOriginFeed(f *testing.F) {
	f.Add([]byte("GET /ps00000000aa/a HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcGET /x HTTP/1.1\r\n\r\n"), uint8(5), uint8(0))
	f.Add([]byte("POST /ps00000000aa/a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n"), uint8(2), uint8(1))
	f.Add([]byte("GET /ps00000000aa/a HTTP/1.1\r\n\r\nrawrawraw"), uint8(9), uint8(2))
	f.Fuzz(func(t *testing.T, in []byte, step, action uint8) {
		acts := []corpus.Action{
			{Kind: corpus.Echo},
			{Kind: corpus.Respond, Bytes: tpl("HTTP/1.1 200 OK\r\n\r\n{label}"), CloseAfter: true},
			{Kind: corpus.Respond, Bytes: tpl("HTTP/1.1 101 S\r\n\r\n"), Tunnel: true},
			{Kind: corpus.Hold},
			{Kind: corpus.Close},
		}
		o := &Origin{cases: map[string]*ocase{}, conns: map[*oconn]struct{}{}}
		start := time.Now()
		o.cases[nA] = &ocase{nonce: nA, start: start, actions: []corpus.Action{acts[int(action)%len(acts)], acts[0]}, views: map[*oconn]*OriginConn{}}
		c := &oconn{o: o, id: 1}
		watchdog := time.AfterFunc(10*time.Second, func() { panic("slow input") })
		defer watchdog.Stop()
		n := int(step) + 1
		o.mu.Lock()
		defer o.mu.Unlock()
		for i := 0; i < len(in) && c.mode != mStop; i += n {
			c.feed(start, in[i:min(i+n, len(in))])
		}
		if len(in)%2 == 0 {
			c.ended(start, errEOFForTest{})
		}
		cs := o.cases[nA]
		for cn, v := range cs.views {
			_ = copyConn(v)
			_ = cn
		}
	})
}

type errEOFForTest struct{}

func (errEOFForTest) Error() string { return "EOF" }
