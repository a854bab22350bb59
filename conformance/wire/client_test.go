package wire

import (
	"context"
	"net"
	"testing"
	"time"
)

// serveOnce accepts one connection on a fresh listener and runs f on it.
func serveOnce(t *testing.T, f func(c *net.TCPConn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() {
		_ = ln.Close()
		<-done
	})
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		f(c.(*net.TCPConn))
	}()
	return ln.Addr().String()
}

// readHead reads from c until the end of a request head.
func readHead(c net.Conn) {
	var b []byte
	buf := make([]byte, 1024)
	for headEnd(b, 0) < 0 {
		n, err := c.Read(buf)
		if err != nil {
			return
		}
		b = append(b, buf[:n]...)
	}
}

func TestClientEnds(t *testing.T) {
	const n = "ps0123456789"
	tests := []struct {
		name               string
		server             func(c *net.TCPConn)
		want               WaitResult
		closed, reset      bool
		finals             int
		complete, parseErr bool
	}{
		{
			name: "EOF",
			server: func(c *net.TCPConn) {
				readHead(c)
				_, _ = c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
			},
			want: WaitClosed, closed: true, finals: 1, complete: true,
		},
		{
			name: "reset",
			server: func(c *net.TCPConn) {
				readHead(c)
				_ = c.SetLinger(0)
			},
			want: WaitClosed, closed: true, reset: true,
		},
		{
			name: "silent",
			server: func(c *net.TCPConn) {
				readHead(c)
				_, _ = c.Read(make([]byte, 1)) // until the client closes
			},
			want: WaitIdle,
		},
		{
			name: "cut short",
			server: func(c *net.TCPConn) {
				readHead(c)
				_, _ = c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\npart"))
				_, _ = c.Read(make([]byte, 1))
			},
			want: WaitIdle, finals: 1,
		},
		{
			name: "partial head then EOF",
			server: func(c *net.TCPConn) {
				readHead(c)
				_, _ = c.Write([]byte("HTTP/1.1 200 OK\r\nContent"))
			},
			want: WaitClosed, closed: true, parseErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := serveOnce(t, tt.server)
			start := time.Now()
			c, err := Dial(context.Background(), addr, DialOptions{ID: 7, Start: start, Nonce: n, Labels: []string{"a"}})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Close() })
			send(t, c, "GET /"+n+"/a HTTP/1.1\r\nHost: x\r\n\r\n")
			const idle = 100 * time.Millisecond
			got := c.Wait(context.Background(), idle, func(*ClientConn) bool { return false })
			if got != tt.want {
				t.Fatalf("Wait = %v, want %v", got, tt.want)
			}
			if got == WaitIdle {
				if e := time.Since(start); e < idle {
					t.Errorf("idle wait returned after %v, before %v", e, idle)
				}
			}
			cc := c.Close()
			if cc.ID != 7 || cc.Closed != tt.closed || cc.Reset != tt.reset || len(cc.Final) != tt.finals || (cc.ParseError != "") != tt.parseErr {
				t.Errorf("ID %d Closed %v Reset %v Final %d ParseError %q", cc.ID, cc.Closed, cc.Reset, len(cc.Final), cc.ParseError)
			}
			if tt.finals > 0 && cc.Final[0].Complete != tt.complete {
				t.Errorf("Complete = %v", cc.Final[0].Complete)
			}
			if len(cc.Requests) != 1 || cc.Requests[0].Method != "GET" || cc.Requests[0].Version != "HTTP/1.1" {
				t.Errorf("Requests = %+v", cc.Requests)
			}
			equalBytes(t, "sent chunks", joined(cc.Chunks, ClientToProxy), cc.Sent)
			equalBytes(t, "received chunks", joined(cc.Chunks, ProxyToClient), cc.Received)
			for i := 1; i < len(cc.Chunks); i++ {
				if cc.Chunks[i].At < cc.Chunks[i-1].At {
					t.Errorf("chunks out of time order: %v", cc.Chunks)
				}
			}
		})
	}
}

func TestClientWaitCanceled(t *testing.T) {
	addr := serveOnce(t, func(c *net.TCPConn) { _, _ = c.Read(make([]byte, 1)) })
	c, err := Dial(context.Background(), addr, DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if r := c.Wait(ctx, time.Hour, func(*ClientConn) bool { return false }); r != WaitCanceled {
		t.Errorf("Wait = %v", r)
	}
	c.Close()
	c.Close() // idempotent
}
