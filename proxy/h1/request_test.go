package h1

import (
	"errors"
	"strings"
	"testing"
)

// head turns a readable head into bytes: "|" is CRLF.
func head(s string) []byte { return []byte(strings.ReplaceAll(s, "|", "\r\n")) }

func statusOf(err error) int {
	var he *Error
	if errors.As(err, &he) {
		return he.Status
	}
	return 0
}

func TestParseRequestAccept(t *testing.T) {
	tests := []struct {
		name, in       string
		method, target string
		version        Version
		form           Form
		host, path     string
		fields         [][2]string
		leading        int // bytes of ignored empty lines
		originForm     string
	}{
		{name: "simple", in: "GET / HTTP/1.1|Host: a||", method: "GET", target: "/", version: HTTP11, host: "a", path: "/",
			fields: [][2]string{{"Host", "a"}}, originForm: "/"},
		{name: "http10 no host", in: "GET /x HTTP/1.0||", method: "GET", target: "/x", version: HTTP10, path: "/x", originForm: "/x"},
		{name: "http12 is 1.1", in: "GET / HTTP/1.2|Host: a||", method: "GET", target: "/", version: HTTP11, host: "a", path: "/",
			fields: [][2]string{{"Host", "a"}}, originForm: "/"},
		{name: "leading CRLFs", in: "||GET / HTTP/1.1|Host: a||", leading: 4, method: "GET", target: "/", version: HTTP11, host: "a",
			path: "/", fields: [][2]string{{"Host", "a"}}, originForm: "/"},
		{name: "OWS trimmed", in: "GET / HTTP/1.1|Host:a|X-A: \t v v \t|X-B:||", method: "GET", target: "/", version: HTTP11, host: "a",
			path: "/", fields: [][2]string{{"Host", "a"}, {"X-A", "v v"}, {"X-B", ""}}, originForm: "/"},
		{name: "obs-text in value", in: "GET / HTTP/1.1|Host: a|X: caf\xe9||", method: "GET", target: "/", version: HTTP11, host: "a",
			path: "/", fields: [][2]string{{"Host", "a"}, {"X", "caf\xe9"}}, originForm: "/"},
		{name: "absolute-form", in: "GET http://Example.com:8080/p?q HTTP/1.1|Host: other||", method: "GET",
			target: "http://Example.com:8080/p?q", version: HTTP11, form: AbsoluteForm, host: "Example.com:8080", path: "/p?q",
			fields: [][2]string{{"Host", "other"}}, originForm: "/p?q"},
		{name: "absolute-form empty path", in: "GET HTTP://a.b?x HTTP/1.1|Host: a.b||", method: "GET", target: "HTTP://a.b?x",
			version: HTTP11, form: AbsoluteForm, host: "a.b", path: "?x", fields: [][2]string{{"Host", "a.b"}}, originForm: "/?x"},
		{name: "https absolute", in: "GET https://a/ HTTP/1.1|Host: a||", method: "GET", target: "https://a/", version: HTTP11,
			form: AbsoluteForm, host: "a", path: "/", fields: [][2]string{{"Host", "a"}}, originForm: "/"},
		{name: "options absolute empty path", in: "OPTIONS http://a HTTP/1.1|Host: a||", method: "OPTIONS", target: "http://a",
			version: HTTP11, form: AbsoluteForm, host: "a", path: "", fields: [][2]string{{"Host", "a"}}, originForm: "*"},
		{name: "asterisk", in: "OPTIONS * HTTP/1.1|Host: a||", method: "OPTIONS", target: "*", version: HTTP11, form: AsteriskForm,
			host: "a", path: "*", fields: [][2]string{{"Host", "a"}}, originForm: "*"},
		{name: "connect", in: "CONNECT a.b:443 HTTP/1.1|Host: a.b:443||", method: "CONNECT", target: "a.b:443", version: HTTP11,
			form: AuthorityForm, host: "a.b:443", fields: [][2]string{{"Host", "a.b:443"}}},
		{name: "ipv6 host", in: "GET / HTTP/1.1|Host: [::1]:80||", method: "GET", target: "/", version: HTTP11, host: "[::1]:80",
			path: "/", fields: [][2]string{{"Host", "[::1]:80"}}, originForm: "/"},
		{name: "empty host", in: "GET / HTTP/1.1|Host: ||", method: "GET", target: "/", version: HTTP11, host: "", path: "/",
			fields: [][2]string{{"Host", ""}}, originForm: "/"},
		{name: "host empty port", in: "GET / HTTP/1.1|Host: a:||", method: "GET", target: "/", version: HTTP11, host: "a:", path: "/",
			fields: [][2]string{{"Host", "a:"}}, originForm: "/"},
		{name: "pct host", in: "GET / HTTP/1.1|Host: a%41b||", method: "GET", target: "/", version: HTTP11, host: "a%41b", path: "/",
			fields: [][2]string{{"Host", "a%41b"}}, originForm: "/"},
		{name: "tchar name", in: "GET / HTTP/1.1|Host: a|!#$%&'*+-.^_`|~09Az: v||", method: "GET", target: "/", version: HTTP11,
			host: "a", path: "/", fields: [][2]string{{"Host", "a"}, {"!#$%&'*+-.^_`|~09Az", "v"}}, originForm: "/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := []byte(strings.ReplaceAll(tt.in, "|", "\r\n"))
			if tt.name == "tchar name" {
				in = []byte("GET / HTTP/1.1\r\nHost: a\r\n!#$%&'*+-.^_`|~09Az: v\r\n\r\n")
			}
			var r Request
			n, err := ParseRequest(append(in, "NEXT"...), &r, DefaultLimits)
			if err != nil {
				t.Fatalf("ParseRequest: %v", err)
			}
			if n != len(in) {
				t.Errorf("consumed %d, want %d", n, len(in))
			}
			if string(r.Method) != tt.method || string(r.Target) != tt.target || r.Version != tt.version || r.Form != tt.form {
				t.Errorf("got %s %s %v form %d", r.Method, r.Target, r.Version, r.Form)
			}
			if string(r.Host) != tt.host || string(r.Path) != tt.path {
				t.Errorf("host %q path %q, want %q %q", r.Host, r.Path, tt.host, tt.path)
			}
			if len(r.Fields) != len(tt.fields) {
				t.Fatalf("fields %d, want %d", len(r.Fields), len(tt.fields))
			}
			for i, f := range tt.fields {
				if string(r.Fields[i].Name) != f[0] || string(r.Fields[i].Value) != f[1] {
					t.Errorf("field %d = %q: %q, want %q: %q", i, r.Fields[i].Name, r.Fields[i].Value, f[0], f[1])
				}
			}
			if got := string(r.AppendOriginForm(nil)); r.Form != AuthorityForm && got != tt.originForm {
				t.Errorf("origin-form %q, want %q", got, tt.originForm)
			}
		})
	}
}

func TestParseRequestReject(t *testing.T) {
	long := "GET /" + strings.Repeat("a", 9000) + " HTTP/1.1|Host: a||"
	many := "GET / HTTP/1.1|Host: a|" + strings.Repeat("X: y|", 100) + "|"
	big := "GET / HTTP/1.1|Host: a|X: " + strings.Repeat("v", 70000) + "||"
	tests := []struct {
		name, in string
		status   int
	}{
		// Request-line.
		{"bare LF request-line", "GET / HTTP/1.1\nHost: a||", 400},
		{"bare LF field", "GET / HTTP/1.1|Host: a\n|", 400},
		{"bare LF end", "GET / HTTP/1.1|Host: a|\n", 400},
		{"bare LF leading", "\nGET / HTTP/1.1|Host: a||", 400},
		{"bare CR request-line", "GET / HTTP/1.1\rHost: a||", 400},
		{"bare CR leading", "\r GET / HTTP/1.1|Host: a||", 400},
		{"bare CR in value", "GET / HTTP/1.1|Host: a|X: a\rb||", 400},
		{"bare CR end of head", "GET / HTTP/1.1|Host: a|\rX||", 400},
		{"too many empty lines", "||||||GET / HTTP/1.1|Host: a||", 400},
		{"double SP", "GET  / HTTP/1.1|Host: a||", 400},
		{"SP before version", "GET /  HTTP/1.1|Host: a||", 400},
		{"trailing SP", "GET / HTTP/1.1 |Host: a||", 400},
		{"tab separator", "GET\t/ HTTP/1.1|Host: a||", 400},
		{"lowercase version", "GET / http/1.1|Host: a||", 400},
		{"no version", "GET /|Host: a||", 400},
		{"HTTP/0.9", "GET / HTTP/0.9|Host: a||", 400},
		{"HTTP/2.0", "GET / HTTP/2.0|Host: a||", 505},
		{"HTTP/3.1", "GET / HTTP/3.1|Host: a||", 505},
		{"version junk", "GET / HTTP/1.x|Host: a||", 400},
		{"version 1.10", "GET / HTTP/1.10|Host: a||", 400},
		{"bad method", "G@T / HTTP/1.1|Host: a||", 400},
		{"empty method", " / HTTP/1.1|Host: a||", 400},
		{"control in target", "GET /\x01 HTTP/1.1|Host: a||", 400},
		{"high bit target", "GET /\xff HTTP/1.1|Host: a||", 400},
		{"fragment target", "GET /#f HTTP/1.1|Host: a||", 400},
		{"target too long", long, 414},
		{"asterisk with GET", "GET * HTTP/1.1|Host: a||", 400},
		{"authority-form with GET", "GET a.b:80 HTTP/1.1|Host: a||", 400},
		{"unknown scheme", "GET ftp://a/ HTTP/1.1|Host: a||", 400},
		{"relative target", "GET a/b HTTP/1.1|Host: a||", 400},
		{"absolute empty host", "GET http:///p HTTP/1.1|Host: a||", 400},
		{"absolute userinfo", "GET http://u@a/ HTTP/1.1|Host: a||", 400},
		{"connect origin-form", "CONNECT / HTTP/1.1|Host: a||", 400},
		{"connect no port", "CONNECT a.b HTTP/1.1|Host: a.b||", 400},
		{"connect empty port", "CONNECT a.b: HTTP/1.1|Host: a.b||", 400},
		{"connect bad port", "CONNECT a.b:x1 HTTP/1.1|Host: a.b||", 400},
		{"connect port 0", "CONNECT a.b:0 HTTP/1.1|Host: a.b||", 400},
		{"connect port too big", "CONNECT a.b:65536 HTTP/1.1|Host: a.b||", 400},
		// Fields.
		{"obs-fold", "GET / HTTP/1.1|Host: a|X: b| c||", 400},
		{"obs-fold tab", "GET / HTTP/1.1|Host: a|X: b|\tc||", 400},
		{"space after start-line", "GET / HTTP/1.1| Host: a||", 400},
		{"space before colon", "GET / HTTP/1.1|Host : a||", 400},
		{"tab before colon", "GET / HTTP/1.1|Host\t: a||", 400},
		{"empty name", "GET / HTTP/1.1|Host: a|: v||", 400},
		{"no colon", "GET / HTTP/1.1|Host: a|Xv||", 400},
		{"bad name char", "GET / HTTP/1.1|Host: a|X(: v||", 400},
		{"NUL in value", "GET / HTTP/1.1|Host: a|X: a\x00b||", 400},
		{"NUL in name", "GET / HTTP/1.1|Host: a|X\x00: b||", 400},
		{"CTL in value", "GET / HTTP/1.1|Host: a|X: a\x01b||", 400},
		{"DEL in value", "GET / HTTP/1.1|Host: a|X: a\x7fb||", 400},
		{"VT in value", "GET / HTTP/1.1|Host: a|X: \vb||", 400},
		{"high bit name", "GET / HTTP/1.1|Host: a|X\xe9: b||", 400},
		{"too many fields", many, 431},
		{"head too large", big, 431},
		// Host (RFC 9112 §3.2).
		{"no host 1.1", "GET / HTTP/1.1|X: a||", 400},
		{"two hosts", "GET / HTTP/1.1|Host: a|Host: a||", 400},
		{"two hosts 1.0", "GET / HTTP/1.0|Host: a|Host: b||", 400},
		{"host SP", "GET / HTTP/1.1|Host: a b||", 400},
		{"host slash", "GET / HTTP/1.1|Host: a/b||", 400},
		{"host at", "GET / HTTP/1.1|Host: u@a||", 400},
		{"host comma", "GET / HTTP/1.1|Host: a,b||", 400},
		{"host bad port", "GET / HTTP/1.1|Host: a:8x||", 400},
		{"host port too big", "GET / HTTP/1.1|Host: a:70000||", 400},
		{"host port long", "GET / HTTP/1.1|Host: a:000080||", 400},
		{"host only port", "GET / HTTP/1.1|Host: :80||", 400},
		{"host bad pct", "GET / HTTP/1.1|Host: a%4||", 400},
		{"host bad ipv6", "GET / HTTP/1.1|Host: [zz]||", 400},
		{"host ipv6 junk", "GET / HTTP/1.1|Host: [::1]x||", 400},
		{"host unclosed ipv6", "GET / HTTP/1.1|Host: [::1||", 400},
		{"absolute-form still needs host", "GET http://a/ HTTP/1.1||", 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r Request
			_, err := ParseRequest(head(tt.in), &r, DefaultLimits)
			if got := statusOf(err); got != tt.status {
				t.Fatalf("status %d (%v), want %d", got, err, tt.status)
			}
			if err.Error() == "" {
				t.Error("empty error text")
			}
		})
	}
}

// TestParseRequestIncremental feeds every prefix of valid heads: each must
// be ErrIncomplete, and the whole must parse.
func TestParseRequestIncremental(t *testing.T) {
	for _, in := range []string{
		"GET / HTTP/1.1|Host: a|X-Long: abc def||",
		"||POST http://h/p HTTP/1.0|Content-Length: 3||",
	} {
		b := head(in)
		var r Request
		for i := 0; i < len(b); i++ {
			if _, err := ParseRequest(b[:i], &r, DefaultLimits); err != ErrIncomplete {
				t.Fatalf("%q prefix %d: %v, want ErrIncomplete", in, i, err)
			}
		}
		if n, err := ParseRequest(b, &r, DefaultLimits); err != nil || n != len(b) {
			t.Fatalf("%q: n=%d err=%v", in, n, err)
		}
	}
}

// TestParseRequestEarlyReject: errors are found before the head is complete.
func TestParseRequestEarlyReject(t *testing.T) {
	for _, in := range []string{"G@T", "GET /\x00", "GET / HTTP/2.0", "GET / HTTP/1.1\rX", "GET / HTTX", "GET / HTTP/1.1\r\nHost: a\x00", "GET / HTTP/1.1\r\nX : "} {
		var r Request
		if _, err := ParseRequest([]byte(in), &r, DefaultLimits); statusOf(err) == 0 {
			t.Errorf("%q: %v, want an early error", in, err)
		}
	}
}

func TestFieldHelpers(t *testing.T) {
	var r Request
	if _, err := ParseRequest(head("GET / HTTP/1.1|Host: a|Connection: Keep-Alive, CLOSE|connection: upgrade|Upgrade: ws||"), &r, DefaultLimits); err != nil {
		t.Fatal(err)
	}
	if !HasToken(r.Fields, KeyConnection, "close") || !HasToken(r.Fields, KeyConnection, "upgrade") || HasToken(r.Fields, KeyConnection, "x") {
		t.Error("HasToken")
	}
	if Count(r.Fields, KeyConnection) != 2 {
		t.Error("Count")
	}
	if v, ok := Get(r.Fields, KeyUpgrade); !ok || string(v) != "ws" {
		t.Error("Get")
	}
	if _, ok := Get(r.Fields, KeyRange); ok {
		t.Error("Get absent")
	}
	if IsToken(nil) || !IsToken([]byte("a")) || IsToken([]byte("a b")) {
		t.Error("IsToken")
	}
	names := map[string]Key{"HOST": KeyHost, "content-length": KeyContentLength, "Transfer-Encoding": KeyTransferEncoding,
		"keep-alive": KeyKeepAlive, "proxy-connection": KeyProxyConnection, "te": KeyTE, "trailer": KeyTrailer, "expect": KeyExpect,
		"via": KeyVia, "x-forwarded-for": KeyXForwardedFor, "x-forwarded-proto": KeyXForwardedProto, "range": KeyRange,
		"if-range": KeyIfRange, "etag": KeyETag, "last-modified": KeyLastModified, "content-range": KeyContentRange,
		"content-type": KeyContentType, "content-encoding": KeyContentEncoding, "accept-ranges": KeyAcceptRanges,
		"x-other": KeyOther, "a": KeyOther, "a-very-long-field-name": KeyOther}
	for n, k := range names {
		if got := LookupKey([]byte(n)); got != k {
			t.Errorf("LookupKey(%q) = %d, want %d", n, got, k)
		}
	}
	if HTTP10.String() != "HTTP/1.0" || HTTP11.String() != "HTTP/1.1" {
		t.Error("Version.String")
	}
}
