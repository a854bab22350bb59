package proxy

import (
	"strings"
	"testing"
)

// TestMaxForwards: RFC 9110 §7.6.2 on TRACE and OPTIONS.
func TestMaxForwards(t *testing.T) {
	tests := []struct {
		name, req  string
		status     int
		forwarded  string // a line the origin must receive; "" = the origin receives nothing
		bodyHas    string
		bodyHasNot string
	}{
		{name: "options zero answered", req: "OPTIONS /a HTTP/1.1|Host: x|Max-Forwards: 0||", status: 200},
		{name: "options decremented", req: "OPTIONS /a HTTP/1.1|Host: x|Max-Forwards: 5||", status: 200, forwarded: "Max-Forwards: 4|"},
		{name: "trace zero echoed", req: "TRACE /a HTTP/1.1|Host: x|Cookie: secret|X-Probe: 1|Max-Forwards: 0||", status: 200,
			bodyHas: "TRACE /a HTTP/1.1|Host: x|X-Probe: 1|", bodyHasNot: "secret"},
		{name: "invalid", req: "OPTIONS /a HTTP/1.1|Host: x|Max-Forwards: -1||", status: 400},
		{name: "two lines", req: "OPTIONS /a HTTP/1.1|Host: x|Max-Forwards: 1|Max-Forwards: 2||", status: 400},
		{name: "ignored on GET", req: "GET /a HTTP/1.1|Host: x|Max-Forwards: 0||", status: 200, forwarded: "Max-Forwards: 0|"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := echoOrigin(t)
			p := startProxy(t, o.addr(), nil)
			cl := dial(t, p.Addr(0))
			method, _, _ := strings.Cut(tt.req, " ")
			cl.send(crlf(tt.req))
			resp := cl.response(method)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
			}
			b := body(t, resp)
			if tt.bodyHas != "" && !strings.Contains(b, crlf(tt.bodyHas)) || tt.bodyHasNot != "" && strings.Contains(b, tt.bodyHasNot) {
				t.Errorf("body %q", b)
			}
			reqs := o.requests()
			switch {
			case tt.forwarded == "" && len(reqs) > 0:
				t.Errorf("the origin received %q", reqs[0].head)
			case tt.forwarded != "" && (len(reqs) == 0 || !strings.Contains(reqs[0].head, crlf(tt.forwarded))):
				t.Errorf("the origin did not receive %q: %v", tt.forwarded, reqs)
			}
		})
	}
}
