package proxy

import (
	"github.com/proxyspec/proxyspec/proxy/h1"
	"github.com/proxyspec/proxyspec/proxy/internal/fault"
)

// pseudonym is the proxy's name in Via (RFC 9110 §7.6.3).
const pseudonym = "refproxy"

// allowedMethods is the Allow value of the 405 sent to CONNECT when it is
// disabled (RFC 9110 §15.5.6: a 405 MUST carry Allow).
const allowedMethods = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS, TRACE"

// nominated reports whether the Connection field lists name: such fields are
// hop-by-hop and MUST NOT be forwarded (RFC 9110 §7.6.1).
func nominated(fields []h1.Field, name []byte) bool {
	for i := range fields {
		if fields[i].Key != h1.KeyConnection {
			continue
		}
		v := fields[i].Value
		for len(v) > 0 {
			end := 0
			for end < len(v) && v[end] != ',' {
				end++
			}
			tok := trimOWS(v[:end])
			if len(tok) == len(name) && h1.EqualFold(tok, string(name)) {
				return true
			}
			if end == len(v) {
				break
			}
			v = v[end+1:]
		}
	}
	return false
}

func trimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// hopByHop reports fields that are never forwarded as received: the
// connection-specific fields of RFC 9110 §7.6.1 (Connection, Proxy-Connection,
// Keep-Alive, TE, Transfer-Encoding, Upgrade), Trailer, and Content-Length,
// whose framing the proxy regenerates; Via is merged and re-added.
func hopByHop(k h1.Key) bool {
	switch k {
	case h1.KeyConnection, h1.KeyKeepAlive, h1.KeyProxyConnection, h1.KeyTE,
		h1.KeyTransferEncoding, h1.KeyTrailer, h1.KeyUpgrade, h1.KeyContentLength,
		h1.KeyVia:
		return true
	}
	return false
}

// appendVia appends the Via field: the received values followed by ours.
func appendVia(dst []byte, fields []h1.Field, v h1.Version, faults fault.Set) []byte {
	dst = append(dst, "Via: "...)
	for i := range fields {
		if fields[i].Key == h1.KeyVia && len(fields[i].Value) > 0 && !faults.Has(fault.ViaOverwritten) {
			dst = append(dst, fields[i].Value...)
			dst = append(dst, ", "...)
		}
	}
	if v == h1.HTTP10 {
		dst = append(dst, "1.0 "...)
	} else {
		dst = append(dst, "1.1 "...)
	}
	dst = append(dst, pseudonym...)
	return append(dst, "\r\n"...)
}

// appendList appends "name: v1, v2" joining all field lines with key, or
// nothing if there are none.
func appendList(dst []byte, name string, fields []h1.Field, key h1.Key) []byte {
	n := 0
	for i := range fields {
		if fields[i].Key != key || len(fields[i].Value) == 0 {
			continue
		}
		if n == 0 {
			dst = append(dst, name...)
			dst = append(dst, ": "...)
		} else {
			dst = append(dst, ", "...)
		}
		dst = append(dst, fields[i].Value...)
		n++
	}
	if n > 0 {
		dst = append(dst, "\r\n"...)
	}
	return dst
}

// bodyMethod reports methods that normally carry content: a bodyless one is
// forwarded with Content-Length: 0 (as Pingora does; RFC 9110 §8.6 SHOULD).
func bodyMethod(m []byte) bool {
	switch string(m) {
	case "POST", "PUT", "PATCH":
		return true
	}
	return false
}

// appendRequestHead regenerates the request head sent upstream: request-line
// in origin-form (authority-form for CONNECT), Host first, the received
// fields in order minus hop-by-hop ones, Via, X-Forwarded-For,
// X-Forwarded-Proto (proto: "http" or "https"), and framing for body f.
func appendRequestHead(dst []byte, req *h1.Request, f h1.Framing, upgrade bool, clientIP, proto string, faults fault.Set) []byte {
	dst = append(dst, req.Method...)
	dst = append(dst, ' ')
	if req.Form == h1.AuthorityForm {
		dst = append(dst, req.Target...)
	} else {
		dst = req.AppendOriginForm(dst)
	}
	dst = append(dst, " HTTP/1.1\r\n"...)
	hasConn := h1.Count(req.Fields, h1.KeyConnection) > 0
	if !(hasConn && faults.Has(fault.ConnectionDropsHost) && nominated(req.Fields, []byte("Host"))) {
		dst = append(dst, "Host: "...)
		dst = append(dst, req.Host...)
		dst = append(dst, "\r\n"...)
	}
	for i := range req.Fields {
		fl := &req.Fields[i]
		switch {
		case fl.Key == h1.KeyKeepAlive || fl.Key == h1.KeyTE || fl.Key == h1.KeyProxyConnection || fl.Key == h1.KeyUpgrade:
			if !faults.Has(fault.HopByHopForwarded) || hasConn && nominated(req.Fields, fl.Name) {
				continue
			}
		case fl.Key == h1.KeyHost, hopByHop(fl.Key),
			fl.Key == h1.KeyXForwardedFor, fl.Key == h1.KeyXForwardedProto:
			continue
		case fl.Key == h1.KeyExpect && req.Version == h1.HTTP10:
			continue // RFC 9110 §10.1.1: ignore 100-continue in HTTP/1.0
		case hasConn && nominated(req.Fields, fl.Name) && !faults.Has(fault.ConnectionOptionsForwarded):
			continue
		case len(fl.Value) == 0 && faults.Has(fault.EmptyFieldDropped),
			faults.Has(fault.RepeatedFieldLastWins) && repeatedLater(req.Fields, i):
			continue
		case faults.Has(fault.ObsTextReencoded):
			dst = h1.AppendField(dst, fl.Name, latin1ToUTF8(fl.Value))
			continue
		case fl.Key == h1.KeyOther && maxForwardsMethod(req) && h1.EqualFold(fl.Name, "Max-Forwards") &&
			!faults.Has(fault.MaxForwardsIgnored):
			dst = appendMaxForwards(dst, fl) // RFC 9110 §7.6.2: decremented
			continue
		}
		dst = h1.AppendField(dst, fl.Name, fl.Value)
	}
	if !faults.Has(fault.ViaMissing) {
		dst = appendVia(dst, req.Fields, req.Version, faults)
	}
	dst = appendList(dst, "X-Forwarded-For", req.Fields, h1.KeyXForwardedFor)
	if clientIP != "" {
		if h1.Count(req.Fields, h1.KeyXForwardedFor) > 0 {
			dst = dst[:len(dst)-2] // reopen the line
			dst = append(dst, ", "...)
		} else {
			dst = append(dst, "X-Forwarded-For: "...)
		}
		dst = append(dst, clientIP...)
		dst = append(dst, "\r\n"...)
	}
	dst = append(dst, "X-Forwarded-Proto: "...)
	dst = append(dst, proto...)
	dst = append(dst, "\r\n"...)
	switch f.Kind {
	case h1.BodyLength:
		dst = h1.AppendContentLength(dst, f.Length)
	case h1.BodyChunked, h1.BodyClose:
		dst = append(dst, "Transfer-Encoding: chunked\r\n"...)
	case h1.BodyNone:
		if bodyMethod(req.Method) {
			dst = append(dst, "Content-Length: 0\r\n"...)
		}
	}
	if upgrade {
		dst = appendList(dst, "Upgrade", req.Fields, h1.KeyUpgrade)
		dst = append(dst, "Connection: upgrade\r\n"...)
	}
	return append(dst, "\r\n"...)
}

// repeatedLater reports whether a field line after fields[i] has the same
// name (for fault RepeatedFieldLastWins).
func repeatedLater(fields []h1.Field, i int) bool {
	for _, f := range fields[i+1:] {
		if h1.EqualFold(f.Name, string(fields[i].Name)) {
			return true
		}
	}
	return false
}

// latin1ToUTF8 re-encodes obs-text bytes as if they were Latin-1 text (for
// fault ObsTextReencoded).
func latin1ToUTF8(v []byte) []byte {
	out := make([]byte, 0, len(v)+8)
	for _, c := range v {
		if c < 0x80 {
			out = append(out, c)
		} else {
			out = append(out, 0xc0|c>>6, 0x80|c&0x3f)
		}
	}
	return out
}

// outKind is the framing of a response sent to the client.
type outKind uint8

const (
	outNone    outKind = iota // no content (HEAD, 1xx, 204, 304); Content-Length kept when given
	outLength                 // Content-Length
	outChunked                // Transfer-Encoding: chunked (HTTP/1.1 clients)
	outClose                  // delimited by closing the connection
	outTunnel                 // 101 or 2xx to CONNECT: no framing fields
)

// respHead describes how to regenerate a response head.
type respHead struct {
	status  int    // status to send (differs from the origin's for ranges)
	reason  []byte // nil: standard reason
	out     outKind
	length  int64  // outLength, or outNone with a known length (-1: none)
	codings bool   // keep the origin's transfer codings (outChunked/outClose)
	close   bool   // add Connection: close
	drop    uint64 // bit 1<<Key set: drop fields with that key
	extra   []byte // preformatted field lines to add
}

// appendResponseHead regenerates the response head sent to the client.
func appendResponseHead(dst []byte, resp *h1.Response, h *respHead, faults fault.Set) []byte {
	dst = h1.AppendStatusLine(dst, h.status, h.reason)
	hasConn := h1.Count(resp.Fields, h1.KeyConnection) > 0
	for i := range resp.Fields {
		fl := &resp.Fields[i]
		switch {
		case fl.Key == h1.KeyContentLength && h.out == outChunked && faults.Has(fault.ResponseTECLForwarded):
		case (fl.Key == h1.KeyKeepAlive || fl.Key == h1.KeyTE || fl.Key == h1.KeyProxyConnection) &&
			faults.Has(fault.HopByHopForwarded) && !(hasConn && nominated(resp.Fields, fl.Name)):
		case hopByHop(fl.Key):
			continue
		case h.drop&(1<<fl.Key) != 0:
			continue
		case hasConn && nominated(resp.Fields, fl.Name) && !faults.Has(fault.ConnectionOptionsForwarded):
			continue
		}
		dst = h1.AppendField(dst, fl.Name, fl.Value)
	}
	if !faults.Has(fault.ViaMissing) {
		dst = appendVia(dst, resp.Fields, resp.Version, faults)
	}
	dst = append(dst, h.extra...)
	switch h.out {
	case outLength:
		dst = h1.AppendContentLength(dst, h.length)
	case outNone:
		// HEAD and 304 may announce the length of the representation
		// (RFC 9110 §8.6); 1xx and 204 MUST NOT carry Content-Length.
		if h.length >= 0 && h.status >= 200 && (h.status != 204 || faults.Has(fault.Response204CLForwarded)) {
			dst = h1.AppendContentLength(dst, h.length)
		}
	case outChunked, outClose:
		if h.codings {
			// Codings other than chunked are passed through, not decoded.
			dst = appendList(dst, "Transfer-Encoding", resp.Fields, h1.KeyTransferEncoding)
		} else if h.out == outChunked {
			dst = append(dst, "Transfer-Encoding: chunked\r\n"...)
		}
	case outTunnel:
		if h.status == 101 {
			dst = appendList(dst, "Upgrade", resp.Fields, h1.KeyUpgrade)
			dst = append(dst, "Connection: upgrade\r\n"...)
		}
	}
	// RFC 9110 §7.8: a 426 MUST name the acceptable protocols in Upgrade;
	// Upgrade is hop-by-hop, so the proxy regenerates the origin's (with the
	// Connection option that goes with it).
	if h.status == 426 && h1.Count(resp.Fields, h1.KeyUpgrade) > 0 && !faults.Has(fault.Upgrade426Stripped) {
		dst = appendList(dst, "Upgrade", resp.Fields, h1.KeyUpgrade)
		dst = append(dst, "Connection: upgrade\r\n"...)
	}
	if h.close {
		dst = append(dst, "Connection: close\r\n"...)
	}
	return append(dst, "\r\n"...)
}

// trailerAllowed reports whether a trailer field may be forwarded: fields
// the proxy interprets (framing, routing, connection control, content
// metadata) are dropped (RFC 9110 §6.5.1).
func trailerAllowed(k h1.Key) bool { return k == h1.KeyOther }
