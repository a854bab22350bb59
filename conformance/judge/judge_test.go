package judge

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxyspec/proxyspec/conformance/wire"
	"github.com/proxyspec/proxyspec/corpus"
	"github.com/proxyspec/proxyspec/reports"
)

const nonce = "ps0123456789"

func mustCase(t *testing.T, level, requests string, expects ...string) *corpus.Case {
	t.Helper()
	var b strings.Builder
	b.WriteString("id: test/case\ntitle: t\nrfc: RFC9112 6.1 \"quote\"\nlevel: " + level + "\n")
	if requests != "" {
		b.WriteString("requests: " + requests + "\n")
	}
	for _, e := range expects {
		if name, rest, ok := strings.Cut(e, ": "); ok && !strings.ContainsAny(name, " =") {
			b.WriteString("expect " + name + ": " + rest + "\n")
			continue
		}
		b.WriteString("expect: " + e + "\n")
	}
	b.WriteString("-- client send --\nGET /{nonce}/a HTTP/1.1\n\n")
	c, err := corpus.Parse("cases/test/case.case", []byte(b.String()))
	require.NoError(t, err)
	return c
}

// resp builds a parsed response as the wire client would.
func resp(status int, label string, fields ...string) *wire.Response {
	r := &wire.Response{Version: "HTTP/1.1", Status: status, Label: label, Complete: true}
	raw := "HTTP/1.1 " + itoa(status) + " X\r\n"
	for i := 0; i+1 < len(fields); i += 2 {
		r.Fields = append(r.Fields, wire.Field{Name: fields[i], Value: fields[i+1]})
		raw += fields[i] + ": " + fields[i+1] + "\r\n"
	}
	if label != "" {
		r.Fields = append(r.Fields, wire.Field{Name: "X-Proxyspec-Label", Value: label})
		raw += "X-Proxyspec-Label: " + label + "\r\n"
	}
	r.Raw = []byte(raw + "\r\n")
	return r
}

func itoa(n int) string { return strconv.Itoa(n) }

// fwd builds a request as the origin would record it.
func fwd(conn int, at time.Duration, label, head, body string) *wire.OriginRequest {
	head = strings.ReplaceAll(head, "NONCE", nonce)
	rq := &wire.OriginRequest{Conn: conn, At: at, Label: label, RawHead: []byte(head), Body: []byte(body), Framing: "none"}
	lines := strings.Split(strings.TrimSuffix(head, "\r\n\r\n"), "\r\n")
	f := strings.Fields(lines[0])
	if len(f) == 3 {
		rq.Method, rq.Target, rq.Version = f[0], f[1], f[2]
	}
	for _, l := range lines[1:] {
		if n, v, ok := strings.Cut(l, ":"); ok {
			rq.Fields = append(rq.Fields, wire.Field{Name: strings.TrimSpace(n), Value: strings.TrimSpace(v)})
		}
	}
	rq.Probe = strings.HasPrefix(label, "probe")
	return rq
}

type script struct {
	final      []*wire.Response
	closed     bool
	probe      *wire.Response // nil: probe sent, no answer
	noProbe    bool
	origin     []*wire.OriginRequest
	stray      string
	version    string
	parseError string
}

func transcript(s script) *wire.Transcript {
	version := s.version
	if version == "" {
		version = "HTTP/1.1"
	}
	cc := &wire.ClientConn{ID: 1, Closed: s.closed, Final: s.final, ParseError: s.parseError,
		Requests: []wire.SentRequest{{Label: "a", Method: "GET", Version: version}},
		Sent:     []byte("GET /" + nonce + "/a HTTP/1.1\r\n\r\n")}
	if !s.closed && !s.noProbe {
		cc.Probe = &wire.Probe{Label: "probe-1", Response: s.probe}
		cc.Requests = append(cc.Requests, wire.SentRequest{Label: "probe-1", Method: "GET", Version: "HTTP/1.1"})
		if s.probe != nil {
			cc.Final = append(cc.Final, s.probe)
		}
	}
	oc := &wire.OriginConn{ID: 1, Requests: s.origin, Stray: []byte(s.stray)}
	return &wire.Transcript{Nonce: nonce, Client: []*wire.ClientConn{cc}, Origin: []*wire.OriginConn{oc}}
}

const cleanHead = "GET /NONCE/a HTTP/1.1\r\nHost: h\r\nVia: 1.1 p\r\n\r\n"

func TestJudge(t *testing.T) {
	probeOK := resp(200, "probe-1")
	tests := []struct {
		name    string
		c       *corpus.Case
		s       script
		verdict reports.Verdict
		oracle  string
		reason  string
	}{
		{"reject and close passes", mustCase(t, "MUST", "", "a=400 origin=none close"),
			script{final: []*wire.Response{resp(400, "")}, closed: true}, reports.Pass, "", "outcome #1"},
		{"forwarded when a reject was required fails", mustCase(t, "MUST", "", "a=400 origin=none close"),
			script{final: []*wire.Response{resp(200, "a")}, origin: []*wire.OriginRequest{fwd(1, 1, "a", cleanHead, "")}, probe: probeOK},
			reports.Fail, OracleExpect, "not a=400"},
		{"open when close was required fails", mustCase(t, "MUST", "", "a=400 origin=none close"),
			script{final: []*wire.Response{resp(400, "")}, probe: probeOK}, reports.Fail, OracleExpect, "not close"},
		{"an announced close counts as close while the proxy drains", mustCase(t, "MUST", "", "a=400 origin=none close"),
			script{final: []*wire.Response{resp(400, "", "Connection", "close")}, noProbe: true}, reports.Pass, "", "outcome"},
		{"no announcement and no close is open", mustCase(t, "MUST", "", "a=400 origin=none close"),
			script{final: []*wire.Response{resp(400, "")}, noProbe: true}, reports.Fail, OracleExpect, "not close"},
		{"SHOULD broken warns", mustCase(t, "SHOULD", "", "a=501"),
			script{final: []*wire.Response{resp(400, "")}, closed: true}, reports.Warn, OracleExpect, "a=400"},
		{"MAY records the choice", mustCase(t, "MAY", "", "reject: a=400", "forward: a=200 origin=a"),
			script{final: []*wire.Response{resp(200, "a")}, origin: []*wire.OriginRequest{fwd(1, 1, "a", cleanHead, "")}, probe: probeOK},
			reports.Info, "", "forward"},
		{"second alternative holds", mustCase(t, "MUST", "", "a=400 close", `a=200 origin=a body.a="hi" close`),
			script{final: []*wire.Response{resp(200, "a")}, closed: true, origin: []*wire.OriginRequest{fwd(1, 1, "a", cleanHead, "hi")}},
			reports.Pass, "", "#2"},
		{"forwarded method and target terms", mustCase(t, "MUST", "", `a=200 fwd.a.method="GET" fwd.a.target="/{nonce}/a" fwd.a.hdr.Host="h"`),
			script{final: []*wire.Response{resp(200, "a")}, origin: []*wire.OriginRequest{fwd(1, 1, "a", cleanHead, "")}, probe: probeOK},
			reports.Pass, "", "outcome"},
		{"wrong forwarded method fails", mustCase(t, "MUST", "", `a=200 fwd.a.method="HEAD"`),
			script{final: []*wire.Response{resp(200, "a")}, origin: []*wire.OriginRequest{fwd(1, 1, "a", cleanHead, "")}, probe: probeOK},
			reports.Fail, OracleExpect, "fwd.a.method"},
		{"contains operator on bodies and headers", mustCase(t, "MUST", "", `a=200 body.a*="ell" fwd.a.hdr.Via*="1.1"`),
			script{final: []*wire.Response{resp(200, "a")}, origin: []*wire.OriginRequest{fwd(1, 1, "a", cleanHead, "hello")}, probe: probeOK},
			reports.Pass, "", "outcome"},
		{"contains operator fails when absent", mustCase(t, "MUST", "", `a=200 body.a*="xyz"`),
			script{final: []*wire.Response{resp(200, "a")}, origin: []*wire.OriginRequest{fwd(1, 1, "a", cleanHead, "hello")}, probe: probeOK},
			reports.Fail, OracleExpect, "body.a*="},
		{"wrong forwarded body fails", mustCase(t, "MUST", "", `a=200 origin=a body.a="hi"`),
			script{final: []*wire.Response{resp(200, "a")}, origin: []*wire.OriginRequest{fwd(1, 1, "a", cleanHead, "h")}, probe: probeOK},
			reports.Fail, OracleExpect, `body.a="hi"`},
		{"smuggled request at the origin fails even if expectation holds", mustCase(t, "MAY", "", "a=2xx"),
			script{final: []*wire.Response{resp(200, "a")}, probe: probeOK, origin: []*wire.OriginRequest{
				fwd(1, 1, "a", cleanHead, ""), fwd(1, 2, "smuggled", "GET /NONCE/smuggled HTTP/1.1\r\nHost: h\r\n\r\n", "")}},
			reports.Fail, OracleDesync, "smuggled"},
		{"a target the proxy rewrote into another label fails, not called smuggled", mustCase(t, "MUST", "", "a=2xx"),
			script{final: []*wire.Response{resp(200, "aHTTP")}, closed: true, origin: []*wire.OriginRequest{
				fwd(1, 1, "aHTTP", "GET /NONCE/aHTTP/1.1 HTTP/1.1\r\nHost: h\r\n\r\n", "")}},
			reports.Fail, OracleDesync, "never sent: the proxy rewrote"},
		{"unlabelled request at the origin fails", mustCase(t, "MUST", "", "a=2xx"),
			script{final: []*wire.Response{resp(200, "a")}, probe: probeOK, origin: []*wire.OriginRequest{
				fwd(1, 1, "a", cleanHead, ""), fwd(1, 2, "", "GPOST /x HTTP/1.1\r\n\r\n", "")}},
			reports.Fail, OracleDesync, "never sent"},
		{"stray bytes at the origin fail", mustCase(t, "MUST", "", "a=2xx"),
			script{final: []*wire.Response{resp(200, "a")}, probe: probeOK, origin: []*wire.OriginRequest{fwd(1, 1, "a", cleanHead, "")}, stray: "0\r\n\r\n"},
			reports.Fail, OracleDesync, "do not start a request"},
		{"response meant for another request fails", mustCase(t, "MUST", "", "a=2xx"),
			script{final: []*wire.Response{resp(200, "smuggled")}, closed: true}, reports.Fail, OracleDesync, "answer to \"smuggled\""},
		{"an extra answer from the origin fails", mustCase(t, "MUST", "", "a=400"),
			script{final: []*wire.Response{resp(400, ""), resp(200, "-")}, closed: true}, reports.Fail, OracleDesync, "2 responses to 1 requests"},
		{"the proxy answering leftover bytes itself is fine", mustCase(t, "MUST", "", "a=2xx"),
			script{final: []*wire.Response{resp(200, "a"), resp(400, "")}, closed: true, origin: []*wire.OriginRequest{fwd(1, 1, "a", cleanHead, "")}},
			reports.Pass, "", "outcome"},
		{"probe unanswered on an open connection fails", mustCase(t, "MAY", "", "a=2xx"),
			script{final: []*wire.Response{resp(200, "a")}, origin: []*wire.OriginRequest{fwd(1, 1, "a", cleanHead, "")}},
			reports.Fail, OracleDesync, "probe got no answer"},
		{"CL and TE forwarded together fails", mustCase(t, "MAY", "", "a=2xx"),
			script{final: []*wire.Response{resp(200, "a")}, probe: probeOK, origin: []*wire.OriginRequest{
				fwd(1, 1, "a", "POST /NONCE/a HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", "")}},
			reports.Fail, OracleForwarded, "both Content-Length and Transfer-Encoding"},
		{"obs-fold forwarded fails", mustCase(t, "MAY", "", "a=2xx"),
			script{final: []*wire.Response{resp(200, "a")}, probe: probeOK, origin: []*wire.OriginRequest{
				fwd(1, 1, "a", "GET /NONCE/a HTTP/1.1\r\nX: 1\r\n 2\r\n\r\n", "")}},
			reports.Fail, OracleForwarded, "obs-fold"},
		{"bare LF forwarded fails", mustCase(t, "MAY", "", "a=2xx"),
			script{final: []*wire.Response{resp(200, "a")}, probe: probeOK, origin: []*wire.OriginRequest{
				fwd(1, 1, "a", "GET /NONCE/a HTTP/1.1\nX: 1\r\n\r\n", "")}},
			reports.Fail, OracleForwarded, "bare LF"},
		{"invalid CL forwarded fails", mustCase(t, "MAY", "", "a=2xx"),
			script{final: []*wire.Response{resp(200, "a")}, probe: probeOK, origin: []*wire.OriginRequest{
				fwd(1, 1, "a", "POST /NONCE/a HTTP/1.1\r\nContent-Length: +5\r\n\r\n", "")}},
			reports.Fail, OracleForwarded, "invalid Content-Length"},
		{"response with CL and TE fails", mustCase(t, "MAY", "", "a=2xx"),
			script{final: []*wire.Response{resp(200, "a", "Content-Length", "3", "Transfer-Encoding", "chunked")}, closed: true},
			reports.Fail, OracleResponse, "both Content-Length"},
		{"chunked to an HTTP/1.0 client fails", mustCase(t, "MAY", "", "a=2xx"),
			script{version: "HTTP/1.0", final: []*wire.Response{resp(200, "a", "Transfer-Encoding", "chunked")}, closed: true},
			reports.Fail, OracleResponse, "HTTP/1.0"},
		{"unparseable answer fails", mustCase(t, "MAY", "", "a=none"),
			script{final: nil, closed: true, parseError: "not an HTTP response"}, reports.Fail, OracleResponse, "not an HTTP response"},
		{"an HTTP/0.9-style answer to an HTTP/0.9 request is a choice", mustCase(t, "MAY", "", "a=none"),
			script{version: "HTTP/0.9", final: nil, closed: true, parseError: "not an HTTP response"}, reports.Info, "", "MAY choice"},
		{"1xx to an HTTP/1.0 client fails", mustCase(t, "MAY", "", "a=2xx"),
			script{version: "HTTP/1.0", final: []*wire.Response{func() *wire.Response {
				r := resp(200, "a")
				r.Interim = []*wire.Response{resp(100, "")}
				return r
			}()}, closed: true},
			reports.Fail, OracleResponse, "interim"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Judge(tt.c, transcript(tt.s))
			assert.Equal(t, tt.verdict, r.Verdict, "reason: %s; findings: %+v", r.Reason, r.Findings)
			assert.Contains(t, r.Reason, tt.reason)
			if tt.oracle != "" {
				require.NotEmpty(t, r.Findings)
				found := false
				for _, f := range r.Findings {
					found = found || f.Oracle == tt.oracle
				}
				assert.True(t, found, "no finding from %s in %+v", tt.oracle, r.Findings)
			}
			require.NotNil(t, r.Evidence)
			assert.Len(t, r.Evidence.Streams, 4, "client and origin streams in both directions")
		})
	}
}

func TestJudgeHarnessErrorIsNeverAPass(t *testing.T) {
	tr := transcript(script{closed: true})
	tr.Errors = []string{"cannot connect to target 127.0.0.1:1: connection refused"}
	r := Judge(mustCase(t, "MUST", "", "a=none"), tr)
	assert.Equal(t, reports.Error, r.Verdict)
	assert.Contains(t, r.Reason, "cannot connect")
}

func TestJudgeMissingRequestIsACaseError(t *testing.T) {
	tr := transcript(script{closed: true})
	tr.Client[0].Requests = nil
	r := Judge(mustCase(t, "MUST", "", "a=none"), tr)
	assert.Equal(t, reports.Error, r.Verdict)
	assert.Contains(t, r.Reason, "not found")
}

func TestHeadProblemsCleanHeads(t *testing.T) {
	for _, h := range []string{
		"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\nX-Empty:\r\n\r\n",
	} {
		assert.Empty(t, headProblems([]byte(h), true), h)
	}
	assert.Empty(t, headProblems([]byte("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"), false))
}

func TestUpstreamReuseAfterAnnouncedClose(t *testing.T) {
	closeAns := "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
	tests := []struct {
		name   string
		answer string
		total  int
		fail   bool
	}{
		{"reused after Connection: close", closeAns, 2, true},
		{"not reused after Connection: close", closeAns, 1, false},
		{"reused after an HTTP/1.0 answer", "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", 3, true},
		{"HTTP/1.0 keep-alive may be reused", "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n", 3, false},
		{"a 100 before the close counts the final answer", "HTTP/1.1 100 Continue\r\n\r\n" + closeAns, 2, true},
		{"close only in the 100 does not count", "HTTP/1.1 100 Continue\r\nConnection: close\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 2, false},
		{"keep-alive answer reused", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 5, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rq := fwd(1, 1, "a", cleanHead, "")
			rq.Answer = []byte(tt.answer)
			tr := transcript(script{final: []*wire.Response{resp(200, "a")}, closed: true, origin: []*wire.OriginRequest{rq}})
			tr.Origin[0].Total = tt.total
			r := Judge(mustCase(t, "MAY", "", "a=2xx"), tr)
			var got bool
			for _, f := range r.Findings {
				got = got || f.Oracle == OracleReuse
			}
			assert.Equal(t, tt.fail, got, "findings: %+v", r.Findings)
			if tt.fail {
				assert.Equal(t, reports.Fail, r.Verdict)
			}
		})
	}
}
