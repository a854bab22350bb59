package proxy

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"
)

// benchOrigin is a minimal keep-alive origin: it reads bodyless request
// heads and answers each with a fixed response, so that the proxies, not
// the origin, dominate the cost.
func benchOrigin(b *testing.B, respBody []byte) string {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	resp := append([]byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: "+strconv.Itoa(len(respBody))+"\r\n\r\n"), respBody...)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					for {
						line, err := br.ReadSlice('\n')
						if err != nil {
							return
						}
						if len(line) == 2 {
							break
						}
					}
					if _, err := c.Write(resp); err != nil {
						return
					}
				}
			}()
		}
	}()
	b.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

// benchClients runs b.N GET requests over conns keep-alive connections to
// addr and reports requests per second.
func benchClients(b *testing.B, addr string, conns int) {
	b.Helper()
	req := []byte("GET /bench HTTP/1.1\r\nHost: bench.example\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n")
	clients := make([]net.Conn, conns)
	for i := range clients {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		clients[i] = c
	}
	var next sync.Mutex
	n := 0
	take := func() bool {
		next.Lock()
		defer next.Unlock()
		n++
		return n <= b.N
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			br := bufio.NewReaderSize(c, 16<<10)
			for take() {
				if _, err := c.Write(req); err != nil {
					b.Error(err)
					return
				}
				if err := readResponse(br); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
}

// readResponse reads one response with a Content-Length body.
func readResponse(br *bufio.Reader) error {
	cl := -1
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return err
		}
		if len(line) == 2 {
			break
		}
		if len(line) > 16 && (line[0] == 'C' || line[0] == 'c') && bytes.EqualFold(line[:16], []byte("content-length: ")) {
			cl, _ = strconv.Atoi(string(bytes.TrimSpace(line[16:])))
		}
	}
	if cl < 0 {
		return strconv.ErrSyntax
	}
	_, err := br.Discard(cl)
	return err
}

// BenchmarkProxy compares end-to-end proxied requests through refproxy and
// through httputil.ReverseProxy (net/http server + Transport), with the same
// origin and the same keep-alive clients.
func BenchmarkProxy(b *testing.B) {
	for _, size := range []int{16, 16 << 10} {
		respBody := bytes.Repeat([]byte("x"), size)
		b.Run("refproxy/body="+strconv.Itoa(size), func(b *testing.B) {
			origin := benchOrigin(b, respBody)
			p, err := Start(context.Background(), Options{
				Listeners: []ListenerOptions{{Addr: "127.0.0.1:0"}},
				Upstream:  UpstreamOptions{Addr: origin, MaxIdle: 64},
			})
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close()
			benchClients(b, p.Addr(0), 8)
		})
		b.Run("httputil/body="+strconv.Itoa(size), func(b *testing.B) {
			origin := benchOrigin(b, respBody)
			u, _ := url.Parse("http://" + origin)
			rp := httputil.NewSingleHostReverseProxy(u)
			rp.Transport = &http.Transport{MaxIdleConns: 64, MaxIdleConnsPerHost: 64}
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			srv := &http.Server{Handler: rp}
			go srv.Serve(ln)
			defer srv.Close()
			benchClients(b, ln.Addr().String(), 8)
		})
	}
}
