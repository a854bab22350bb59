// Package judge turns the transcript of one case run into a verdict with a one-line reason and the
// evidence. It applies the case's own expectations and, to every case, the checks that no
// conformant proxy may fail whatever the case is about: no desync, requests forwarded cleanly, and
// responses framed unambiguously.
package judge

import (
	"bytes"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/proxyspec/proxyspec/conformance/wire"
	"github.com/proxyspec/proxyspec/corpus"
	"github.com/proxyspec/proxyspec/reports"
)

// Oracle names, as they appear in findings.
const (
	OracleExpect    = "expect"
	OracleDesync    = "no-desync"
	OracleForwarded = "forwarded-cleanly"
	OracleResponse  = "response-framing"
	OracleReuse     = "upstream-reuse"
	OracleHarness   = "harness"
)

// Judge judges one case run. It never fails: problems of the harness or the target become ERROR.
func Judge(c *corpus.Case, t *wire.Transcript) reports.CaseResult {
	r := reports.CaseResult{
		ID:       c.ID,
		Title:    c.Title,
		Level:    string(c.Level),
		Tags:     c.Tags,
		Vectors:  c.Vectors,
		Duration: float64(t.Duration.Microseconds()) / 1000,
		Evidence: Evidence(t),
	}
	for _, ref := range c.RFC {
		r.RFC = append(r.RFC, reports.Ref{Doc: ref.Doc, Section: ref.Section, Quote: ref.Quote})
	}
	if len(t.Errors) > 0 {
		r.Verdict = reports.Error
		r.Reason = t.Errors[0]
		for _, e := range t.Errors {
			r.Findings = append(r.Findings, reports.Finding{Verdict: reports.Error, Oracle: OracleHarness, Message: e})
		}
		return r
	}
	v := newView(c, t)
	if missing := v.missingRequests(); len(missing) > 0 {
		r.Verdict = reports.Error
		r.Reason = fmt.Sprintf("case error: request %s not found in the client's bytes (each intended request needs /{nonce}/LABEL in its target)", strings.Join(missing, ", "))
		r.Findings = []reports.Finding{{Verdict: reports.Error, Oracle: OracleHarness, Message: r.Reason}}
		return r
	}

	r.Findings = append(r.Findings, v.noDesync()...)
	r.Findings = append(r.Findings, v.forwardedCleanly()...)
	r.Findings = append(r.Findings, v.responseFraming()...)
	r.Findings = append(r.Findings, v.upstreamReuse()...)

	matched, closest := v.expectations()
	switch {
	case matched != nil:
		r.Outcome = outcomeName(c, matched)
	case c.Level == corpus.MAY:
		// A MAY case records what the target chose; an unlisted choice is still information.
	default:
		level := reports.Fail
		if c.Level == corpus.SHOULD {
			level = reports.Warn
		}
		msg := fmt.Sprintf("%s: got %s; expected %s", failedTerms(closest), v.summary(), expectedText(c))
		r.Findings = append([]reports.Finding{{Verdict: level, Oracle: OracleExpect, Message: msg}}, r.Findings...)
	}

	// The verdict is the most severe finding; the reason line is the most telling finding of
	// that severity: a desync says more than the expectation it broke.
	r.Verdict = reports.Pass
	best := -1
	for _, f := range r.Findings {
		rank := severity(f.Verdict)*10 + oracleRank[f.Oracle]
		if severity(f.Verdict) > severity(r.Verdict) || rank > best && severity(f.Verdict) == severity(r.Verdict) {
			r.Verdict = f.Verdict
			r.Reason = f.Message
			best = rank
		}
	}
	switch {
	case r.Verdict != reports.Pass:
	case c.Level == corpus.MAY && matched != nil:
		r.Verdict = reports.Info
		r.Reason = "MAY choice: " + r.Outcome + " (" + v.summary() + ")"
	case c.Level == corpus.MAY:
		r.Verdict = reports.Info
		r.Reason = "MAY: none of the listed outcomes; got " + v.summary()
	default:
		r.Reason = "outcome " + r.Outcome + ": " + v.summary()
	}
	return r
}

var oracleRank = map[string]int{OracleDesync: 5, OracleReuse: 4, OracleForwarded: 3, OracleResponse: 2, OracleExpect: 1}

func severity(v reports.Verdict) int {
	switch v {
	case reports.Fail:
		return 4
	case reports.Warn:
		return 3
	case reports.Info:
		return 2
	case reports.Pass:
		return 0
	}
	return 1
}

func outcomeName(c *corpus.Case, o *corpus.Outcome) string {
	if o.Name != "" {
		return o.Name
	}
	for i := range c.Expect {
		if &c.Expect[i] == o {
			return "#" + strconv.Itoa(i+1)
		}
	}
	return "?"
}

func expectedText(c *corpus.Case) string {
	var parts []string
	for i, o := range c.Expect {
		name := o.Name
		if name == "" {
			name = "#" + strconv.Itoa(i+1)
		}
		parts = append(parts, "["+name+"] "+o.Text)
	}
	return strings.Join(parts, " | ")
}

func failedTerms(fails []string) string {
	if len(fails) == 0 {
		return "expectation not met"
	}
	return "not " + strings.Join(fails, ", not ")
}

// view indexes a transcript by label.
type view struct {
	c      *corpus.Case
	t      *wire.Transcript
	nonce  string
	sent   map[string]sentAt     // intended label -> where the client sent it
	origin []*wire.OriginRequest // this case's requests at the origin, in arrival order (probes excluded)
	all    []*wire.OriginRequest // including probes
}

type sentAt struct {
	conn  *wire.ClientConn
	index int // position in conn.Requests
}

func newView(c *corpus.Case, t *wire.Transcript) *view {
	v := &view{c: c, t: t, nonce: t.Nonce, sent: map[string]sentAt{}}
	for _, cc := range t.Client {
		for i, rq := range cc.Requests {
			if _, dup := v.sent[rq.Label]; !dup {
				v.sent[rq.Label] = sentAt{cc, i}
			}
		}
	}
	for _, oc := range t.Origin {
		v.all = append(v.all, oc.Requests...)
	}
	sort.SliceStable(v.all, func(i, j int) bool { return v.all[i].At < v.all[j].At })
	for _, rq := range v.all {
		if !rq.Probe {
			v.origin = append(v.origin, rq)
		}
	}
	return v
}

func (v *view) missingRequests() []string {
	var out []string
	for _, l := range v.c.Requests {
		if _, ok := v.sent[l]; !ok {
			out = append(out, l)
		}
	}
	return out
}

// response returns the final response the client got for an intended label, or nil.
func (v *view) response(label string) *wire.Response {
	s, ok := v.sent[label]
	if !ok || s.index >= len(s.conn.Final) {
		return nil
	}
	return s.conn.Final[s.index]
}

// forwarded returns the first request the origin received for label, or nil.
func (v *view) forwarded(label string) *wire.OriginRequest {
	for _, rq := range v.origin {
		if rq.Label == label {
			return rq
		}
	}
	return nil
}

// lastConn is the client connection that carried the last intended request.
func (v *view) lastConn() *wire.ClientConn {
	var best *wire.ClientConn
	for _, l := range v.c.Requests {
		if s, ok := v.sent[l]; ok {
			best = s.conn
		}
	}
	return best
}

// closedAfter: the proxy closed the connection after its responses, or its last response announced
// the close (the harness then sends nothing more, and a proxy may drain input for a while before
// the close itself, as RFC 9112 9.6 suggests).
func closedAfter(cc *wire.ClientConn) bool {
	if cc.Probe != nil && cc.Probe.Response != nil {
		return false
	}
	return cc.Closed || cc.Probe == nil && announcedClose(cc)
}

// announcedClose reports whether the last final response says the connection will close:
// "Connection: close", or an HTTP/1.0 response without keep-alive.
func announcedClose(cc *wire.ClientConn) bool {
	if len(cc.Final) == 0 {
		return false
	}
	rsp := cc.Final[len(cc.Final)-1]
	conn := strings.ToLower(fieldValue(rsp.Fields, "Connection"))
	var closeTok, keepAlive bool
	for _, tok := range splitList(conn) {
		closeTok = closeTok || tok == "close"
		keepAlive = keepAlive || tok == "keep-alive"
	}
	return closeTok || rsp.Version == "HTTP/1.0" && !keepAlive
}

func stayedOpen(cc *wire.ClientConn) bool {
	return cc.Probe != nil && cc.Probe.Response != nil && cc.Probe.Response.Label == cc.Probe.Label
}

func (v *view) isIntended(label string) bool {
	for _, l := range v.c.Requests {
		if l == label {
			return true
		}
	}
	return false
}

// expand fills the placeholders an expected value may carry with this run's values.
func (v *view) expand(b []byte) []byte {
	b = bytes.ReplaceAll(b, []byte("{nonce}"), []byte(v.nonce))
	b = bytes.ReplaceAll(b, []byte("{host}"), []byte(v.t.Host))
	return bytes.ReplaceAll(b, []byte("{origin}"), []byte(v.t.OriginAt))
}

// summary describes in one line what happened, in the expectation vocabulary.
func (v *view) summary() string {
	var parts []string
	for _, l := range v.c.Requests {
		if rsp := v.response(l); rsp != nil {
			parts = append(parts, l+"="+strconv.Itoa(rsp.Status))
		} else {
			parts = append(parts, l+"=none")
		}
	}
	var labels []string
	for _, rq := range v.origin {
		labels = append(labels, displayLabel(rq))
	}
	if len(labels) == 0 {
		parts = append(parts, "origin=none")
	} else {
		parts = append(parts, "origin="+strings.Join(labels, ","))
	}
	if cc := v.lastConn(); cc != nil {
		switch {
		case stayedOpen(cc):
			parts = append(parts, "open")
		case closedAfter(cc) && cc.Reset:
			parts = append(parts, "close(reset)")
		case closedAfter(cc):
			parts = append(parts, "close")
		case cc.Probe != nil && cc.Probe.Response != nil:
			parts = append(parts, "open(probe got another request's answer)")
		case cc.Probe != nil:
			parts = append(parts, "open(probe unanswered)")
		default:
			parts = append(parts, "open")
		}
	}
	return strings.Join(parts, " ")
}

func displayLabel(rq *wire.OriginRequest) string {
	if rq.Label == "" {
		return "(unlabelled " + strconv.Quote(rq.Method+" "+rq.Target) + ")"
	}
	return rq.Label
}
