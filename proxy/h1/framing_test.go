package h1

import (
	"strings"
	"testing"
)

func TestRequestFraming(t *testing.T) {
	tests := []struct {
		name   string
		fields string // field lines, "|"-separated, after the request-line
		v10    bool
		kind   BodyKind
		length int64
		status int // error status; 0 = accept
	}{
		{name: "none", fields: "", kind: BodyNone},
		{name: "none http10", fields: "", v10: true, kind: BodyNone},
		{name: "cl", fields: "Content-Length: 5", kind: BodyLength, length: 5},
		{name: "cl zero", fields: "Content-Length: 0", kind: BodyLength},
		{name: "cl leading zeros", fields: "Content-Length: 007", kind: BodyLength, length: 7},
		{name: "cl 18 digits", fields: "Content-Length: 999999999999999999", kind: BodyLength, length: 999999999999999999},
		{name: "cl 19 digits", fields: "Content-Length: 1000000000000000000", status: 400},
		{name: "cl plus", fields: "Content-Length: +5", status: 400},
		{name: "cl minus", fields: "Content-Length: -5", status: 400},
		{name: "cl minus zero", fields: "Content-Length: -0", status: 400},
		{name: "cl hex", fields: "Content-Length: 0x5", status: 400},
		{name: "cl decimal", fields: "Content-Length: 5.0", status: 400},
		{name: "cl inner space", fields: "Content-Length: 5 5", status: 400},
		{name: "cl empty", fields: "Content-Length: ", status: 400},
		{name: "cl list identical", fields: "Content-Length: 5, 5", status: 400},
		{name: "cl list different", fields: "Content-Length: 5, 6", status: 400},
		{name: "cl two lines identical", fields: "Content-Length: 5|Content-Length: 5", status: 400},
		{name: "cl two lines different", fields: "Content-Length: 5|Content-Length: 6", status: 400},
		{name: "chunked", fields: "Transfer-Encoding: chunked", kind: BodyChunked},
		{name: "chunked case", fields: "Transfer-Encoding: ChUnKeD", kind: BodyChunked},
		{name: "chunked OWS", fields: "Transfer-Encoding:   chunked  ", kind: BodyChunked},
		{name: "cl and te", fields: "Content-Length: 5|Transfer-Encoding: chunked", status: 400},
		{name: "te and cl", fields: "Transfer-Encoding: chunked|Content-Length: 5", status: 400},
		{name: "te http10", fields: "Transfer-Encoding: chunked", v10: true, status: 400},
		{name: "chunked not final", fields: "Transfer-Encoding: chunked, gzip", status: 400},
		{name: "chunked not final lines", fields: "Transfer-Encoding: chunked|Transfer-Encoding: gzip", status: 400},
		{name: "chunked twice", fields: "Transfer-Encoding: chunked, chunked", status: 400},
		{name: "chunked twice lines", fields: "Transfer-Encoding: chunked|Transfer-Encoding: chunked", status: 400},
		{name: "gzip chunked", fields: "Transfer-Encoding: gzip, chunked", status: 501},
		{name: "gzip chunked lines", fields: "Transfer-Encoding: gzip|Transfer-Encoding: chunked", status: 501},
		{name: "gzip", fields: "Transfer-Encoding: gzip", status: 501},
		{name: "identity", fields: "Transfer-Encoding: identity", status: 501},
		{name: "unknown", fields: "Transfer-Encoding: foo", status: 501},
		{name: "coding with param", fields: "Transfer-Encoding: foo;q=1, chunked", status: 501},
		{name: "coding with quoted param", fields: "Transfer-Encoding: foo ; a=\"b\\\"c\", chunked", status: 501},
		{name: "chunked with param", fields: "Transfer-Encoding: chunked;a=b", status: 400},
		{name: "quoted", fields: "Transfer-Encoding: \"chunked\"", status: 400},
		{name: "empty value", fields: "Transfer-Encoding: ", status: 400},
		{name: "only commas", fields: "Transfer-Encoding: ,, ,", status: 400},
		{name: "empty element ignored", fields: "Transfer-Encoding: , chunked", kind: BodyChunked},
		{name: "trailing comma ignored", fields: "Transfer-Encoding: chunked,", kind: BodyChunked},
		{name: "empty line then chunked", fields: "Transfer-Encoding: |Transfer-Encoding: chunked", kind: BodyChunked},
		{name: "too many empty elements", fields: "Transfer-Encoding: ,,,,,,,,,chunked", status: 400},
		{name: "empty element before gzip", fields: "Transfer-Encoding: gzip,,chunked", status: 501},
		{name: "bad param", fields: "Transfer-Encoding: foo;=b", status: 400},
		{name: "bad param value", fields: "Transfer-Encoding: foo;a=", status: 400},
		{name: "unterminated quote", fields: "Transfer-Encoding: foo;a=\"b", status: 400},
		{name: "junk after name", fields: "Transfer-Encoding: chun ked", status: 400},
		{name: "vertical tab", fields: "Transfer-Encoding: \vchunked", status: 400}, // rejected by the field parser
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := "HTTP/1.1"
			if tt.v10 {
				v = "HTTP/1.0"
			}
			in := "POST / " + v + "\r\nHost: a\r\n"
			if tt.fields != "" {
				in += strings.ReplaceAll(tt.fields, "|", "\r\n") + "\r\n"
			}
			in += "\r\n"
			var r Request
			_, err := ParseRequest([]byte(in), &r, DefaultLimits)
			var f Framing
			if err == nil {
				f, err = RequestFraming(&r)
			}
			if got := statusOf(err); got != tt.status {
				t.Fatalf("status %d (%v), want %d", got, err, tt.status)
			}
			if err == nil && (f.Kind != tt.kind || f.Length != tt.length) {
				t.Errorf("framing %v/%d, want %v/%d", f.Kind, f.Length, tt.kind, tt.length)
			}
		})
	}
}

func TestResponseFraming(t *testing.T) {
	tests := []struct {
		name, method, in string
		kind             BodyKind
		length           int64
		other, announced bool
		bad              bool
	}{
		{name: "cl", in: "HTTP/1.1 200 OK|Content-Length: 3||", kind: BodyLength, length: 3},
		{name: "chunked", in: "HTTP/1.1 200 OK|Transfer-Encoding: chunked||", kind: BodyChunked},
		{name: "te and cl: te wins", in: "HTTP/1.1 200 OK|Content-Length: 3|Transfer-Encoding: chunked||", kind: BodyChunked},
		{name: "te and bad cl: te wins", in: "HTTP/1.1 200 OK|Content-Length: x|Transfer-Encoding: chunked||", kind: BodyChunked},
		{name: "gzip chunked", in: "HTTP/1.1 200 OK|Transfer-Encoding: gzip, chunked||", kind: BodyChunked, other: true},
		{name: "gzip only: close", in: "HTTP/1.1 200 OK|Transfer-Encoding: gzip||", kind: BodyClose, other: true},
		{name: "chunked gzip: close", in: "HTTP/1.1 200 OK|Transfer-Encoding: chunked, gzip||", kind: BodyClose, other: true},
		{name: "chunked twice", in: "HTTP/1.1 200 OK|Transfer-Encoding: chunked, chunked||", bad: true},
		{name: "te only comma", in: "HTTP/1.1 200 OK|Transfer-Encoding: ,||", bad: true},
		{name: "te trailing comma", in: "HTTP/1.1 200 OK|Transfer-Encoding: chunked, ||", kind: BodyChunked},
		{name: "te malformed", in: "HTTP/1.1 200 OK|Transfer-Encoding: \"chunked\"||", bad: true},
		{name: "te empty", in: "HTTP/1.1 200 OK|Transfer-Encoding: ||", bad: true},
		{name: "neither: close", in: "HTTP/1.1 200 OK||", kind: BodyClose},
		{name: "http10 neither", in: "HTTP/1.0 200 OK||", kind: BodyClose},
		{name: "bad cl", in: "HTTP/1.1 200 OK|Content-Length: -1||", bad: true},
		{name: "cl list", in: "HTTP/1.1 200 OK|Content-Length: 3, 3||", bad: true},
		{name: "cl dup", in: "HTTP/1.1 200 OK|Content-Length: 3|Content-Length: 3||", bad: true},
		{name: "head", method: "HEAD", in: "HTTP/1.1 200 OK|Content-Length: 3||", kind: BodyNone, length: 3, announced: true},
		{name: "head no cl", method: "HEAD", in: "HTTP/1.1 200 OK||", kind: BodyNone, length: -1},
		{name: "head te", method: "HEAD", in: "HTTP/1.1 200 OK|Transfer-Encoding: chunked||", kind: BodyNone, length: -1, announced: true},
		{name: "head bad cl", method: "HEAD", in: "HTTP/1.1 200 OK|Content-Length: 1x||", bad: true},
		{name: "204", in: "HTTP/1.1 204 No Content||", kind: BodyNone, length: -1},
		{name: "204 with cl", in: "HTTP/1.1 204 No Content|Content-Length: 5||", kind: BodyNone, length: 5, announced: true},
		{name: "304 cl", in: "HTTP/1.1 304 Not Modified|Content-Length: 10||", kind: BodyNone, length: 10, announced: true},
		{name: "304 cl zero", in: "HTTP/1.1 304 Not Modified|Content-Length: 0||", kind: BodyNone, length: 0},
		{name: "100", in: "HTTP/1.1 100 Continue||", kind: BodyNone, length: -1},
		{name: "connect 200", method: "CONNECT", in: "HTTP/1.1 200 OK|Content-Length: 5||", kind: BodyTunnel},
		{name: "connect 407", method: "CONNECT", in: "HTTP/1.1 407 Auth|Content-Length: 5||", kind: BodyLength, length: 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r Response
			if _, err := ParseResponse(head(tt.in), &r, DefaultLimits); err != nil {
				t.Fatal(err)
			}
			m := tt.method
			if m == "" {
				m = "GET"
			}
			f, err := ResponseFraming([]byte(m), &r)
			if tt.bad {
				if err == nil {
					t.Fatalf("accepted: %+v", f)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := Framing{Kind: tt.kind, Length: tt.length, OtherCodings: tt.other, Announced: tt.announced}
			if f != want {
				t.Errorf("got %+v, want %+v", f, want)
			}
		})
	}
	for k := BodyNone; k <= BodyTunnel+1; k++ {
		if k.String() == "" {
			t.Error("empty kind name")
		}
	}
}

func TestParseResponse(t *testing.T) {
	ok := []struct{ in, reason string }{
		{"HTTP/1.1 200 OK||", "OK"},
		{"HTTP/1.1 200 ||", ""},
		{"HTTP/1.1 200||", ""},
		{"HTTP/1.0 404 Not  Found\t x||", "Not  Found\t x"},
		{"HTTP/1.1 599 W\xe9ird||", "W\xe9ird"},
	}
	for _, tt := range ok {
		var r Response
		b := head(tt.in)
		n, err := ParseResponse(b, &r, DefaultLimits)
		if err != nil || n != len(b) || string(r.Reason) != tt.reason {
			t.Errorf("%q: n=%d err=%v reason=%q", tt.in, n, err, r.Reason)
		}
		for i := 0; i < len(b); i++ {
			if _, err := ParseResponse(b[:i], &r, DefaultLimits); err != ErrIncomplete {
				t.Fatalf("%q prefix %d: %v", tt.in, i, err)
			}
		}
	}
	bad := []string{
		"HTTP/1.1 200 OK\nX: y||",
		"HTTP/1.1 200 OK|X: y\n|",
		"HTTP/1.1 200 OK\rX: y||",
		"HTTP/1.1 200 OK|X: a| b||", // obs-fold
		"HTTP/1.1 200 OK|X : a||",   // space before colon
		"HTTP/1.1 200 OK|X: a\x00||",
		"HTTP/1.1 200 O\x00K||",
		"HTTP/1.1 200 O\x01K||",
		"HTTP/2.0 200 OK||",
		"HTTP/0.9 200 OK||",
		"http/1.1 200 OK||",
		"HTTP/1.1 20 OK||",
		"HTTP/1.1 2000 OK||",
		"HTTP/1.1 099 OK||",
		"HTTP/1.1 600 OK||",
		"HTTP/1.1  200 OK||",
		"HTTP/1.1 abc OK||",
		"HTTP/1.1 200 OK\r\r||",
		"HTTP/1.1 200 OK|" + strings.Repeat("X: y|", 101) + "|",
	}
	for _, in := range bad {
		var r Response
		if _, err := ParseResponse(head(in), &r, DefaultLimits); err == nil || err == ErrIncomplete {
			t.Errorf("%q: %v, want error", in, err)
		}
	}
	var r Response
	if _, err := ParseResponse([]byte("HTTP/1.1 200 OK\r\nX: "+strings.Repeat("a", 70000)), &r, DefaultLimits); statusOf(err) != 431 {
		t.Errorf("big response head: %v", err)
	}
}
