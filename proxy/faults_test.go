//go:build proxyspec_faults

package proxy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/proxyspec/proxyspec/proxy/internal/fault"
)

// faultCase shows that one fault changes what the proxy does: the same
// exchange is run against a proxy without faults and against one with the
// fault, and the transcripts must differ as stated.
type faultCase struct {
	fault string
	send  string       // the client's bytes; the client then half-closes
	reply []faultReply // the origin's answers, in request order (default: 200 "ok")
	mod   func(*Options)
	// The observable: in the client's or the origin's transcript, want
	// appears only with the fault, lose only without it.
	where      string // "client" or "origin"
	want, lose string
}

const (
	fxGet     = "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
	fxOK      = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
	fxPost    = "POST / HTTP/1.1\r\nHost: x\r\n"
	fxTE      = "Transfer-Encoding: chunked\r\n\r\n"
	fxUpgrade = "GET / HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n"
	fxFull    = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nETag: \"v1\"\r\nContent-Length: 11\r\n\r\nhello world"
)

func fxRange(o *Options) { o.RangeFilter = true }

var faultCases = []faultCase{
	// Request line and field syntax.
	{fault: "leading-empty-line-rejected", send: "\r\n" + fxGet, where: "client", want: "HTTP/1.1 400"},
	{fault: "bare-cr-ends-request-line", send: "GET / HTTP/1.1\rX-Injected: 1\r\nHost: x\r\n\r\n", where: "origin", want: "X-Injected: 1"},
	{fault: "version-case-insensitive", send: "GET / http/1.1\r\nHost: x\r\n\r\n", where: "origin", want: "GET / HTTP/1.1"},
	{fault: "version-prefix-parsed", send: "GET / HTTP/1.1x\r\nHost: x\r\n\r\n", where: "origin", want: "GET / HTTP/1.1"},
	{fault: "target-with-spaces", send: "GET /a b HTTP/1.1\r\nHost: x\r\n\r\n", where: "origin", want: "GET /a b HTTP/1.1"},
	{fault: "start-line-whitespace-forwarded", send: "GET / HTTP/1.1\r\n X-Junk: 1\r\nHost: x\r\n\r\n", where: "origin", want: " X-Junk: 1"},
	{fault: "obs-fold-forwarded", send: "GET / HTTP/1.1\r\nHost: x\r\nX-Fold: a\r\n b\r\n\r\n", where: "origin", want: "X-Fold: a\r\n b"},
	{fault: "space-before-colon-forwarded", send: "GET / HTTP/1.1\r\nHost: x\r\nX-Sp : 1\r\n\r\n", where: "origin", want: "X-Sp : 1"},
	{fault: "field-name-not-token", send: "GET / HTTP/1.1\r\nHost: x\r\nX(A): 1\r\n\r\n", where: "origin", want: "X(A): 1"},
	{fault: "line-without-colon-ignored", send: "GET / HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n", where: "origin", want: "GET / HTTP/1.1"},
	{fault: "nul-in-value-forwarded", send: "GET / HTTP/1.1\r\nHost: x\r\nX-V: a\x00b\r\n\r\n", where: "origin", want: "X-V: a\x00b"},
	{fault: "bare-cr-in-value-forwarded", send: "GET / HTTP/1.1\r\nHost: x\r\nX-V: a\rb\r\n\r\n", where: "origin", want: "X-V: a\rb"},
	{fault: "missing-host-accepted", send: "GET / HTTP/1.1\r\n\r\n", where: "origin", want: "GET / HTTP/1.1"},
	{fault: "duplicate-host-first-wins", send: "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", where: "origin", want: "Host: a"},
	{fault: "invalid-host-accepted", send: "GET / HTTP/1.1\r\nHost: a@b\r\n\r\n", where: "origin", want: "Host: a@b"},
	{fault: "value-trim-isspace", send: "GET / HTTP/1.1\r\nHost: x\r\nX-V: \x0bv\x0b\r\n\r\n", where: "origin", want: "X-V: v\r\n"},
	{fault: "ows-tab-kept", send: fxPost + "Content-Length:\t5\t\r\n\r\nhello", where: "origin", lose: "hello"},
	{fault: "field-name-case-sensitive", send: fxPost + "CONTENT-LENGTH: 5\r\n\r\nhello", where: "origin", want: "CONTENT-LENGTH: 5"},
	{fault: "head-ends-at-bare-cr", send: "GET / HTTP/1.1\r\nHost: x\r\n\rGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n", where: "origin", want: "GET /smuggled"},
	{fault: "bare-lf-in-value-forwarded", send: "GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\nX-B: 2\r\n\r\n", where: "origin", want: "X-A: 1\nX-B: 2"},
	{fault: "value-truncated-at-nul", send: "GET / HTTP/1.1\r\nHost: x\r\nX-V: ab\x00cd\r\n\r\n", where: "origin", want: "X-V: ab\r\n"},
	{fault: "obs-fold-dropped", send: "GET / HTTP/1.1\r\nHost: x\r\nX-Fold: a\r\n b\r\n\r\n", where: "origin", want: "X-Fold: a\r\n"},
	{fault: "absolute-form-authority-ignored", send: "GET http://t.example/ HTTP/1.1\r\nHost: o.example\r\n\r\n", where: "origin", want: "Host: o.example"},
	{fault: "absolute-form-rejected", send: "GET http://x/ HTTP/1.1\r\nHost: x\r\n\r\n", where: "client", want: "HTTP/1.1 400"},
	{fault: "target-bytes-unchecked", send: "GET /a\x01b HTTP/1.1\r\nHost: x\r\n\r\n", where: "origin", want: "GET /a\x01b"},
	{fault: "http-1x-rejected", send: "GET / HTTP/1.2\r\nHost: x\r\n\r\n", where: "client", want: "HTTP/1.1 505"},
	{fault: "request-line-any-whitespace", send: "GET /a\nHTTP/1.1\r\nHost: x\r\n\r\n", where: "origin", want: "GET /a HTTP/1.1"},
	{fault: "method-case-insensitive", send: "head / HTTP/1.1\r\nHost: x\r\n\r\n", reply: []faultReply{{data: fxOK}}, where: "client", lose: "\r\n\r\nok"},

	{fault: "absolute-form-userinfo-accepted", send: "GET http://u:p@t.example/ HTTP/1.1\r\nHost: t.example\r\n\r\n", where: "origin", want: "Host: u:p@t.example"},
	{fault: "asterisk-form-as-slash", send: "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", where: "origin", lose: "OPTIONS * HTTP/1.1"},
	{fault: "long-method-rejected", send: "PROXYSPECLONGMETHOD / HTTP/1.1\r\nHost: x\r\n\r\n", where: "origin", lose: "PROXYSPECLONGMETHOD"},
	{fault: "short-target-limit", send: "GET /" + strings.Repeat("a", 5000) + " HTTP/1.1\r\nHost: x\r\n\r\n", where: "client", want: "HTTP/1.1 414"},

	// Request framing.
	{fault: "cl-sign-accepted", send: fxPost + "Content-Length: +5\r\n\r\nhello", where: "origin", want: "hello"},
	{fault: "cl-first-wins", send: fxPost + "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", where: "origin", want: "Content-Length: 5"},
	{fault: "cl-last-wins", send: fxPost + "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", where: "origin", want: "Content-Length: 6"},
	{fault: "cl-list-first-element", send: fxPost + "Content-Length: 5, 6\r\n\r\nhello!", where: "origin", want: "Content-Length: 5"},
	{fault: "cl-te-content-length-wins", send: fxPost + "Content-Length: 3\r\n" + fxTE + "5\r\nhello\r\n0\r\n\r\n", where: "origin", want: "Content-Length: 3"},
	{fault: "cl-te-keep-alive", send: fxPost + "Content-Length: 3\r\n" + fxTE + "5\r\nhello\r\n0\r\n\r\n", where: "origin", want: "hello"},
	{fault: "chunked-not-final-accepted", send: fxPost + "Transfer-Encoding: chunked, gzip\r\n\r\n5\r\nhello\r\n0\r\n\r\n", where: "origin", want: "hello"},
	{fault: "unknown-coding-ignored", send: "GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n", where: "origin", want: "GET / HTTP/1.1"},
	{fault: "coding-case-sensitive", send: fxPost + "Transfer-Encoding: Chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", where: "client", want: "HTTP/1.1 501"},
	{fault: "te-empty-element-rejected", send: fxPost + "Transfer-Encoding: chunked,\r\n\r\n5\r\nhello\r\n0\r\n\r\n", where: "client", want: "HTTP/1.1 400"},
	{fault: "http10-body-until-close", send: "POST / HTTP/1.0\r\nHost: x\r\n\r\nhello", where: "origin", want: "hello"},
	{fault: "cl-ignored", send: fxPost + "Content-Length: 5\r\n\r\nhello", where: "origin", lose: "hello"},
	{fault: "te-ignored", send: fxPost + fxTE + "5\r\nhello\r\n0\r\n\r\n", where: "origin", lose: "hello"},
	{fault: "expect-body-skipped", send: fxPost + "Expect: 100-continue\r\nContent-Length: 5\r\n\r\nhello", where: "origin", lose: "hello"},
	{fault: "cl-overflow-wraps", send: fxPost + "Content-Length: 18446744073709551621\r\n\r\nhello", where: "origin", want: "Content-Length: 5\r\n"},
	{fault: "cl-digits-truncated", send: fxPost + "Content-Length: 0000000000000000000005\r\n\r\nhello", where: "origin", want: "Content-Length: 0\r\n"},
	{fault: "connection-hides-content-length", send: fxPost + "Connection: Content-Length\r\nContent-Length: 5\r\n\r\nhello", where: "origin", lose: "hello"},
	{fault: "chunked-parameters-ignored", send: fxPost + "Transfer-Encoding: chunked;x=y\r\n\r\n5\r\nhello\r\n0\r\n\r\n", where: "origin", want: "hello"},
	{fault: "content-encoding-chunked-frames", send: fxPost + "Content-Encoding: chunked\r\nContent-Length: 15\r\n\r\n5\r\nhello\r\n0\r\n\r\n", where: "origin", want: "Transfer-Encoding: chunked"},
	{fault: "body-eof-as-end", send: fxPost + fxTE + "5\r\nhello\r\n", where: "client", want: "HTTP/1.1 200"},

	// Chunked coding.
	{fault: "chunk-line-bare-lf", send: fxPost + fxTE + "5\nhello\r\n0\r\n\r\n", where: "origin", want: "hello"},
	{fault: "chunk-size-overflow-wraps", send: fxPost + fxTE + "10000000000000005\r\nhello\r\n0\r\n\r\n", where: "origin", want: "hello"},
	{fault: "chunk-size-strtol", send: fxPost + fxTE + "0x5\r\nhello\r\n0\r\n\r\n", where: "origin", want: "hello"},
	{fault: "chunk-line-tail-ignored", send: fxPost + fxTE + "5 \r\nhello\r\n0\r\n\r\n", where: "origin", want: "hello"},
	{fault: "chunk-data-crlf-optional", send: fxPost + fxTE + "5\r\nhello0\r\n\r\n", where: "origin", want: "hello"},
	{fault: "chunk-data-spill-ignored", send: fxPost + fxTE + "5\r\nhelloXX\r\n0\r\n\r\n", where: "origin", want: "hello"},
	{fault: "chunk-extra-crlf-skipped", send: fxPost + fxTE + "5\r\nhello\r\n\r\n0\r\n\r\n", where: "origin", want: "hello"},
	{fault: "chunk-data-crlf-unchecked", send: fxPost + fxTE + "5\r\nhelloXY0\r\n\r\n", where: "origin", want: "hello"},
	{fault: "chunk-size-canonical-only", send: fxPost + fxTE + "0005\r\nhello\r\n0\r\n\r\n", where: "origin", lose: "hello"},
	{fault: "chunk-trailer-not-read", send: fxPost + fxTE + "5\r\nhello\r\n0\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n", where: "origin", want: "GET /b"},
	{fault: "chunk-ext-rejected", send: fxPost + fxTE + "5;a=b\r\nhello\r\n0\r\n\r\n", where: "origin", lose: "hello"},

	// Forwarding and connection management.
	{fault: "connection-options-forwarded", send: "GET / HTTP/1.1\r\nHost: x\r\nConnection: X-Hop\r\nX-Hop: 1\r\n\r\n", where: "origin", want: "X-Hop: 1"},
	{fault: "hop-by-hop-forwarded", send: "GET / HTTP/1.1\r\nHost: x\r\nKeep-Alive: timeout=5\r\n\r\n", where: "origin", want: "Keep-Alive: timeout=5"},
	{fault: "max-forwards-ignored", send: "OPTIONS / HTTP/1.1\r\nHost: x\r\nMax-Forwards: 0\r\n\r\n", where: "origin", want: "Max-Forwards: 0"},
	{fault: "via-overwritten", send: "GET / HTTP/1.1\r\nHost: x\r\nVia: 1.0 alpha\r\n\r\n", where: "origin", lose: "1.0 alpha"},
	{fault: "via-missing", send: fxGet, where: "origin", lose: "Via: 1.1 refproxy"},
	{fault: "body-overread-forwarded", send: fxPost + "Content-Length: 5\r\n\r\nhelloXYZ", where: "origin", want: "helloXYZ"},
	{fault: "http10-keep-alive", send: "GET / HTTP/1.0\r\nHost: x\r\n\r\n", where: "client", lose: "Connection: close"},
	{fault: "served-after-close", send: "GET /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n", where: "origin", want: "GET /b"},
	{fault: "close-not-announced", send: "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", where: "client", lose: "Connection: close"},
	{fault: "keepalive-limit-off-by-one", send: "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n",
		mod: func(o *Options) { o.Listeners[0].KeepAliveMaxRequests = 1 }, where: "origin", want: "GET /b"},
	{fault: "keepalive-limit-one-short", send: "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n",
		mod: func(o *Options) { o.Listeners[0].KeepAliveMaxRequests = 2 }, where: "origin", lose: "GET /b"},
	{fault: "framing-error-keeps-connection", send: fxPost + "Content-Length: 5\r\n" + fxTE + "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n", where: "origin", want: "GET /smuggled"},
	{fault: "pipelined-discarded", send: "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n", where: "origin", lose: "GET /b"},
	{fault: "connect-405-without-allow", send: "CONNECT t.example:443 HTTP/1.1\r\nHost: t.example:443\r\n\r\n", where: "client", lose: "Allow: "},
	{fault: "no-persistent-connections", send: fxGet, where: "client", want: "Connection: close"},
	{fault: "host-from-first-request", send: "GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: b\r\n\r\n", where: "origin", lose: "Host: b"},
	{fault: "connection-drops-host", send: "GET / HTTP/1.1\r\nHost: x\r\nConnection: Host\r\n\r\n", where: "origin", lose: "Host: x"},
	{fault: "empty-field-dropped", send: "GET / HTTP/1.1\r\nHost: x\r\nX-Empty:\r\n\r\n", where: "origin", lose: "X-Empty:"},
	{fault: "repeated-field-last-wins", send: "GET / HTTP/1.1\r\nHost: x\r\nX-M: 1\r\nX-M: 2\r\n\r\n", where: "origin", lose: "X-M: 1"},
	{fault: "obs-text-reencoded", send: "GET / HTTP/1.1\r\nHost: x\r\nX-L: caf\xe9\r\n\r\n", where: "origin", want: "caf\xc3\xa9"},
	{fault: "limit-exceeded-silent-close", send: "GET /" + strings.Repeat("a", 100) + " HTTP/1.1\r\nHost: x\r\n\r\n",
		mod: func(o *Options) { o.Listeners[0].MaxTargetBytes = 64 }, where: "client", lose: "HTTP/1.1 414"},

	// Responses.
	{fault: "interim-to-http10", send: "GET / HTTP/1.0\r\nHost: x\r\n\r\n", reply: []faultReply{{data: "HTTP/1.1 100 Continue\r\n\r\n" + fxOK}}, where: "client", want: "100 Continue"},
	{fault: "interim-dropped", send: fxGet, reply: []faultReply{{data: "HTTP/1.1 100 Continue\r\n\r\n" + fxOK}}, where: "client", lose: "100 Continue"},
	{fault: "chunked-to-http10", send: "GET / HTTP/1.0\r\nHost: x\r\n\r\n",
		reply: []faultReply{{data: "HTTP/1.1 200 OK\r\n" + fxTE + "2\r\nok\r\n0\r\n\r\n"}}, where: "client", want: "Transfer-Encoding: chunked"},
	{fault: "response-te-cl-forwarded", send: fxGet,
		reply: []faultReply{{data: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n" + fxTE + "2\r\nok\r\n0\r\n\r\n"}}, where: "client", want: "Content-Length: 2"},
	{fault: "response-invalid-cl-read-to-close", send: fxGet, reply: []faultReply{{data: "HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\nhello", close: true}}, where: "client", want: "hello"},
	{fault: "head-response-body-read", send: "HEAD / HTTP/1.1\r\nHost: x\r\n\r\n", reply: []faultReply{{data: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"}}, where: "client", want: "hello"},
	{fault: "response-204-body-read", send: fxGet, reply: []faultReply{{data: "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nhello"}}, where: "client", want: "hello"},
	{fault: "response-304-body-read", send: fxGet, reply: []faultReply{{data: "HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\nhello"}}, where: "client", want: "hello"},
	{fault: "response-204-cl-forwarded", send: fxGet, reply: []faultReply{{data: "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n"}}, where: "client", want: "Content-Length: 0"},
	{fault: "response-unframed-empty", send: fxGet, reply: []faultReply{{data: "HTTP/1.1 200 OK\r\n\r\nhello", close: true}}, where: "client", lose: "hello"},
	{fault: "upstream-close-ignored", send: "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n",
		reply: []faultReply{{data: "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"}}, where: "origin", lose: "#2>"},
	{fault: "upstream-stray-bytes-pooled", send: "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n",
		reply: []faultReply{{data: fxOK + "HTTP/1.1 203 Injected\r\nContent-Length: 0\r\n\r\n"}}, where: "client", want: "203 Injected"},

	{fault: "upstream-http10-reused", send: "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n",
		reply: []faultReply{{data: "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok"}}, where: "origin", lose: "#2>"},
	{fault: "interim-body-read", send: fxGet, reply: []faultReply{{data: "HTTP/1.1 103 Early Hints\r\nContent-Length: 5\r\n\r\n" + fxOK}}, where: "client", lose: "HTTP/1.1 200 OK"},
	{fault: "empty-reason-rejected", send: fxGet, reply: []faultReply{{data: "HTTP/1.1 200 \r\nContent-Length: 2\r\n\r\nok"}}, where: "client", want: "HTTP/1.1 502"},

	// Upgrades.
	{fault: "upgrade-tunnel-any-status", send: fxUpgrade + "GET /b HTTP/1.1\r\nHost: x\r\n\r\n",
		reply: []faultReply{{data: "HTTP/1.1 426 Upgrade Required\r\nContent-Length: 0\r\n\r\n"}}, where: "origin", want: "GET /b HTTP/1.1\r\nHost: x\r\n\r\n"},
	{fault: "upgrade-unsolicited-101", send: fxGet,
		reply: []faultReply{{data: "HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n"}}, where: "client", want: "HTTP/1.1 101"},
	{fault: "upgrade-protocol-unchecked", send: fxUpgrade,
		reply: []faultReply{{data: "HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: h2c\r\n\r\n"}}, where: "client", want: "HTTP/1.1 101"},
	{fault: "upgrade-http10-honoured", send: "GET / HTTP/1.0\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n", where: "origin", want: "Upgrade: websocket"},
	{fault: "upgrade-body-as-tunnel", send: "POST / HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: websocket\r\nContent-Length: 5\r\n\r\nhello", where: "origin", lose: "hello"},
	{fault: "upgrade-101-stays-http", send: fxUpgrade + "GET /b HTTP/1.1\r\nHost: x\r\n\r\n",
		reply: []faultReply{{data: "HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n"}}, where: "origin", want: "GET /b HTTP/1.1\r\nHost: x\r\nVia"},

	{fault: "upgrade-426-stripped", send: fxUpgrade,
		reply: []faultReply{{data: "HTTP/1.1 426 Upgrade Required\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nContent-Length: 0\r\n\r\n"}}, where: "client", lose: "Upgrade: websocket"},

	// Range filter.
	{fault: "range-unsatisfiable-206", send: "GET / HTTP/1.1\r\nHost: x\r\nRange: bytes=20-30\r\n\r\n", reply: []faultReply{{data: fxFull}}, mod: fxRange, where: "client", want: "HTTP/1.1 206"},
	{fault: "range-416-without-content-range", send: "GET / HTTP/1.1\r\nHost: x\r\nRange: bytes=20-30\r\n\r\n", reply: []faultReply{{data: fxFull}}, mod: fxRange, where: "client", lose: "Content-Range"},
	{fault: "range-end-exclusive", send: "GET / HTTP/1.1\r\nHost: x\r\nRange: bytes=0-4\r\n\r\n", reply: []faultReply{{data: fxFull}}, mod: fxRange, where: "client", want: "bytes 0-3/11"},
	{fault: "range-on-post", send: fxPost + "Range: bytes=0-4\r\nContent-Length: 0\r\n\r\n", reply: []faultReply{{data: fxFull}}, mod: fxRange, where: "client", want: "HTTP/1.1 206"},
	{fault: "if-range-ignored", send: "GET / HTTP/1.1\r\nHost: x\r\nRange: bytes=0-4\r\nIf-Range: \"v0\"\r\n\r\n", reply: []faultReply{{data: fxFull}}, mod: fxRange, where: "client", want: "HTTP/1.1 206"},
	{fault: "range-multi-first-only", send: "GET / HTTP/1.1\r\nHost: x\r\nRange: bytes=0-1,6-7\r\n\r\n", reply: []faultReply{{data: fxFull}}, mod: fxRange, where: "client", lose: "multipart/byteranges"},
	{fault: "range-on-partial", send: "GET / HTTP/1.1\r\nHost: x\r\nRange: bytes=0-3\r\n\r\n",
		reply: []faultReply{{data: "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found"}}, mod: fxRange, where: "client", want: "HTTP/1.1 206"},
}

// TestEachFaultChangesBehaviour runs every fault's exchange with and without
// the fault. Every fault of the catalogue must have a case, so a new fault
// cannot be added without showing what it does.
func TestEachFaultChangesBehaviour(t *testing.T) {
	byName := map[string]faultCase{}
	for _, fc := range faultCases {
		if _, dup := byName[fc.fault]; dup {
			t.Fatalf("two cases for fault %s", fc.fault)
		}
		byName[fc.fault] = fc
	}
	for _, in := range fault.List() {
		if _, fxOK := byName[in.Name]; !fxOK {
			t.Errorf("fault %s has no case in faultCases", in.Name)
		}
	}
	for _, fc := range faultCases {
		t.Run(fc.fault, func(t *testing.T) {
			t.Parallel()
			if (fc.want == "") == (fc.lose == "") {
				t.Fatal("set exactly one of want and lose")
			}
			clean := runFaultExchange(t, fc, nil)
			faulty := runFaultExchange(t, fc, []string{fc.fault})
			marker, in, notIn := fc.want, faulty, clean
			if fc.lose != "" {
				marker, in, notIn = fc.lose, clean, faulty
			}
			if !strings.Contains(in, marker) || strings.Contains(notIn, marker) {
				t.Errorf("%s %q: want it only %s the fault\nwithout the fault:\n%q\nwith the fault:\n%q",
					fc.where, marker, map[bool]string{true: "with", false: "without"}[fc.want != ""], clean, faulty)
			}
		})
	}
}

// runFaultExchange starts a proxy with faults in front of a scripted origin,
// sends fc.send, half-closes, and returns the client's or the origin's
// transcript.
func runFaultExchange(t *testing.T, fc faultCase, faults []string) string {
	t.Helper()
	org := newFaultOrigin(t, fc.reply)
	o := Options{
		Listeners: []ListenerOptions{{Name: "test", Addr: "127.0.0.1:0"}},
		Upstream:  UpstreamOptions{Addr: org.addr()},
		Faults:    faults,
	}
	if fc.mod != nil {
		fc.mod(&o)
	}
	p, err := Start(context.Background(), o)
	if err != nil {
		t.Fatalf("Start with faults %v: %v", faults, err)
	}
	t.Cleanup(func() { p.Close() })
	got := faultExchange(t, p.Addr(0), fc.send)
	if fc.where == "client" {
		return got
	}
	return org.transcript()
}

// faultReadTimeout bounds waiting for the proxy: an exchange that ends (EOF)
// earlier returns at once; one that hangs is recorded as such.
const faultReadTimeout = 700 * time.Millisecond

// faultExchange sends data, half-closes, and reads until the proxy closes or
// goes quiet; a quiet end is marked "<no close>".
func faultExchange(t *testing.T, addr, data string) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, data); err != nil {
		t.Fatalf("client write: %v", err)
	}
	c.(*net.TCPConn).CloseWrite()
	var got bytes.Buffer
	buf := make([]byte, 4096)
	for {
		c.SetReadDeadline(time.Now().Add(faultReadTimeout))
		n, err := c.Read(buf)
		got.Write(buf[:n])
		var ne net.Error
		switch {
		case err == nil:
		case errors.As(err, &ne) && ne.Timeout():
			return got.String() + "<no close>"
		default:
			return got.String()
		}
	}
}

// faultReply is one scripted answer; with close the origin closes the
// connection after it.
type faultReply struct {
	data  string
	close bool
}

// faultOrigin records every byte it receives, per connection, and answers each
// request (framed leniently by Content-Length or chunked) with the next
// scripted reply, or 200 "ok".
type faultOrigin struct {
	ln      net.Listener
	replies []faultReply

	mu    sync.Mutex
	conns []*bytes.Buffer
	n     int // requests answered
	wg    sync.WaitGroup
}

func newFaultOrigin(t *testing.T, replies []faultReply) *faultOrigin {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	o := &faultOrigin{ln: ln, replies: replies}
	o.wg.Add(1)
	go o.accept()
	t.Cleanup(func() {
		ln.Close()
		o.wg.Wait()
	})
	return o
}

func (o *faultOrigin) addr() string { return o.ln.Addr().String() }

// transcript is every connection's bytes, each prefixed "#N>".
func (o *faultOrigin) transcript() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var b strings.Builder
	for i, c := range o.conns {
		fmt.Fprintf(&b, "#%d>%s", i+1, c.String())
	}
	return b.String()
}

func (o *faultOrigin) accept() {
	defer o.wg.Done()
	for {
		c, err := o.ln.Accept()
		if err != nil {
			return
		}
		o.mu.Lock()
		rec := &bytes.Buffer{}
		o.conns = append(o.conns, rec)
		o.mu.Unlock()
		o.wg.Add(1)
		go o.serve(c, rec)
	}
}

func (o *faultOrigin) serve(c net.Conn, rec *bytes.Buffer) {
	defer o.wg.Done()
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	var pending []byte
	buf := make([]byte, 4096)
	for {
		n, err := c.Read(buf)
		o.mu.Lock()
		rec.Write(buf[:n])
		o.mu.Unlock()
		pending = append(pending, buf[:n]...)
		for {
			used := faultRequestLen(pending)
			if used == 0 {
				break
			}
			pending = pending[used:]
			o.mu.Lock()
			r := faultReply{data: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"}
			if o.n < len(o.replies) {
				r = o.replies[o.n]
			}
			o.n++
			o.mu.Unlock()
			c.Write([]byte(r.data))
			if r.close {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// faultRequestLen returns the length of the first complete request in b (head
// and body, framed leniently), or 0 if b does not hold one yet.
func faultRequestLen(b []byte) int {
	end := bytes.Index(b, []byte("\r\n\r\n"))
	if end < 0 {
		return 0
	}
	head, n := strings.ToLower(string(b[:end])), end+4
	if i := strings.Index(head, "\r\ncontent-length:"); i >= 0 {
		v := strings.TrimSpace(strings.SplitN(head[i+len("\r\ncontent-length:"):], "\r\n", 2)[0])
		cl, err := strconv.Atoi(v)
		if err != nil || len(b) < n+cl {
			return 0
		}
		return n + cl
	}
	if !strings.Contains(head, "\r\ntransfer-encoding: chunked") {
		return n
	}
	for {
		lf := bytes.IndexByte(b[n:], '\n')
		if lf < 0 {
			return 0
		}
		size, err := strconv.ParseInt(strings.TrimSpace(string(b[n:n+lf])), 16, 64)
		if err != nil {
			return 0
		}
		n += lf + 1
		if size == 0 {
			if e := bytes.Index(b[n:], []byte("\r\n")); e >= 0 && e == 0 {
				return n + 2
			}
			if e := bytes.Index(b[n:], []byte("\r\n\r\n")); e >= 0 {
				return n + e + 4
			}
			return 0
		}
		if len(b) < n+int(size)+2 {
			return 0
		}
		n += int(size) + 2
	}
}
