package wire

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// respSummary is what the tests compare of a parsed response.
type respSummary struct {
	Status   int
	Framing  string
	Body     string
	Complete bool
	Label    string
	Interim  []int
}

func summarize(rs []*Response) []respSummary {
	var out []respSummary
	for _, r := range rs {
		s := respSummary{Status: r.Status, Framing: r.Framing, Body: string(r.Body), Complete: r.Complete, Label: r.Label}
		for _, i := range r.Interim {
			s.Interim = append(s.Interim, i.Status)
		}
		out = append(out, s)
	}
	return out
}

func TestResponseParser(t *testing.T) {
	tests := []struct {
		name      string
		methods   []string // method of the k-th request
		in        string
		eof       bool
		want      []respSummary
		wantErr   bool
		trailing  string
		tunnel    string
		rawLength []int // len(Raw) of each final response, if checked
	}{
		{
			name: "content-length",
			in:   "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Proxyspec-Label: a\r\n\r\nhello",
			want: []respSummary{{Status: 200, Framing: "length", Body: "hello", Complete: true, Label: "a"}},
		},
		{
			name: "pipelined content-length",
			in:   "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nxHTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
			want: []respSummary{
				{Status: 200, Framing: "length", Body: "x", Complete: true},
				{Status: 404, Framing: "length", Body: "", Complete: true},
			},
			rawLength: []int{39, 45},
		},
		{
			name: "chunked with extensions and trailers",
			in:   "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n5;x=1\r\nhello\r\n1\r\n!\r\n0\r\nT: v\r\n\r\n",
			want: []respSummary{{Status: 200, Framing: "chunked", Body: "hello!", Complete: true}},
		},
		{
			name: "chunked with bare LF",
			in:   "HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n5\nhello\n0\n\n",
			want: []respSummary{{Status: 200, Framing: "chunked", Body: "hello", Complete: true}},
		},
		{
			name: "chunked wins over content-length",
			in:   "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n",
			want: []respSummary{{Status: 200, Framing: "chunked", Body: "ab", Complete: true}},
		},
		{
			name: "close-delimited at EOF",
			in:   "HTTP/1.0 200 OK\r\n\r\nuntil close",
			eof:  true,
			want: []respSummary{{Status: 200, Framing: "close", Body: "until close", Complete: true}},
		},
		{
			name: "close-delimited cut short",
			in:   "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\npart",
			want: []respSummary{{Status: 200, Framing: "close", Body: "part", Complete: false}},
		},
		{
			name: "content-length cut short",
			in:   "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\npart",
			eof:  true,
			want: []respSummary{{Status: 200, Framing: "length", Body: "part", Complete: false}},
		},
		{
			name:    "HEAD has no body",
			methods: []string{"HEAD", "GET"},
			in:      "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
			want: []respSummary{
				{Status: 200, Framing: "none", Complete: true},
				{Status: 200, Framing: "length", Body: "ok", Complete: true},
			},
		},
		{
			name: "204 and 304 have no body",
			in:   "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nHTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n",
			want: []respSummary{
				{Status: 204, Framing: "none", Complete: true},
				{Status: 304, Framing: "none", Complete: true},
			},
		},
		{
			name: "1xx interim attached to the next final",
			in:   "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
			want: []respSummary{{Status: 200, Framing: "length", Complete: true, Interim: []int{100, 103}}},
		},
		{
			name:   "101 then tunnel",
			in:     "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\nHTTP/1.1 200 not a response\r\n",
			want:   []respSummary{{Status: 101, Framing: "none", Complete: true}},
			tunnel: "HTTP/1.1 200 not a response\r\n",
		},
		{
			name:    "2xx to CONNECT then tunnel",
			methods: []string{"CONNECT"},
			in:      "HTTP/1.1 200 Connection Established\r\nContent-Length: 9\r\n\r\ntunnelled",
			want:    []respSummary{{Status: 200, Framing: "none", Complete: true}},
			tunnel:  "tunnelled",
		},
		{
			name:    "non-2xx to CONNECT keeps HTTP",
			methods: []string{"CONNECT"},
			in:      "HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 2\r\n\r\nno",
			want:    []respSummary{{Status: 405, Framing: "length", Body: "no", Complete: true}},
		},
		{
			name:     "garbage",
			in:       "GARBAGE\r\n\r\n",
			wantErr:  true,
			trailing: "GARBAGE\r\n\r\n",
		},
		{
			name:     "garbage after a response",
			in:       "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n\r\nHTTP/1.1 200 OK\r\n",
			want:     []respSummary{{Status: 200, Framing: "length", Complete: true}},
			wantErr:  true,
			trailing: "\r\nHTTP/1.1 200 OK\r\n",
		},
		{
			name:     "bad status code",
			in:       "HTTP/1.1 20 OK\r\n\r\n",
			wantErr:  true,
			trailing: "HTTP/1.1 20 OK\r\n\r\n",
		},
		{
			name:     "malformed chunked",
			in:       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
			wantErr:  true,
			trailing: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
		},
		{
			name:     "incomplete head",
			in:       "HTTP/1.1 200 OK\r\nContent-Le",
			wantErr:  true,
			trailing: "HTTP/1.1 200 OK\r\nContent-Le",
		},
		{
			name: "obs-fold and no reason",
			in:   "HTTP/1.1 200\r\nX-Proxyspec-Label: a\r\n b\r\nContent-Length: 0\r\n\r\n",
			want: []respSummary{{Status: 200, Framing: "length", Complete: true, Label: "a b"}},
		},
	}
	for _, tt := range tests {
		for _, mode := range []string{"whole", "bytewise"} {
			t.Run(tt.name+"/"+mode, func(t *testing.T) {
				method := func(k int) string {
					if k < len(tt.methods) {
						return tt.methods[k]
					}
					return "GET"
				}
				var cc ClientConn
				var p respParser
				if mode == "whole" {
					cc.Received = []byte(tt.in)
					p.parse(&cc, method, false, false)
				} else {
					for i := range len(tt.in) {
						cc.Received = append(cc.Received, tt.in[i])
						p.parse(&cc, method, false, false)
					}
				}
				p.parse(&cc, method, tt.eof, true)
				if diff := cmp.Diff(tt.want, summarize(cc.Final)); diff != "" {
					t.Errorf("responses (-want +got):\n%s", diff)
				}
				if got := cc.ParseError != ""; got != tt.wantErr {
					t.Errorf("ParseError = %q, want error: %v", cc.ParseError, tt.wantErr)
				}
				if string(cc.Trailing) != tt.trailing {
					t.Errorf("Trailing = %q, want %q", cc.Trailing, tt.trailing)
				}
				if string(cc.Tunnel) != tt.tunnel {
					t.Errorf("Tunnel = %q, want %q", cc.Tunnel, tt.tunnel)
				}
				for i, n := range tt.rawLength {
					if len(cc.Final[i].Raw) != n {
						t.Errorf("len(Final[%d].Raw) = %d, want %d", i, len(cc.Final[i].Raw), n)
					}
				}
			})
		}
	}
}

func TestDechunk(t *testing.T) {
	tests := []struct {
		in         string
		body       string
		done       bool
		err, lax   bool
		consumedAt int // -1: don't check
	}{
		{in: "5\r\nhello\r\n0\r\n\r\nNEXT", body: "hello", done: true, consumedAt: 15},
		{in: "5\nhello\n0\n\n", body: "hello", done: true, lax: true, consumedAt: -1},
		{in: "5\r\nhel", body: "hel", consumedAt: -1},
		{in: "5 ; ext=1\r\nhello\r\n0\r\n\r\n", body: "hello", done: true, consumedAt: -1},
		{in: "5 junk\r\nhello\r\n0\r\n\r\n", body: "hello", done: true, lax: true, consumedAt: -1},
		{in: "5\r\nhelloXX0\r\n\r\n", body: "hello", err: true, consumedAt: 8},
		{in: "g\r\n", err: true, consumedAt: 0},
		// A valid size beyond any body that will arrive: incomplete, not malformed.
		{in: "fffffffffffffffff\r\nhello", consumedAt: 0},
		// Leading zeros do not count towards the size.
		{in: "00000000000000000005\r\nhello\r\n0\r\n\r\n", body: "hello", done: true, consumedAt: -1},
		{in: "0\r\nTrailer: x\r\n\r\n", done: true, consumedAt: 17},
	}
	for _, tt := range tests {
		r := dechunk([]byte(tt.in))
		if string(r.Body) != tt.body || r.Done != tt.done || (r.Err != "") != tt.err || (r.Lax != "") != tt.lax {
			t.Errorf("dechunk(%q) = %+v", tt.in, r)
		}
		if tt.consumedAt >= 0 && r.N != tt.consumedAt {
			t.Errorf("dechunk(%q).N = %d, want %d", tt.in, r.N, tt.consumedAt)
		}
	}
}

func TestFindRequests(t *testing.T) {
	const n = "ps0123456789"
	sent := "HEAD /" + n + "/ab HTTP/1.1\r\nHost: x\r\n\r\n" +
		"POST http://h/" + n + "/a?q HTTP/1.0\r\nContent-Length: 20\r\n\r\nGET /" + n + "/smuggled" +
		"GET /" + n + "/b"
	got := findRequests([]byte(sent), n, []string{"a", "ab", "b", "zz"})
	piped := findRequests([]byte("POST /"+n+"/a HTTP/1.1\r\nContent-Length: 5\r\n\r\nhelloHEAD /"+n+"/b HTTP/1.1\r\n"), n, []string{"a", "b"})
	if len(piped) != 2 || piped[1].Method != "HEAD" || piped[1].Offset != 57 {
		t.Errorf("pipelined after a body: %+v", piped)
	}
	// CONNECT carries its marker in a header: method and version come from its request line.
	conn := findRequests([]byte("GET /"+n+"/a HTTP/1.1\r\n\r\nCONNECT h:443 HTTP/1.1\r\nHost: h:443\r\nX-Proxyspec-Request: /"+n+"/b\r\n\r\n"), n, []string{"a", "b"})
	if diff := cmp.Diff([]SentRequest{{Label: "a", Method: "GET", Version: "HTTP/1.1"}, {Label: "b", Method: "CONNECT", Version: "HTTP/1.1", Offset: 32}}, conn); diff != "" {
		t.Errorf("marker in a header (-want +got):\n%s", diff)
	}
	want := []SentRequest{
		{Label: "ab", Method: "HEAD", Version: "HTTP/1.1", Offset: 0},
		{Label: "a", Method: "POST", Version: "HTTP/1.0", Offset: 43},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findRequests (-want +got):\n%s", diff)
	}
}

func TestFindMarker(t *testing.T) {
	tests := []struct{ in, nonce, label string }{
		{"/ps0123456789/a", "ps0123456789", "a"},
		{"http://x/ps0123456789/probe-1?x", "ps0123456789", "probe-1"},
		{"/psXYZ/ps0123456789/b.c_d-e/f", "ps0123456789", "b.c_d-e"},
		{"/ps0123456789/", "", ""},
		{"/ps012345678/a", "", ""},
		{"/PS0123456789/a", "", ""},
	}
	for _, tt := range tests {
		n, l := findMarker([]byte(tt.in))
		if n != tt.nonce || l != tt.label {
			t.Errorf("findMarker(%q) = %q, %q; want %q, %q", tt.in, n, l, tt.nonce, tt.label)
		}
	}
}
