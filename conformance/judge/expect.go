package judge

import (
	"bytes"
	"strings"

	"github.com/proxyspec/proxyspec/conformance/wire"
	"github.com/proxyspec/proxyspec/corpus"
)

// expectations returns the first outcome whose terms all hold, or nil and the failing terms of
// the outcome that came closest (fewest failing terms), for the reason line.
func (v *view) expectations() (*corpus.Outcome, []string) {
	var closest []string
	for i := range v.c.Expect {
		o := &v.c.Expect[i]
		var fails []string
		for _, t := range o.Terms {
			if !v.holds(t) {
				fails = append(fails, t.Text)
			}
		}
		if len(fails) == 0 {
			return o, nil
		}
		if closest == nil || len(fails) < len(closest) {
			closest = fails
		}
	}
	return nil, closest
}

func (v *view) holds(t corpus.Term) bool {
	switch t.Kind {
	case corpus.TStatus:
		rsp := v.response(t.Label)
		if t.None {
			return rsp == nil
		}
		return rsp != nil && matchAny(t.Statuses, rsp.Status)
	case corpus.TOrigin:
		var got []string
		for _, rq := range v.origin {
			got = append(got, rq.Label)
		}
		if t.None {
			return len(got) == 0
		}
		return strings.Join(got, ",") == strings.Join(t.Labels, ",") && !contains(got, "")
	case corpus.TBody:
		rq := v.forwarded(t.Label)
		return rq != nil && rq.BodyError == "" && v.bytesHold(t, rq.Body)
	case corpus.TFwdMethod, corpus.TFwdTarget:
		rq := v.forwarded(t.Label)
		if rq == nil {
			return false
		}
		if t.Kind == corpus.TFwdMethod {
			return v.bytesHold(t, []byte(rq.Method))
		}
		return v.bytesHold(t, []byte(rq.Target))
	case corpus.TClose:
		cc := v.lastConn()
		return cc != nil && closedAfter(cc)
	case corpus.TOpen:
		cc := v.lastConn()
		return cc != nil && stayedOpen(cc)
	case corpus.TNewConn, corpus.TSameConn:
		rq := v.forwarded(t.Label)
		if rq == nil {
			return false
		}
		var earlier []int
		for _, o := range v.all {
			if o == rq {
				break
			}
			earlier = append(earlier, o.Conn)
		}
		if t.Kind == corpus.TNewConn {
			for _, c := range earlier {
				if c == rq.Conn {
					return false
				}
			}
			return true
		}
		// sameconn: the request before it (probes aside) came on the same connection.
		for i := len(v.origin) - 1; i >= 0; i-- {
			if v.origin[i] == rq {
				return i > 0 && v.origin[i-1].Conn == rq.Conn
			}
		}
		return false
	case corpus.TRespHdr, corpus.TRespNoHdr, corpus.TRespBody, corpus.TRespInterim:
		rsp := v.response(t.Label)
		if rsp == nil {
			return false
		}
		switch t.Kind {
		case corpus.TRespHdr:
			return v.headerHolds(t, rsp.Fields)
		case corpus.TRespNoHdr:
			return !hasField(rsp.Fields, t.Name)
		case corpus.TRespBody:
			return rsp.Complete && v.bytesHold(t, rsp.Body)
		default:
			if t.None {
				return len(rsp.Interim) == 0
			}
			if len(rsp.Interim) != len(t.Statuses) {
				return false
			}
			for i, p := range t.Statuses {
				if !p.Match(rsp.Interim[i].Status) {
					return false
				}
			}
			return true
		}
	case corpus.TFwdHdr, corpus.TFwdNoHdr:
		rq := v.forwarded(t.Label)
		if rq == nil {
			return false
		}
		if t.Kind == corpus.TFwdNoHdr {
			return !hasField(rq.Fields, t.Name)
		}
		return v.headerHolds(t, rq.Fields)
	case corpus.TTunneled:
		// The text went through as tunnel data: the origin got it raw after its 101, and the
		// echo came back to the client after the 101 it relayed.
		want := v.expand(t.Value)
		atOrigin, atClient := false, false
		for _, oc := range v.t.Origin {
			atOrigin = atOrigin || bytes.Contains(oc.Tunnel, want)
		}
		for _, cc := range v.t.Client {
			atClient = atClient || bytes.Contains(cc.Tunnel, want)
		}
		return atOrigin && atClient
	case corpus.TTunnel:
		for _, cc := range v.t.Client {
			if len(cc.TunnelSent) == 0 || !bytes.Equal(cc.Tunnel, cc.TunnelSent) {
				continue
			}
			for _, oc := range v.t.Origin {
				if bytes.Equal(oc.Tunnel, cc.TunnelSent) {
					return true
				}
			}
		}
		return false
	}
	return false
}

func matchAny(ps []corpus.StatusPattern, status int) bool {
	for _, p := range ps {
		if p.Match(status) {
			return true
		}
	}
	return false
}

func contains(s []string, x string) bool {
	for _, y := range s {
		if y == x {
			return true
		}
	}
	return false
}

// headerHolds checks a hdr term: presence, exact value, a token in a list (~=, any case), or a
// different value (!=, which an absent field also satisfies).
func (v *view) headerHolds(t corpus.Term, fs []wire.Field) bool {
	present := hasField(fs, t.Name)
	if !t.HasValue {
		return present
	}
	want := string(v.expand(t.Value))
	got := fieldValue(fs, t.Name)
	switch t.Op {
	case "*=":
		return present && strings.Contains(got, want)
	case "~=":
		for _, e := range splitList(got) {
			if strings.EqualFold(e, want) {
				return true
			}
		}
		return false
	case "!=":
		return !present || got != want
	default:
		return present && got == want
	}
}

// bytesHold compares a body, method or target: exactly, or containing the value (*=).
func (v *view) bytesHold(t corpus.Term, got []byte) bool {
	want := v.expand(t.Value)
	if t.Op == "*=" {
		return bytes.Contains(got, want)
	}
	return bytes.Equal(got, want)
}
