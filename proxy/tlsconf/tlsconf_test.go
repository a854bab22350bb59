package tlsconf

import (
	"crypto/tls"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/proxyspec/proxyspec/proxy/internal/testpki"
)

// serve runs a TLS server on 127.0.0.1 that answers "ok" to each
// successful handshake.
func serve(t *testing.T, cfg *tls.Config) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tl := tls.NewListener(ln, cfg)
	t.Cleanup(func() { tl.Close() })
	go func() {
		for {
			c, err := tl.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(5 * time.Second))
				if err := c.(*tls.Conn).Handshake(); err != nil {
					return
				}
				io.WriteString(c, "ok")
			}()
		}
	}()
	return ln.Addr().String()
}

// dial handshakes and reads the server's "ok"; it returns the server's
// certificate name and the negotiated protocol.
func dial(addr string, cfg *tls.Config) (cn, proto string, err error) {
	d := &net.Dialer{Timeout: 5 * time.Second}
	c, err := tls.DialWithDialer(d, "tcp", addr, cfg)
	if err != nil {
		return "", "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	b := make([]byte, 2)
	if _, err := io.ReadFull(c, b); err != nil {
		return "", "", err
	}
	st := c.ConnectionState()
	return st.PeerCertificates[0].Subject.CommonName, st.NegotiatedProtocol, nil
}

func TestServeAndReload(t *testing.T) {
	dir := t.TempDir()
	ca := testpki.NewCA(t, "test CA")
	certFile, keyFile := ca.Server(t, "one").Write(t, dir, "server")
	s, err := Load(Files{Cert: certFile, Key: keyFile})
	if err != nil {
		t.Fatal(err)
	}
	addr := serve(t, s.Config())
	client := &tls.Config{RootCAs: ca.Pool(), ServerName: "127.0.0.1", NextProtos: []string{"http/1.1"}}
	cn, proto, err := dial(addr, client)
	if err != nil || cn != "one" || proto != "http/1.1" {
		t.Fatalf("first handshake: cn %q proto %q err %v", cn, proto, err)
	}

	// A failed reload keeps the certificate in use.
	os.WriteFile(keyFile, []byte("garbage"), 0o600)
	if err := s.Reload(); err == nil {
		t.Fatal("reload of a broken key succeeded")
	}
	if cn, _, err := dial(addr, client); err != nil || cn != "one" {
		t.Fatalf("after failed reload: cn %q err %v", cn, err)
	}

	ca.Server(t, "two").Write(t, dir, "server")
	if err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	if cn, _, err := dial(addr, client); err != nil || cn != "two" {
		t.Fatalf("after reload: cn %q err %v", cn, err)
	}
	if s.Leaf().Subject.CommonName != "two" {
		t.Errorf("Leaf: %v", s.Leaf().Subject)
	}
}

func TestClientAuth(t *testing.T) {
	dir := t.TempDir()
	ca := testpki.NewCA(t, "server CA")
	clientCA := testpki.NewCA(t, "client CA")
	other := testpki.NewCA(t, "other CA")
	certFile, keyFile := ca.Server(t, "srv").Write(t, dir, "server")
	caFile := clientCA.WriteCA(t, dir, "clients")
	good := clientCA.Client(t, "alice").TLS
	bad := other.Client(t, "mallory").TLS

	for _, tc := range []struct {
		name   string
		mode   ClientAuth
		cert   *tls.Certificate
		wantOK bool
	}{
		{"none/no cert", NoClientCert, nil, true},
		{"none/any cert", NoClientCert, &bad, true},
		{"optional/no cert", Optional, nil, true},
		{"optional/good cert", Optional, &good, true},
		{"optional/foreign cert", Optional, &bad, false},
		{"required/no cert", Required, nil, false},
		{"required/good cert", Required, &good, true},
		{"required/foreign cert", Required, &bad, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := Files{Cert: certFile, Key: keyFile, ClientAuth: tc.mode}
			if tc.mode != NoClientCert {
				f.ClientCA = caFile
			}
			s, err := Load(f)
			if err != nil {
				t.Fatal(err)
			}
			addr := serve(t, s.Config())
			cfg := &tls.Config{RootCAs: ca.Pool(), ServerName: "127.0.0.1"}
			if tc.cert != nil {
				// Send the certificate even when its issuer is not among
				// the CAs the server asks for.
				cert := tc.cert
				cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return cert, nil }
			}
			_, _, err = dial(addr, cfg)
			if (err == nil) != tc.wantOK {
				t.Errorf("handshake err %v, want ok=%v", err, tc.wantOK)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	ca := testpki.NewCA(t, "ca")
	certFile, keyFile := ca.Server(t, "srv").Write(t, dir, "server")
	junk := filepath.Join(dir, "junk.pem")
	os.WriteFile(junk, []byte("not pem"), 0o600)
	for _, tc := range []struct {
		name string
		f    Files
		want string
	}{
		{"missing cert", Files{Cert: filepath.Join(dir, "none"), Key: keyFile}, "load certificate"},
		{"bad mode", Files{Cert: certFile, Key: keyFile, ClientAuth: "maybe"}, "unknown client auth"},
		{"no CA", Files{Cert: certFile, Key: keyFile, ClientAuth: Required}, "needs a client CA"},
		{"missing CA", Files{Cert: certFile, Key: keyFile, ClientAuth: Required, ClientCA: filepath.Join(dir, "none")}, "client CA bundle"},
		{"junk CA", Files{Cert: certFile, Key: keyFile, ClientAuth: Optional, ClientCA: junk}, "no PEM certificates"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(tc.f)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err %v, want %q", err, tc.want)
			}
		})
	}
}
