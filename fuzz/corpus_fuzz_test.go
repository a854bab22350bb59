package fuzz

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/proxyspec/proxyspec/corpus"
)

// FuzzCaseParse: no case file, however broken, makes the loader panic; a file it accepts has the
// required parts.
func FuzzCaseParse(f *testing.F) {
	root := filepath.Join("..", "corpus")
	_ = filepath.WalkDir(filepath.Join(root, "cases"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".case") {
			if data, err := os.ReadFile(p); err == nil {
				f.Add(data)
			}
		}
		return nil
	})
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := corpus.Parse("cases/fuzz/case.case", data)
		if err != nil {
			return
		}
		if c.ID == "" || len(c.Expect) == 0 || len(c.RFC) == 0 || len(c.Client) == 0 || len(c.Requests) == 0 {
			t.Fatalf("accepted a case without its required parts: %+v", c)
		}
	})
}

// FuzzEscapeRoundTrip: any byte string written with corpus.Escape into a case file's send section
// is sent back exactly, so every transcript can become a case and every byte is representable.
func FuzzEscapeRoundTrip(f *testing.F) {
	for _, s := range clientSeeds(f, "127.0.0.1:8080") {
		f.Add(s)
	}
	f.Add([]byte("GET / HTTP/1.1\nHost: x\r\n\r\n"))
	f.Add([]byte("\x00\r\r\n \t\xff{nonce}\\"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		esc := corpus.Escape(data)
		text := "id: fuzz/case\ntitle: t\nrfc: RFC9112 2 \"q\"\nlevel: MAY\nexpect: a=none\n-- client send --\n" +
			strings.TrimSuffix(esc, "\n") + "\n"
		c, err := corpus.Parse("cases/fuzz/case.case", []byte(text))
		if err != nil {
			t.Fatalf("escaped bytes do not parse: %v\n%s", err, text)
		}
		got := c.Client[0].Bytes.Expand(corpus.Vars{})
		if !bytes.Equal(got, data) {
			t.Fatalf("round trip changed the bytes:\n in: %q\nout: %q\nesc: %s", data, got, esc)
		}
	})
}
