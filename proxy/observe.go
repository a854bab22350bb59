package proxy

// Observer receives connection, pool and rejection events, typically to
// export metrics (see package proxy/metrics). Its methods are called
// synchronously on the proxy's I/O paths: they must be fast, must not
// block, and must be safe for concurrent use. Options.OnRequestDone
// reports completed requests.
type Observer interface {
	// ClientConnOpened and ClientConnClosed bracket a downstream connection.
	ClientConnOpened(listener string)
	ClientConnClosed(listener string)
	// UpstreamConnOpened and UpstreamConnClosed bracket a connection to a
	// backend of an upstream group.
	UpstreamConnOpened(upstream, backend string)
	UpstreamConnClosed(upstream, backend string)
	// PoolGet reports whether a request found an idle pooled connection
	// (hit) or had to dial (miss).
	PoolGet(upstream, backend string, hit bool)
	// KeepAliveLimitClose reports a response that closes its connection
	// because the listener's keep-alive request limit was reached.
	KeepAliveLimitClose(listener string)
	// Rejected reports a request the proxy answered itself with an error
	// instead of forwarding it.
	Rejected(listener string, reason RejectReason)
}

// RejectReason classifies requests the proxy refuses.
type RejectReason string

// Reject reasons.
const (
	RejectMalformed RejectReason = "malformed"  // invalid request head (400, 505)
	RejectFraming   RejectReason = "framing"    // invalid or ambiguous body framing, bad chunked coding (400, 501)
	RejectConnect   RejectReason = "connect"    // CONNECT not allowed (405)
	RejectLimit     RejectReason = "limit"      // head, field, target or body limit (413, 414, 431)
	RejectTimeout   RejectReason = "timeout"    // head or body not received in time (408)
	RejectNoRoute   RejectReason = "no_route"   // no route matched (404)
	RejectNoBackend RejectReason = "no_backend" // no healthy backend in the group (503)
)

// NopObserver ignores every event; embed it to implement part of Observer.
// Its methods do nothing.
type NopObserver struct{}

func (NopObserver) ClientConnOpened(string)           {}
func (NopObserver) ClientConnClosed(string)           {}
func (NopObserver) UpstreamConnOpened(string, string) {}
func (NopObserver) UpstreamConnClosed(string, string) {}
func (NopObserver) PoolGet(string, string, bool)      {}
func (NopObserver) KeepAliveLimitClose(string)        {}
func (NopObserver) Rejected(string, RejectReason)     {}

// observer returns o's observer, never nil.
func (o *Options) observer() Observer {
	if o.Observer == nil {
		return NopObserver{}
	}
	return o.Observer
}

// rejectReason classifies an error answer; kind, if set, is what the call
// site knows (e.g. framing). Upstream failures (502, 504) are not
// rejections: ok is false.
func rejectReason(status int, kind RejectReason) (r RejectReason, ok bool) {
	if kind != "" {
		return kind, true
	}
	switch status {
	case 400, 505:
		return RejectMalformed, true
	case 501:
		return RejectFraming, true
	case 405:
		return RejectConnect, true
	case 413, 414, 431:
		return RejectLimit, true
	case 408:
		return RejectTimeout, true
	case 404:
		return RejectNoRoute, true
	case 503:
		return RejectNoBackend, true
	}
	return "", false
}

// observeReject reports an error answer to the observer.
func (c *clientConn) observeReject(status int) {
	kind := c.rejectKind
	c.rejectKind = ""
	if r, ok := rejectReason(status, kind); ok {
		c.p.obs.Rejected(c.l.opts.Name, r)
	}
}
