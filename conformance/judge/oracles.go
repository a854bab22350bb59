package judge

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/proxyspec/proxyspec/conformance/wire"
	"github.com/proxyspec/proxyspec/reports"
)

// clientSent reports whether the marker /NONCE/label appears, as a whole path segment, in the bytes
// the client sent on any connection.
func (v *view) clientSent(label string) bool {
	marker := []byte("/" + v.t.Nonce + "/" + label)
	for _, cc := range v.t.Client {
		for rest := cc.Sent; ; {
			i := bytes.Index(rest, marker)
			if i < 0 {
				break
			}
			rest = rest[i+len(marker):]
			if len(rest) == 0 || !isLabelByte(rest[0]) {
				return true
			}
		}
	}
	return false
}

// isLabelByte reports whether c may continue the label after a marker, so that /N/ab does not count
// as /N/a.
func isLabelByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

func fail(oracle, format string, args ...any) reports.Finding {
	return reports.Finding{Verdict: reports.Fail, Oracle: oracle, Message: fmt.Sprintf(format, args...)}
}

// noDesync: the origin never sees a request the client did not send whole; the client never gets
// a response meant for another request, nor more responses than requests; a connection left open
// still answers a probe correctly.
func (v *view) noDesync() []reports.Finding {
	var out []reports.Finding
	for _, rq := range v.origin {
		switch {
		case rq.Label == "":
			out = append(out, fail(OracleDesync, "origin received a request the client never sent: %q on upstream connection %d", firstLine(rq.RawHead), rq.Conn))
		case !v.isIntended(rq.Label) && v.clientSent(rq.Label):
			out = append(out, fail(OracleDesync, "origin received request %q, which the client only sent inside another message (smuggled) on upstream connection %d", rq.Label, rq.Conn))
		case !v.isIntended(rq.Label):
			// The label is nowhere in what the client sent: the proxy rewrote a target (joined it
			// with the bytes after it, say) rather than split a message.
			out = append(out, fail(OracleDesync, "origin received request %q, a marker the client never sent: the proxy rewrote a request target (%q) on upstream connection %d", rq.Label, firstLine(rq.RawHead), rq.Conn))
		}
	}
	for _, oc := range v.t.Origin {
		if len(oc.Stray) > 0 {
			out = append(out, fail(OracleDesync, "origin received %d bytes on upstream connection %d that do not start a request: %.60q", len(oc.Stray), oc.ID, oc.Stray))
		}
	}
	for _, cc := range v.t.Client {
		for i, rsp := range cc.Final {
			if i >= len(cc.Requests) {
				// A proxy may answer bytes left after the last request itself (a 400 for garbage);
				// an extra answer from the origin means it saw a request the client never sent.
				if rsp.Label != "" {
					out = append(out, fail(OracleDesync, "client connection %d got %d responses to %d requests; response %d is the origin's answer to %q",
						cc.ID, len(cc.Final), len(cc.Requests), i+1, rsp.Label))
				}
				continue
			}
			if rsp.Label == "" || rsp.Label == "-" {
				continue
			}
			if want := cc.Requests[i].Label; rsp.Label != want {
				out = append(out, fail(OracleDesync, "client connection %d: the response to request %q is the origin's answer to %q", cc.ID, want, rsp.Label))
			}
		}
		if p := cc.Probe; p != nil {
			switch {
			case p.Response == nil && !cc.Closed:
				out = append(out, fail(OracleDesync, "client connection %d stayed open but the probe got no answer before the read deadline: the proxy is still reading an earlier message", cc.ID))
			case p.Response != nil && p.Response.Label != "" && p.Response.Label != p.Label:
				// Already reported above as a mismatched response; nothing more to add.
			case p.Response != nil && p.Response.Label == "" && p.Response.Status/100 == 2:
				out = append(out, fail(OracleDesync, "client connection %d: the probe was answered %d without the origin's label: the answer belongs to something else", cc.ID, p.Response.Status))
			}
		}
	}
	return out
}

// forwardedCleanly: each request reaching the origin has one unambiguous framing and a clean head.
func (v *view) forwardedCleanly() []reports.Finding {
	var out []reports.Finding
	for _, rq := range v.all {
		name := rq.Label
		if name == "" {
			name = "(unlabelled)"
		}
		for _, p := range headProblems(rq.RawHead, true) {
			out = append(out, fail(OracleForwarded, "request %s forwarded with %s", name, p))
		}
		// A body cut short is what a proxy does when the client's message breaks mid-stream and
		// it aborts the upstream connection; only a malformed chunked body is unclean framing.
		if strings.HasPrefix(rq.BodyError, "malformed") && rq.Framing == "chunked" {
			out = append(out, fail(OracleForwarded, "request %s forwarded with a malformed chunked body: %s", name, rq.BodyError))
		}
	}
	return out
}

// responseFraming: each response the client gets is parseable and unambiguously framed, and an
// HTTP/1.0 client gets neither chunked coding nor 1xx responses.
func (v *view) responseFraming() []reports.Finding {
	var out []reports.Finding
	for _, cc := range v.t.Client {
		if cc.ParseError != "" && !asksHTTP09(cc) {
			out = append(out, fail(OracleResponse, "client connection %d received bytes that are not an HTTP response: %s", cc.ID, cc.ParseError))
		}
		for i, rsp := range cc.Final {
			req := wire.SentRequest{Label: "?"}
			if i < len(cc.Requests) {
				req = cc.Requests[i]
			}
			for _, p := range headProblems(headOf(rsp.Raw), false) {
				out = append(out, fail(OracleResponse, "response to %s has %s", req.Label, p))
			}
			if req.Version == "HTTP/1.0" {
				if te := fieldValue(rsp.Fields, "Transfer-Encoding"); te != "" {
					out = append(out, fail(OracleResponse, "HTTP/1.0 request %s got a response with Transfer-Encoding: %s (RFC 9112 6.1: MUST NOT)", req.Label, te))
				}
				if len(rsp.Interim) > 0 {
					out = append(out, fail(OracleResponse, "HTTP/1.0 request %s got a %d interim response (RFC 9110 15.2: MUST NOT send 1xx to an HTTP/1.0 client)", req.Label, rsp.Interim[0].Status))
				}
			}
			if rsp.Status/100 == 1 || rsp.Status == 204 {
				if hasField(rsp.Fields, "Content-Length") || hasField(rsp.Fields, "Transfer-Encoding") {
					out = append(out, fail(OracleResponse, "%d response to %s carries Content-Length or Transfer-Encoding (RFC 9112 6.1, RFC 9110 8.6: MUST NOT)", rsp.Status, req.Label))
				}
			}
		}
	}
	return out
}

// asksHTTP09 reports whether a request on cc claims HTTP/0.x: a server may answer it the HTTP/0.9
// way, with a bare body and no status line, so such bytes are not a framing fault. The case's own
// expectation records what the target chose.
func asksHTTP09(cc *wire.ClientConn) bool {
	for _, rq := range cc.Requests {
		if strings.HasPrefix(rq.Version, "HTTP/0.") {
			return true
		}
	}
	return false
}

// upstreamReuse: after the origin's answer on a connection announced the close ("Connection:
// close", or HTTP/1.0 without keep-alive), the proxy, being that connection's client, MUST NOT send
// another request on it (RFC 9112 9.6, 9.3). Parallel cases share pooled connections, so the later
// request may be any case's: the origin counts them all.
func (v *view) upstreamReuse() []reports.Finding {
	var out []reports.Finding
	for _, oc := range v.t.Origin {
		for _, rq := range oc.Requests {
			if !answerCloses(rq.Answer) || oc.Total <= rq.Index+1 {
				continue
			}
			name := rq.Label
			if name == "" {
				name = "(unlabelled)"
			}
			out = append(out, fail(OracleReuse, "upstream connection %d carried %d more request(s) after the origin's answer to %s announced the close (RFC 9112 9.6: MUST NOT send further requests)",
				oc.ID, oc.Total-rq.Index-1, name))
			break
		}
	}
	return out
}

// answerCloses reports whether the origin's answer (interim responses, then the final one) says
// the connection closes after it.
func answerCloses(ans []byte) bool {
	for len(ans) > 0 {
		end := bytes.Index(ans, []byte("\r\n\r\n"))
		if end < 0 {
			return false
		}
		lines := strings.Split(string(ans[:end]), "\r\n")
		if len(lines[0]) >= 12 && lines[0][9] == '1' { // a 1xx: the final response follows
			ans = ans[end+4:]
			continue
		}
		var closeTok, keepAlive bool
		for _, l := range lines[1:] {
			name, value, ok := strings.Cut(l, ":")
			if !ok || !strings.EqualFold(strings.TrimSpace(name), "Connection") {
				continue
			}
			for _, tok := range splitList(strings.ToLower(value)) {
				closeTok = closeTok || tok == "close"
				keepAlive = keepAlive || tok == "keep-alive"
			}
		}
		return closeTok || strings.HasPrefix(lines[0], "HTTP/1.0 ") && !keepAlive
	}
	return false
}

// headProblems lists the framing and syntax problems of a raw message head. The scan is written
// here, apart from any parser, on purpose: it is the oracle.
func headProblems(head []byte, request bool) []string {
	var probs []string
	add := func(format string, args ...any) { probs = append(probs, fmt.Sprintf(format, args...)) }
	if len(head) == 0 {
		return nil
	}
	for i, b := range head {
		switch {
		case b == '\n' && (i == 0 || head[i-1] != '\r'):
			add("a bare LF at byte %d of the head", i)
			return probs
		case b == '\r' && (i+1 == len(head) || head[i+1] != '\n'):
			add("a bare CR at byte %d of the head", i)
			return probs
		case b == 0:
			add("a NUL byte at byte %d of the head", i)
			return probs
		}
	}
	lines := strings.Split(strings.TrimSuffix(string(head), "\r\n\r\n"), "\r\n")
	if request {
		f := strings.Split(lines[0], " ")
		if len(f) != 3 || f[0] == "" || f[1] == "" || !strings.HasPrefix(f[2], "HTTP/1.") || len(f[2]) != 8 {
			add("a malformed request line %q", lines[0])
		}
	} else if !strings.HasPrefix(lines[0], "HTTP/1.") {
		add("a malformed status line %q", lines[0])
	}
	var cls, tes []string
	for _, l := range lines[1:] {
		if l == "" {
			continue
		}
		if l[0] == ' ' || l[0] == '\t' {
			add("an obs-fold line %q", l)
			continue
		}
		name, value, ok := strings.Cut(l, ":")
		if !ok {
			add("a field line without a colon %q", l)
			continue
		}
		if strings.TrimRight(name, " \t") != name {
			add("whitespace before the colon in %q", l)
			continue
		}
		if !isToken(name) {
			add("an invalid field name %q", name)
			continue
		}
		value = strings.Trim(value, " \t")
		switch strings.ToLower(name) {
		case "content-length":
			cls = append(cls, value)
		case "transfer-encoding":
			tes = append(tes, value)
		}
	}
	if len(cls) > 0 && len(tes) > 0 {
		add("both Content-Length and Transfer-Encoding (RFC 9112 6.2: MUST NOT)")
	}
	if len(cls) > 1 {
		add("%d Content-Length fields %q", len(cls), cls)
	}
	for _, cl := range cls {
		if cl == "" || strings.Trim(cl, "0123456789") != "" {
			add("an invalid Content-Length %q (RFC 9110 8.6: 1*DIGIT)", cl)
		}
	}
	if len(tes) > 0 {
		codings := splitList(strings.Join(tes, ","))
		n := 0
		for _, c := range codings {
			if strings.EqualFold(c, "chunked") {
				n++
			}
		}
		if n > 1 {
			add("chunked applied more than once in Transfer-Encoding %q", tes)
		}
		if request && (len(codings) == 0 || !strings.EqualFold(codings[len(codings)-1], "chunked")) {
			add("Transfer-Encoding %q whose final coding is not chunked (RFC 9112 6.1)", tes)
		}
	}
	return probs
}

func splitList(s string) []string {
	var out []string
	for _, e := range strings.Split(s, ",") {
		if e = strings.Trim(e, " \t"); e != "" {
			out = append(out, e)
		}
	}
	return out
}

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
			continue
		}
		if !strings.ContainsRune("!#$%&'*+-.^_`|~", rune(c)) {
			return false
		}
	}
	return true
}

func headOf(raw []byte) []byte {
	if i := bytes.Index(raw, []byte("\r\n\r\n")); i >= 0 {
		return raw[:i+4]
	}
	if i := bytes.Index(raw, []byte("\n\n")); i >= 0 {
		return raw[:i+2]
	}
	return raw
}

func firstLine(b []byte) string {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		b = b[:i]
	}
	return strings.TrimSuffix(string(b), "\r")
}

func hasField(fs []wire.Field, name string) bool {
	for _, f := range fs {
		if strings.EqualFold(f.Name, name) {
			return true
		}
	}
	return false
}

// fieldValue joins every line of the field with ", ", as RFC 9110 5.3 allows for list fields.
func fieldValue(fs []wire.Field, name string) string {
	var vals []string
	for _, f := range fs {
		if strings.EqualFold(f.Name, name) {
			vals = append(vals, f.Value)
		}
	}
	return strings.Join(vals, ", ")
}
