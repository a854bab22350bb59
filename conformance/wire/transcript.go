// Package wire is the harness's byte-level tooling: a raw client connection to the proxy under
// test, a recording origin behind it, and small lenient parsers that observe what each party sent.
//
// It never imports the reference proxy: the observing parsers are deliberately simple and separate,
// so that one misunderstanding cannot agree with itself.
package wire

import "time"

// Dir is the direction of a recorded byte chunk, named after the two ends of the hop.
type Dir string

const (
	ClientToProxy Dir = "client>proxy"
	ProxyToClient Dir = "proxy>client"
	ProxyToOrigin Dir = "proxy>origin"
	OriginToProxy Dir = "origin>proxy"
)

// Chunk is one read or write, as it happened.
type Chunk struct {
	At   time.Duration `json:"at"` // since the case started
	Dir  Dir           `json:"dir"`
	Data []byte        `json:"data"`
}

// Field is one field line as received, name and value with surrounding OWS trimmed.
type Field struct {
	Name  string
	Value string
}

// Transcript is everything one case run saw, on both sides of the proxy.
type Transcript struct {
	Nonce    string
	Host     string // what {host} expanded to
	OriginAt string // what {origin} expanded to
	Client   []*ClientConn
	Origin   []*OriginConn // upstream connections that carried any of this case's traffic
	Errors   []string      // harness or target problems (cannot connect, origin failure): verdict ERROR
	Duration time.Duration
}

// ClientConn is one harness-client connection to the proxy.
type ClientConn struct {
	ID       int
	Chunks   []Chunk       // both directions, in time order
	Sent     []byte        // all bytes written
	Received []byte        // all bytes read
	Requests []SentRequest // intended requests (and the probe) found in Sent, in order
	Final    []*Response   // final responses parsed from Received, in order; 1xx are attached to the next
	// Tunnel holds bytes received after a 101 response; TunnelSent the bytes written after it.
	Tunnel     []byte
	TunnelSent []byte
	// How the connection ended, as observed by the client.
	Closed   bool   // the proxy closed it (EOF or reset) before the harness gave up
	Reset    bool   // the close was a reset
	TimedOut bool   // a read deadline passed while the harness still expected bytes
	Probe    *Probe // the follow-up probe, if one was sent
	// ParseError is set when Received holds bytes that are not a well-formed response stream
	// (the rest of Received after the last parsed response is in Trailing).
	ParseError string
	Trailing   []byte
}

// SentRequest is an intended request found in the client's bytes by its /{nonce}/LABEL marker.
type SentRequest struct {
	Label   string
	Method  string
	Version string // "HTTP/1.1", "HTTP/1.0", or whatever the request line said
	Offset  int    // position of the request line in Sent
}

// Probe is the follow-up request sent on a connection left open after the case's own exchange.
type Probe struct {
	Label    string    // probe-N
	Response *Response // nil if none came
}

// Response is a response as the lenient client parser saw it.
type Response struct {
	Version  string
	Status   int
	Reason   string
	Fields   []Field
	Body     []byte      // after removing chunked framing
	Framing  string      // "length", "chunked", "close", "none"
	Complete bool        // the body was fully delimited (false: cut short by close/deadline)
	Interim  []*Response // 1xx responses received before this one
	Raw      []byte      // the exact bytes of this response (head and body)
	Label    string      // value of X-Proxyspec-Label, "" if absent
}

// OriginConn is one connection the proxy opened to the harness origin, restricted to this case's view:
// the requests carrying its nonce, the answers to them, and unparseable bytes attributed to it.
type OriginConn struct {
	ID       int
	Chunks   []Chunk // the bytes of this case's requests and answers on this connection, in time order
	Requests []*OriginRequest
	Stray    []byte // bytes that could not be parsed as a request, attributed to this case
	Tunnel   []byte // raw bytes received after the origin switched this connection to a tunnel
	Closed   bool   // the proxy closed the connection
	// Total counts the requests of every case the connection had carried when this case ended:
	// a request after one of this case's shows the proxy used the connection again.
	Total int
}

// OriginRequest is one request the origin received, as its lenient parser saw it.
type OriginRequest struct {
	Conn      int // OriginConn.ID
	Index     int // position on that connection, counting every case's requests (0 = first)
	At        time.Duration
	Label     string // from /{nonce}/LABEL in the target; "" if the target has no label
	Probe     bool
	Method    string
	Target    string
	Version   string
	Fields    []Field
	RawHead   []byte // exact head bytes including the final empty line
	Framing   string // "length", "chunked", "none"
	Body      []byte // after removing chunked framing
	RawBody   []byte // exact body bytes as received
	BodyError string // "malformed chunked body ..." (unclean framing) or "... cut short ..." (aborted)
	Answer    []byte // what the origin wrote back
}
