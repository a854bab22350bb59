package reports

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// go test ./reports -run TestWriteSamples -write-samples /tmp writes the sample run in every format,
// to look at the reports by eye.
var writeSamples = flag.String("write-samples", "", "directory to write sample reports to")

func TestWriteSamples(t *testing.T) {
	if *writeSamples == "" {
		t.Skip("set -write-samples DIR to write sample reports")
	}
	r := sampleRun()
	for _, f := range []struct {
		name  string
		write func(*bytes.Buffer, *Run) error
	}{
		{"sample.json", func(b *bytes.Buffer, r *Run) error { return WriteJSON(b, r) }},
		{"sample.xml", func(b *bytes.Buffer, r *Run) error { return WriteJUnit(b, r) }},
		{"sample.md", func(b *bytes.Buffer, r *Run) error { return WriteMarkdown(b, r) }},
		{"sample.html", func(b *bytes.Buffer, r *Run) error { return WriteHTML(b, r) }},
	} {
		var b bytes.Buffer
		if err := f.write(&b, r); err != nil {
			t.Fatalf("%s: %v", f.name, err)
		}
		path := filepath.Join(*writeSamples, f.name)
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s (%d bytes)", path, b.Len())
	}
}

// lines joins escaped lines as a Stream's Data holds them (each line implicitly ends in CRLF).
func lines(ls ...string) string { return strings.Join(ls, "\n") }

// sampleRun is a realistic run: every verdict, both baseline marks, findings from every oracle,
// evidence on client and origin connections with notes and escapes, and a case without evidence.
func sampleRun() *Run {
	const nonce = "ps3f9a1c0b2d"
	r := &Run{
		Schema:   Schema,
		Tool:     Tool{Name: "proxyspec", Version: "0.4.0"},
		Target:   Target{Name: "refproxy", Version: "0.4.0-dev", Address: "127.0.0.1:18080", Origin: "127.0.0.1:19081", Capabilities: []string{"range-filter", "keepalive-limit-2"}},
		Started:  time.Date(2026, 5, 4, 9, 30, 12, 345_000_000, time.UTC),
		Duration: 2314.7,
		Options:  Options{ReadDeadlineMS: 500, Parallel: 8, Filters: []string{"tag=smuggling"}, Baseline: "ci/refproxy.baseline"},
		Cases: []CaseResult{
			{
				ID: "cl-te/both-present", Title: "request carries both Transfer-Encoding and Content-Length",
				Level: "MUST", Tags: []string{"cl-te", "smuggling"}, Vectors: []int{1, 2},
				RFC: []Ref{
					{Doc: "RFC9112", Section: "6.1", Quote: "Regardless, the server MUST close the connection after responding to such a request"},
					{Doc: "RFC9112", Section: "6.3", Quote: "an intermediary that chooses to forward the message MUST first remove the received Content-Length field"},
				},
				Verdict: Fail, Reason: "origin saw request \"smuggled\" that the client never sent whole (desync)",
				Findings: []Finding{
					{Verdict: Fail, Oracle: "no-desync", Message: "origin received /" + nonce + "/smuggled on origin#1, a request hidden in the body of a"},
					{Verdict: Fail, Oracle: "forwarded-cleanly", Message: "request a forwarded with both Content-Length and Transfer-Encoding"},
					{Verdict: Fail, Oracle: "expect", Message: "no outcome held: reject (a=200, want 400), te-wins (origin saw a,smuggled, want a)"},
				},
				Duration: 41.2,
				Evidence: &Evidence{Streams: []Stream{
					{Conn: "client#1", Dir: "client>proxy", Data: lines("POST /"+nonce+"/a HTTP/1.1", "Host: 127.0.0.1:18080", "Content-Length: 41", "Transfer-Encoding: chunked", "", "0", "", "GET /"+nonce+"/smuggled HTTP/1.1", "X: \\c")},
					{Conn: "client#1", Dir: "proxy>client", Data: lines("HTTP/1.1 200 OK", "Content-Length: 20", "X-Proxyspec-Label: a", "", "echo "+nonce+"/a\\n"), Note: "read deadline passed"},
					{Conn: "origin#1", Dir: "proxy>origin", Data: lines("POST /"+nonce+"/a HTTP/1.1", "Host: 127.0.0.1:18080", "Content-Length: 41", "Transfer-Encoding: chunked", "Via: 1.1 refproxy", "", "0", "", "GET /"+nonce+"/smuggled HTTP/1.1", "X: \\c")},
					{Conn: "origin#1", Dir: "origin>proxy", Data: lines("HTTP/1.1 200 OK", "Content-Length: 20", "X-Proxyspec-Label: a", "", "echo "+nonce+"/a\\n")},
				}},
			},
			{
				ID: "cl-te/te-chunked-cl-smaller", Title: "Transfer-Encoding: chunked wins over a smaller Content-Length",
				Level: "MUST", Tags: []string{"cl-te", "smuggling"}, Vectors: []int{1},
				RFC:     []Ref{{Doc: "RFC9112", Section: "6.3", Quote: "If a message is received with both a Transfer-Encoding and a Content-Length header field, the Transfer-Encoding overrides the Content-Length."}},
				Verdict: Pass, Reason: "outcome reject held: a=400, origin saw nothing, connection closed", Outcome: "reject", Duration: 12.9,
				Evidence: &Evidence{Streams: []Stream{
					{Conn: "client#1", Dir: "client>proxy", Data: lines("POST /"+nonce+"/a HTTP/1.1", "Host: 127.0.0.1:18080", "Content-Length: 3", "Transfer-Encoding: chunked", "", "5", "hello", "0", "")},
					{Conn: "client#1", Dir: "proxy>client", Data: lines("HTTP/1.1 400 Bad Request", "Content-Length: 0", "Connection: close", ""), Note: "closed by proxy"},
				}},
			},
			{
				ID: "header/obs-fold", Title: "request header continued with obs-fold",
				Level: "SHOULD", Tags: []string{"header", "obs-fold"},
				RFC:     []Ref{{Doc: "RFC9112", Section: "5.2", Quote: "A proxy or gateway that receives an obs-fold in a request message that is not within a message/http container MUST either reject the message by sending a 400 (Bad Request) ... or replace each received obs-fold with one or more SP octets"}},
				Verdict: Warn, Reason: "forwarded X-A as \"1\\tfolded\": tab kept where SP is recommended", Outcome: "", Duration: 9.4,
				Findings: []Finding{{Verdict: Warn, Oracle: "expect", Message: "fwd.a.hdr.x-a: got \"1\\tfolded\", want \"1 folded\""}},
				Evidence: &Evidence{Streams: []Stream{
					{Conn: "client#1", Dir: "client>proxy", Data: lines("GET /"+nonce+"/a HTTP/1.1", "Host: 127.0.0.1:18080", "X-A: 1", "\\tfolded", "")},
					{Conn: "client#1", Dir: "proxy>client", Data: lines("HTTP/1.1 200 OK", "Content-Length: 20", "", "echo "+nonce+"/a\\n")},
					{Conn: "origin#1", Dir: "proxy>origin", Data: lines("GET /"+nonce+"/a HTTP/1.1", "Host: 127.0.0.1:18080", "X-A: 1\\tfolded", "")},
					{Conn: "origin#1", Dir: "origin>proxy", Data: lines("HTTP/1.1 200 OK", "Content-Length: 20", "X-Proxyspec-Label: a", "", "echo "+nonce+"/a\\n")},
				}},
			},
			{
				ID: "header/space-before-colon", Title: "whitespace between field name and colon",
				Level: "MUST", Tags: []string{"header", "smuggling"}, Vectors: []int{7},
				RFC:     []Ref{{Doc: "RFC9112", Section: "5.1", Quote: "A server MUST reject, with a response status code of 400 (Bad Request), any received request message that contains whitespace between a header field name and colon."}},
				Verdict: Fail, Baseline: BaselineExpected, Reason: "a=200, want 400: \"Transfer-Encoding\\s: chunked\" was forwarded", Duration: 8.1,
				Findings: []Finding{{Verdict: Fail, Oracle: "forwarded-cleanly", Message: "whitespace before colon in field \"Transfer-Encoding \""}},
				Evidence: &Evidence{Streams: []Stream{
					{Conn: "client#1", Dir: "client>proxy", Data: lines("POST /"+nonce+"/a HTTP/1.1", "Host: 127.0.0.1:18080", "Transfer-Encoding\\s: chunked", "", "0", "")},
					{Conn: "client#1", Dir: "proxy>client", Data: lines("HTTP/1.1 200 OK", "Content-Length: 20", "", "echo "+nonce+"/a\\n")},
					{Conn: "origin#1", Dir: "proxy>origin", Data: lines("POST /"+nonce+"/a HTTP/1.1", "Host: 127.0.0.1:18080", "Transfer-Encoding : chunked", "", "0", "")},
				}},
			},
			{
				ID: "header/bare-lf", Title: "request head lines end in bare LF",
				Level: "MAY", Tags: []string{"header", "line-ending"},
				RFC:     []Ref{{Doc: "RFC9112", Section: "2.2", Quote: "A recipient MAY recognize a single LF as a line terminator and ignore any preceding CR."}},
				Verdict: Pass, Baseline: BaselineUnexpectedPass, Reason: "outcome reject held: a=400", Outcome: "reject", Duration: 6.6,
				Evidence: &Evidence{Streams: []Stream{
					{Conn: "client#1", Dir: "client>proxy", Data: lines("GET /"+nonce+"/a HTTP/1.1\\n", "Host: 127.0.0.1:18080\\n", "\\n\\c")},
					{Conn: "client#1", Dir: "proxy>client", Data: lines("HTTP/1.1 400 Bad Request", "Content-Length: 0", "Connection: close", ""), Note: "closed by proxy"},
				}},
			},
			{
				ID: "chunked/ext-quoted-crlf", Title: "chunk extension with a quoted CRLF",
				Level: "MAY", Tags: []string{"chunked", "smuggling"}, Vectors: []int{11},
				RFC:     []Ref{{Doc: "RFC9112", Section: "7.1.1", Quote: "A recipient MUST ignore unrecognized chunk extensions."}},
				Verdict: Info, Reason: "outcome forward held (not the first listed): body a=\"hello\"", Outcome: "forward", Duration: 10.2,
				Evidence: &Evidence{Streams: []Stream{
					{Conn: "client#1", Dir: "client>proxy", Data: lines("POST /"+nonce+"/a HTTP/1.1", "Host: 127.0.0.1:18080", "Transfer-Encoding: chunked", "", "5;x=\"\\r", "\"", "hello", "0", "")},
				}},
			},
			{
				ID: "upgrade/websocket-101", Title: "Upgrade: websocket answered 101 by the origin",
				Level: "MUST", Tags: []string{"upgrade"},
				RFC:     []Ref{{Doc: "RFC9110", Section: "7.8", Quote: "A server MUST NOT switch to a protocol that was not indicated by the client in the corresponding request's Upgrade header field."}},
				Verdict: Skip, Reason: "target lacks capability \"upgrade\"",
			},
			{
				ID: "range/multi", Title: "multiple ranges answered as multipart/byteranges",
				Level: "SHOULD", Tags: []string{"range"},
				RFC:     []Ref{{Doc: "RFC9110", Section: "14.6", Quote: "When multiple ranges are requested, a server MAY coalesce any of the ranges that overlap"}},
				Verdict: Error, Reason: "dial 127.0.0.1:18080: connect: connection refused", Duration: 0.4,
				Findings: []Finding{{Verdict: Error, Oracle: "harness", Message: "dial tcp 127.0.0.1:18080: connect: connection refused"}},
			},
		},
	}
	fams := []string{"cl-te", "te", "chunked", "header", "request-line", "response", "connection"}
	for i := range 36 {
		fam := fams[i%len(fams)]
		r.Cases = append(r.Cases, CaseResult{
			ID: fmt.Sprintf("%s/generated-%02d", fam, i), Title: fmt.Sprintf("generated %s case %d", fam, i),
			Level: []string{"MUST", "SHOULD", "MAY"}[i%3], Tags: []string{fam},
			RFC:     []Ref{{Doc: "RFC9112", Section: "6.3", Quote: "The length of a message body is determined by one of the following"}},
			Verdict: Pass, Reason: "outcome forward held", Outcome: "forward", Duration: float64(i%9) + 3.5,
			Evidence: &Evidence{Streams: []Stream{
				{Conn: "client#1", Dir: "client>proxy", Data: lines(fmt.Sprintf("GET /%s/a HTTP/1.1", nonce), "Host: 127.0.0.1:18080", "")},
			}},
		})
	}
	r.Count()
	return r
}

// hostileRun is sampleRun with markup, control characters and odd shapes in every string a
// report shows.
func hostileRun() *Run {
	r := sampleRun()
	const evil = "<script>alert(1)</script>\x00\x1b[31m]]>&amp;\"'"
	r.Target.Name = "evil" + evil
	r.Target.Version = "</title><script>x()</script>"
	r.Tool.Version = evil
	c := &r.Cases[0]
	c.Title = "title " + evil
	c.Reason = "reason " + evil + "\nsecond line\r\x7f\u202e\xff"
	c.Tags = append(c.Tags, "<b>tag</b>")
	c.RFC[0].Quote = "quote " + evil
	c.Findings[0].Message = "finding " + evil
	c.Evidence.Streams[0].Data += "\n<script>alert(2)</script>\x00```\n"
	c.Evidence.Streams[1].Note = "note " + evil
	r.Cases = append(r.Cases,
		CaseResult{ID: "odd/nil-evidence", Verdict: Fail, Level: "MUST", Reason: "no evidence, no RFC, no tags"},
		CaseResult{ID: "odd/empty-evidence", Verdict: Warn, Level: "SHOULD", Evidence: &Evidence{}},
		CaseResult{ID: "odd/unknown-verdict", Verdict: "MAYBE", Reason: "verdict from the future"},
		CaseResult{ID: "", Verdict: Info, Reason: "no id"},
		CaseResult{ID: "odd/nan-duration", Verdict: Pass, Duration: -1},
	)
	r.Count()
	return r
}
