// Package tlsconf builds the TLS configuration of an https listener: a
// certificate and key from PEM files, reloadable while the listener runs,
// and optional client-certificate verification (mTLS) against a CA bundle.
//
// The *tls.Config that Config returns is fixed; each handshake gets the
// latest loaded files through GetConfigForClient, so after Reload new
// handshakes use the new certificate (and CA bundle) while established
// connections are untouched.
package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
)

// ClientAuth is the client-certificate policy of a listener.
type ClientAuth string

// Client-certificate policies.
const (
	NoClientCert ClientAuth = "none"     // never ask for a certificate
	Optional     ClientAuth = "optional" // ask; verify one if sent
	Required     ClientAuth = "required" // require and verify one
)

// Files names the PEM files of a listener.
type Files struct {
	Cert string // certificate chain, leaf first
	Key  string // private key of the leaf
	// ClientCA is the bundle client certificates must chain to; required
	// unless ClientAuth is none.
	ClientCA   string
	ClientAuth ClientAuth // "" means none
}

// Server holds a listener's TLS configuration. It is safe for concurrent
// use.
type Server struct {
	files Files
	cur   atomic.Pointer[tls.Config]
	base  *tls.Config
}

// Load reads the files and returns a Server.
func Load(f Files) (*Server, error) {
	switch f.ClientAuth {
	case "":
		f.ClientAuth = NoClientCert
	case NoClientCert, Optional, Required:
	default:
		return nil, fmt.Errorf("tls: unknown client auth %q", f.ClientAuth)
	}
	if f.ClientAuth != NoClientCert && f.ClientCA == "" {
		return nil, fmt.Errorf("tls: client auth %s needs a client CA bundle", f.ClientAuth)
	}
	s := &Server{files: f}
	if err := s.Reload(); err != nil {
		return nil, err
	}
	s.base = &tls.Config{
		MinVersion: tls.VersionTLS12,
		NextProtos: []string{"http/1.1"},
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			return s.cur.Load(), nil
		},
	}
	return s, nil
}

// Config returns the configuration for tls.NewListener / tls.Server.
func (s *Server) Config() *tls.Config { return s.base }

// Reload reads the files again. On error the previous configuration stays
// in use.
func (s *Server) Reload() error {
	f := s.files
	cert, err := tls.LoadX509KeyPair(f.Cert, f.Key)
	if err != nil {
		return fmt.Errorf("tls: load certificate %s / key %s: %w", f.Cert, f.Key, err)
	}
	c := &tls.Config{
		MinVersion:   tls.VersionTLS12,
		NextProtos:   []string{"http/1.1"},
		Certificates: []tls.Certificate{cert},
	}
	switch f.ClientAuth {
	case Optional:
		c.ClientAuth = tls.VerifyClientCertIfGiven
	case Required:
		c.ClientAuth = tls.RequireAndVerifyClientCert
	}
	if f.ClientAuth != NoClientCert {
		pool, err := loadPool(f.ClientCA)
		if err != nil {
			return err
		}
		c.ClientCAs = pool
	}
	s.cur.Store(c)
	return nil
}

// Leaf returns the certificate in use.
func (s *Server) Leaf() *x509.Certificate {
	c := s.cur.Load()
	if c == nil || len(c.Certificates) == 0 {
		return nil
	}
	leaf := c.Certificates[0].Leaf
	if leaf == nil && len(c.Certificates[0].Certificate) > 0 {
		leaf, _ = x509.ParseCertificate(c.Certificates[0].Certificate[0])
	}
	return leaf
}

func loadPool(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tls: client CA bundle: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("tls: client CA bundle %s: %w", path, errNoCerts)
	}
	return pool, nil
}

var errNoCerts = errors.New("no PEM certificates found")
