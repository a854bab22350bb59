package judge

import (
	"strconv"

	"github.com/proxyspec/proxyspec/conformance/wire"
	"github.com/proxyspec/proxyspec/corpus"
	"github.com/proxyspec/proxyspec/reports"
)

// Evidence renders the four byte streams of a transcript (client>proxy, proxy>client per client
// connection; proxy>origin, origin>proxy per upstream connection), escaped as in case files.
func Evidence(t *wire.Transcript) *reports.Evidence {
	ev := &reports.Evidence{}
	for _, cc := range t.Client {
		name := "client#" + strconv.Itoa(cc.ID)
		note := ""
		switch {
		case cc.Reset:
			note = "reset by proxy"
		case cc.Closed:
			note = "closed by proxy"
		case cc.TimedOut:
			note = "read deadline passed, connection still open"
		}
		ev.Streams = append(ev.Streams,
			reports.Stream{Conn: name, Dir: string(wire.ClientToProxy), Data: corpus.Escape(cc.Sent)},
			reports.Stream{Conn: name, Dir: string(wire.ProxyToClient), Data: corpus.Escape(cc.Received), Note: note})
	}
	for _, oc := range t.Origin {
		name := "origin#" + strconv.Itoa(oc.ID)
		var in, out []byte
		for _, ch := range oc.Chunks {
			switch ch.Dir {
			case wire.ProxyToOrigin:
				in = append(in, ch.Data...)
			case wire.OriginToProxy:
				out = append(out, ch.Data...)
			}
		}
		note := ""
		if oc.Closed {
			note = "closed by proxy"
		}
		ev.Streams = append(ev.Streams,
			reports.Stream{Conn: name, Dir: string(wire.ProxyToOrigin), Data: corpus.Escape(in), Note: note},
			reports.Stream{Conn: name, Dir: string(wire.OriginToProxy), Data: corpus.Escape(out)})
	}
	return ev
}
