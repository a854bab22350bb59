package main

import (
	"bytes"
	"context"
	"encoding/xml"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxyspec/proxyspec/reports"
)

// A small corpus on disk: one case a byte relay fails (it forwards CL and TE together) and one
// it passes.
const relayFails = `id: toy/cl-te
title: both Content-Length and Transfer-Encoding
rfc: RFC9112 6.1 "Regardless, the server MUST close the connection after responding to such a request"
level: MUST
tags: smuggling
expect reject: a=400 origin=none close
expect te-wins: a=2xx origin=a body.a="hello" close
-- client send --
POST /{nonce}/a HTTP/1.1
Host: {host}
Content-Length: 3
Transfer-Encoding: chunked

5
hello
0

`

const relayPasses = `id: toy/plain-get
title: a plain GET
rfc: RFC9112 3 "A request-line begins with a method token"
level: MUST
expect: a=200 origin=a
-- client send --
GET /{nonce}/a HTTP/1.1
Host: {host}

`

func writeCorpus(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range map[string]string{"toy/cl-te.case": relayFails, "toy/plain-get.case": relayPasses} {
		p := filepath.Join(dir, "cases", name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
	}
	return dir
}

// listen starts a TCP server on loopback; handle runs per connection.
func listen(t *testing.T, handle func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() { defer wg.Done(); handle(c) }()
		}
	}()
	return ln.Addr().String()
}

// freePort returns a loopback address nothing listens on.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// relay is a transparent byte relay to origin: a "proxy" that changes nothing.
func relay(t *testing.T, origin string) string {
	return listen(t, func(c net.Conn) {
		defer c.Close()
		u, err := net.Dial("tcp", origin)
		if err != nil {
			return
		}
		defer u.Close()
		go func() { io.Copy(u, c); u.(*net.TCPConn).CloseWrite() }()
		io.Copy(c, u)
	})
}

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	t.Setenv("PROXYSPEC_LAST", filepath.Join(t.TempDir(), "last.json"))
	var out, errb bytes.Buffer
	code := realMain(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestRunTargetDownExits2(t *testing.T) {
	start := time.Now()
	code, _, stderr := runCLI(t, "run", "--target", freePort(t), "--origin", "127.0.0.1:0", "--deadline", "300ms")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "not accepting connections")
	assert.Less(t, time.Since(start), 10*time.Second)
}

func TestRunSilentTargetExits2WithoutHanging(t *testing.T) {
	silent := listen(t, func(c net.Conn) {
		defer c.Close()
		io.Copy(io.Discard, c) // reads everything, never answers
	})
	start := time.Now()
	code, _, stderr := runCLI(t, "run", "--target", silent, "--origin", "127.0.0.1:0", "--deadline", "300ms")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "did not reach the harness origin")
	assert.Less(t, time.Since(start), 10*time.Second)
}

func TestRunFindingsBaselineAndReports(t *testing.T) {
	dir := writeCorpus(t)
	originAddr := freePort(t)
	target := relay(t, originAddr)
	out := t.TempDir()
	jsonOut, junitOut := filepath.Join(out, "r.json"), filepath.Join(out, "r.xml")
	htmlOut, mdOut := filepath.Join(out, "r.html"), filepath.Join(out, "r.md")
	base := filepath.Join(out, "baseline.txt")

	code, stdout, stderr := runCLI(t, "run", "--corpus", dir, "--target", target, "--origin", originAddr,
		"--deadline", "500ms", "--json", jsonOut, "--junit", junitOut, "--html", htmlOut, "--markdown", mdOut,
		"--write-baseline", base)
	require.Equal(t, 1, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
	assert.Contains(t, stdout, "FAIL  toy/cl-te [MUST]")
	assert.Contains(t, stdout, "both Content-Length and Transfer-Encoding")
	for _, f := range []string{jsonOut, junitOut, htmlOut, mdOut, base} {
		st, err := os.Stat(f)
		require.NoError(t, err)
		assert.NotZero(t, st.Size(), f)
	}
	f, err := os.Open(jsonOut)
	require.NoError(t, err)
	defer f.Close()
	run, err := reports.ReadJSON(f)
	require.NoError(t, err)
	assert.Equal(t, 2, run.Summary.Total)
	assert.Equal(t, 1, run.Summary.Fail)
	assert.Equal(t, 1, run.Summary.Pass)

	// The written baseline makes the known failure expected: exit 0.
	code, stdout, _ = runCLI(t, "run", "--corpus", dir, "--target", target, "--origin", originAddr,
		"--deadline", "500ms", "--baseline", base)
	assert.Equal(t, 0, code, stdout)
	assert.Contains(t, stdout, "1 expected by baseline")

	// A baseline entry that passes is reported as an unexpected pass.
	require.NoError(t, os.WriteFile(base, []byte("toy/plain-get\n"), 0o644))
	code, stdout, _ = runCLI(t, "run", "--corpus", dir, "--case", "toy/plain-get", "--target", target,
		"--origin", originAddr, "--deadline", "500ms", "--baseline", base)
	assert.Equal(t, 0, code)
	assert.Contains(t, stdout, "unexpected pass: toy/plain-get")
}

func TestUsageErrorsExit2(t *testing.T) {
	tests := [][]string{
		{},
		{"frobnicate"},
		{"run"},
		{"run", "--target", "127.0.0.1:1"},
		{"run", "--target", "127.0.0.1:1", "--launch", "refproxy"},
		{"run", "--launch", "nosuchproxy"},
		{"run", "--target", "127.0.0.1:1", "--origin", "127.0.0.1:0", "--level", "OFTEN"},
		{"run", "--target", "127.0.0.1:1", "--origin", "127.0.0.1:0", "--baseline", "/nonexistent/b.txt"},
		{"run", "--target", "127.0.0.1:1", "--origin", "127.0.0.1:0", "--json", "/nonexistent/dir/r.json"},
		{"show"},
		{"show", "no/such-case"},
	}
	for _, args := range tests {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			code, _, stderr := runCLI(t, args...)
			assert.Equal(t, 2, code)
			assert.NotEmpty(t, stderr)
		})
	}
}

func TestListShowExport(t *testing.T) {
	dir := writeCorpus(t)
	code, out, _ := runCLI(t, "list", "--corpus", dir, "--tag", "smuggling")
	assert.Equal(t, 0, code)
	assert.Equal(t, "toy/cl-te\n", out)

	code, out, _ = runCLI(t, "show", "--corpus", dir, "toy/cl-te")
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "RFC9112 §6.1")
	assert.Contains(t, out, "Transfer-Encoding: chunked")

	code, out, _ = runCLI(t, "export", "--corpus", dir)
	assert.Equal(t, 0, code)
	assert.Contains(t, out, `"schema": "proxyspec-corpus/1"`)
}

// TestAcceptanceRunAgainstRefproxy is the acceptance command: the whole suite against the
// reference proxy with every report; it exits 0 and the reports validate.
func TestAcceptanceRunAgainstRefproxy(t *testing.T) {
	if testing.Short() {
		t.Skip("launches refproxy")
	}
	out := t.TempDir()
	r := func(n string) string { return filepath.Join(out, n) }
	code, stdout, stderr := runCLI(t, "run", "--launch", "refproxy", "--json", r("r.json"), "--junit", r("r.xml"),
		"--html", r("r.html"), "--markdown", r("r.md"))
	require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
	assert.Contains(t, stdout, " 0 fail, 0 warn")

	data, err := os.ReadFile(r("r.json"))
	require.NoError(t, err)
	sch := compileResultSchema(t)
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	require.NoError(t, err)
	require.NoError(t, sch.Validate(doc), "the JSON result validates against reports/schema/result.schema.json")

	run, err := reports.ReadJSON(bytes.NewReader(data))
	require.NoError(t, err)
	assert.Greater(t, run.Summary.Total, 60)
	assert.Zero(t, run.Summary.Fail+run.Summary.Warn+run.Summary.Error)

	// JUnit: well-formed, one testcase per case, each named, counts consistent.
	x, err := os.ReadFile(r("r.xml"))
	require.NoError(t, err)
	var suites struct {
		Tests  int `xml:"tests,attr"`
		Suites []struct {
			Tests int `xml:"tests,attr"`
			Cases []struct {
				Name      string `xml:"name,attr"`
				Classname string `xml:"classname,attr"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	require.NoError(t, xml.Unmarshal(x, &suites))
	n := 0
	for _, s := range suites.Suites {
		assert.Equal(t, s.Tests, len(s.Cases))
		for _, c := range s.Cases {
			assert.NotEmpty(t, c.Name)
			assert.NotEmpty(t, c.Classname)
			n++
		}
	}
	assert.Equal(t, run.Summary.Total, n)
	assert.Equal(t, suites.Tests, n)
	if xmllint, err := exec.LookPath("xmllint"); err == nil {
		msg, err := exec.Command(xmllint, "--noout", "--nonet", "--schema", "../../../reports/schema/junit.xsd", r("r.xml")).CombinedOutput()
		assert.NoError(t, err, "xmllint: %s", msg)
	}
	html, err := os.ReadFile(r("r.html"))
	require.NoError(t, err)
	assert.Contains(t, string(html), "transfer-encoding/trailing-comma")
	md, err := os.ReadFile(r("r.md"))
	require.NoError(t, err)
	assert.Contains(t, string(md), "## Summary")
}

func compileResultSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(reports.ResultSchema))
	require.NoError(t, err)
	c := jsonschema.NewCompiler()
	require.NoError(t, c.AddResource("result.schema.json", doc))
	s, err := c.Compile("result.schema.json")
	require.NoError(t, err)
	return s
}
