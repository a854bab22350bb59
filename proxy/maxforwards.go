package proxy

import (
	"strconv"

	"github.com/proxyspec/proxyspec/proxy/h1"
	"github.com/proxyspec/proxyspec/proxy/internal/fault"
)

// maxForwardsMethod reports the methods Max-Forwards applies to (RFC 9110
// §7.6.2); a recipient MAY ignore it with any other method, and we do.
func maxForwardsMethod(req *h1.Request) bool { return req.IsMethod("TRACE") || req.IsMethod("OPTIONS") }

// maxForwards returns the Max-Forwards of a TRACE or OPTIONS request: ok
// reports whether it applies (the method and the field are there), valid
// whether it is one field line holding 1*DIGIT.
func maxForwards(req *h1.Request) (n int64, ok, valid bool) {
	if !maxForwardsMethod(req) {
		return 0, false, false
	}
	lines := 0
	for i := range req.Fields {
		if fl := &req.Fields[i]; h1.EqualFold(fl.Name, "Max-Forwards") {
			lines++
			n, valid = h1.ParseContentLength(fl.Value)
		}
	}
	return n, lines > 0, lines == 1 && valid
}

// checkMaxForwards applies RFC 9110 §7.6.2 before forwarding: an invalid
// value gets 400; at zero the proxy is the final recipient and answers
// itself. It reports whether the request was answered here, and if so
// whether the connection stays open.
func (c *clientConn) checkMaxForwards(ex *exchange) (answered, keep bool) {
	n, ok, valid := maxForwards(&c.req)
	switch {
	case !ok:
		return false, false
	case !valid:
		return true, c.rejectEx(ex, 400, "invalid Max-Forwards")
	case n > 0 || c.p.faults.Has(fault.MaxForwardsIgnored):
		return false, false
	}
	c.answerFinal(ex)
	return true, false
}

// answerFinal answers a TRACE or OPTIONS whose Max-Forwards reached zero, as
// its final recipient: OPTIONS gets the methods the proxy forwards, TRACE
// the request head it received (RFC 9110 §9.3.8), minus the fields that
// carry credentials. The connection is then closed: a body, if any, was not
// read.
func (c *clientConn) answerFinal(ex *exchange) {
	req := &c.req
	var body []byte
	b := h1.AppendStatusLine(c.scratch[:0], 200, nil)
	if req.IsMethod("TRACE") {
		body = append(body, req.Method...)
		body = append(body, ' ')
		body = append(body, req.Target...)
		body = append(body, ' ')
		body = append(body, req.Version.String()...)
		body = append(body, "\r\n"...)
		for i := range req.Fields {
			fl := &req.Fields[i]
			if h1.EqualFold(fl.Name, "Authorization") || h1.EqualFold(fl.Name, "Proxy-Authorization") || h1.EqualFold(fl.Name, "Cookie") {
				continue
			}
			body = h1.AppendField(body, fl.Name, fl.Value)
		}
		body = append(body, "\r\n"...)
		b = append(b, "Content-Type: message/http\r\n"...)
	} else {
		b = append(b, "Allow: "+allowedMethods+"\r\n"...)
	}
	b = h1.AppendContentLength(b, int64(len(body)))
	b = append(b, "Connection: close\r\n\r\n"...)
	b = append(b, body...)
	c.scratch = b[:0]
	ex.status = 200
	c.bw.Write(b)
	c.lingeringClose()
}

// appendMaxForwards appends the forwarded Max-Forwards of a TRACE or
// OPTIONS: the received value minus one (checkMaxForwards answered zero).
func appendMaxForwards(dst []byte, fl *h1.Field) []byte {
	n, _ := h1.ParseContentLength(fl.Value)
	dst = append(dst, fl.Name...)
	dst = append(dst, ": "...)
	dst = strconv.AppendInt(dst, max(n-1, 0), 10)
	return append(dst, "\r\n"...)
}
