package proxy

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// ioTimeout bounds every read in the tests: "no response" is concluded from
// a deadline, never from a sleep.
const ioTimeout = 5 * time.Second

// startProxy starts a proxy with one listener in front of upstream.
func startProxy(t *testing.T, upstream string, mod func(*Options)) *Proxy {
	t.Helper()
	o := Options{
		Listeners: []ListenerOptions{{Name: "test", Addr: "127.0.0.1:0"}},
		Upstream:  UpstreamOptions{Addr: upstream},
	}
	if mod != nil {
		mod(&o)
	}
	p, err := Start(context.Background(), o)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// originReq is a request as the origin received it.
type originReq struct {
	conn int    // which origin connection (0-based, in accept order)
	head string // raw head bytes, CRLFs included
	req  *http.Request
	body []byte
}

// origin is a scripted raw TCP origin server. Every accepted connection is
// handled by handler; all requests read through originConn.read are
// recorded.
type origin struct {
	t       *testing.T
	ln      net.Listener
	handler func(*originConn)
	mu      sync.Mutex
	nconns  int
	reqs    []*originReq
	wg      sync.WaitGroup
	conns   []net.Conn
}

type originConn struct {
	net.Conn
	br *bufio.Reader
	id int
	o  *origin
}

func newOrigin(t *testing.T, handler func(*originConn)) *origin {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	o := &origin{t: t, ln: ln, handler: handler}
	o.wg.Add(1)
	go func() {
		defer o.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			o.mu.Lock()
			oc := &originConn{Conn: c, br: bufio.NewReader(c), id: o.nconns, o: o}
			o.nconns++
			o.conns = append(o.conns, c)
			o.mu.Unlock()
			o.wg.Add(1)
			go func() {
				defer o.wg.Done()
				defer c.Close()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				handler(oc)
			}()
		}
	}()
	t.Cleanup(o.close)
	return o
}

func (o *origin) addr() string { return o.ln.Addr().String() }

func (o *origin) close() {
	o.ln.Close()
	o.mu.Lock()
	for _, c := range o.conns {
		c.Close()
	}
	o.mu.Unlock()
	o.wg.Wait()
}

func (o *origin) requests() []*originReq {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]*originReq(nil), o.reqs...)
}

func (o *origin) connCount() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.nconns
}

// read reads one request (head and body) and records it. It uses its own
// lenient reading plus net/http's parser, independent of package h1.
func (c *originConn) read() (*originReq, error) {
	var head bytes.Buffer
	for {
		line, err := c.br.ReadString('\n')
		head.WriteString(line)
		if err != nil {
			return nil, err
		}
		if line == "\r\n" || line == "\n" {
			break
		}
	}
	req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(head.Bytes())))
	if err != nil {
		return nil, fmt.Errorf("origin: bad request head %q: %w", head.String(), err)
	}
	r := &originReq{conn: c.id, head: head.String(), req: req}
	switch {
	case len(req.TransferEncoding) > 0:
		r.body, err = io.ReadAll(httputil.NewChunkedReader(c.br))
		if err == nil {
			// trailers: read until the empty line
			for {
				line, lerr := c.br.ReadString('\n')
				if lerr != nil || line == "\r\n" {
					err = lerr
					break
				}
				r.head += "TRAILER " + line
			}
		}
	case req.ContentLength > 0:
		r.body = make([]byte, req.ContentLength)
		_, err = io.ReadFull(c.br, r.body)
	}
	if err != nil {
		return nil, err
	}
	c.o.mu.Lock()
	c.o.reqs = append(c.o.reqs, r)
	c.o.mu.Unlock()
	return r, nil
}

func (c *originConn) send(s string) {
	c.Conn.Write([]byte(s))
}

// echoOrigin answers every request with 200 and a body naming the path and
// echoing the request body, keeping connections alive.
func echoOrigin(t *testing.T) *origin {
	return newOrigin(t, func(c *originConn) {
		for {
			r, err := c.read()
			if err != nil {
				return
			}
			body := "path=" + r.req.URL.RequestURI() + " body=" + string(r.body)
			c.send("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body)
		}
	})
}

// client is a raw TCP client.
type client struct {
	t  *testing.T
	c  net.Conn
	br *bufio.Reader
}

func dial(t *testing.T, addr string) *client {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &client{t: t, c: c, br: bufio.NewReader(c)}
}

func (c *client) send(s string) {
	c.t.Helper()
	if _, err := c.c.Write([]byte(s)); err != nil {
		c.t.Fatalf("client write: %v", err)
	}
}

// response reads one response to a request with the given method.
func (c *client) response(method string) *http.Response {
	c.t.Helper()
	r, err := c.tryResponse(method)
	if err != nil {
		c.t.Fatalf("client read response: %v", err)
	}
	return r
}

func (c *client) tryResponse(method string) (*http.Response, error) {
	c.c.SetReadDeadline(time.Now().Add(ioTimeout))
	r, err := http.ReadResponse(c.br, &http.Request{Method: method})
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	r.Body = io.NopCloser(bytes.NewReader(b))
	return r, nil
}

// rawResponseHead reads the raw head bytes of the next response.
func (c *client) rawHead() string {
	c.t.Helper()
	c.c.SetReadDeadline(time.Now().Add(ioTimeout))
	var b strings.Builder
	for {
		line, err := c.br.ReadString('\n')
		b.WriteString(line)
		if err != nil {
			c.t.Fatalf("raw head: %q: %v", b.String(), err)
		}
		if line == "\r\n" {
			return b.String()
		}
	}
}

// readN reads exactly n bytes.
func (c *client) readN(n int) string {
	c.t.Helper()
	c.c.SetReadDeadline(time.Now().Add(ioTimeout))
	b := make([]byte, n)
	if _, err := io.ReadFull(c.br, b); err != nil {
		c.t.Fatalf("readN(%d): %q %v", n, b, err)
	}
	return string(b)
}

// expectClosed asserts the proxy closes the connection (EOF or reset) with
// nothing more to read.
func (c *client) expectClosed() {
	c.t.Helper()
	c.c.SetReadDeadline(time.Now().Add(ioTimeout))
	b, err := io.ReadAll(c.br)
	if len(b) > 0 {
		c.t.Fatalf("unexpected bytes before close: %q", b)
	}
	if err != nil && isTimeout(err) {
		c.t.Fatalf("connection not closed: %v", err)
	}
}

// readAll reads until the proxy closes.
func (c *client) readAll() string {
	c.t.Helper()
	c.c.SetReadDeadline(time.Now().Add(ioTimeout))
	b, err := io.ReadAll(c.br)
	if err != nil && !errors.Is(err, net.ErrClosed) && !strings.Contains(err.Error(), "reset") {
		c.t.Fatalf("readAll: %q %v", b, err)
	}
	return string(b)
}

func body(t *testing.T, r *http.Response) string {
	t.Helper()
	b, _ := io.ReadAll(r.Body)
	return string(b)
}

func crlf(s string) string { return strings.ReplaceAll(s, "|", "\r\n") }
