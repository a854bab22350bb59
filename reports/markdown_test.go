package reports

import (
	"bytes"
	"errors"
	"io"
	"regexp"
	"strings"
	"testing"
)

func writeMarkdown(t *testing.T, r *Run) string {
	t.Helper()
	var b bytes.Buffer
	if err := WriteMarkdown(&b, r); err != nil {
		t.Fatalf("WriteMarkdown: %v", err)
	}
	return b.String()
}

func TestMarkdownSections(t *testing.T) {
	md := writeMarkdown(t, sampleRun())
	for _, want := range []string{
		"# proxyspec report: refproxy 0.4.0-dev at 127.0.0.1:18080\n",
		"forwarding to the harness origin `127.0.0.1:19081`",
		"## Summary\n",
		"| FAIL      |      2 |",
		"| **Total** | **44** |",
		"Baseline: 1 expected failure, 1 unexpected pass.",
		"## By family\n",
		"| cl-te        |     8 |    1 |     · |",
		"## Failures (2)\n",
		"### FAIL `cl-te/both-present` (MUST)\n",
		"### FAIL `header/space-before-colon` (MUST) — expected by the baseline\n",
		"- **RFC9112 §6.1:** “Regardless, the server MUST close the connection after responding to such a request”",
		"  - FAIL `no-desync`: origin received",
		"`client#1 proxy>client (read deadline passed)`",
		"## Errors (1)\n",
		"### ERROR `range/multi` (SHOULD)",
		"## Warnings (1)\n",
		"## Choices (INFO, 1)\n",
		"| `chunked/ext-quoted-crlf` | MAY   | forward | outcome forward held",
		"## Unexpected passes (1)\n",
		"## Skipped (1)\n",
		"| target lacks capability \"upgrade\" |     1 | `upgrade/websocket-101` |",
		// Evidence as is, each stream in a fenced block; the final empty line (a CRLF) is kept.
		"```\nGET /ps3f9a1c0b2d/a HTTP/1.1\nHost: 127.0.0.1:18080\nX-A: 1\n\\tfolded\n\n```\n",
		"X: \\c\n```",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks %q", want)
		}
	}
	// Sections come in order of severity.
	order := []string{"## Summary", "## By family", "## Failures", "## Errors", "## Warnings", "## Choices", "## Unexpected passes", "## Skipped"}
	last := -1
	for _, h := range order {
		i := strings.Index(md, h)
		if i < last {
			t.Errorf("section %q is out of order", h)
		}
		last = i
	}
	// Passing cases are counted, not listed.
	if strings.Contains(md, "generated-01") {
		t.Errorf("Markdown lists passing cases")
	}
}

func TestMarkdownFencesBalanced(t *testing.T) {
	md := writeMarkdown(t, hostileRun())
	// Every fence opener is closed by a fence of the same length, and no evidence line can close
	// it early (the hostile run has ``` inside its evidence).
	fence := regexp.MustCompile("^(`{3,})$")
	open := ""
	for i, line := range strings.Split(md, "\n") {
		m := fence.FindStringSubmatch(line)
		switch {
		case m == nil:
		case open == "":
			open = m[1]
		case m[1] == open:
			open = ""
		case len(m[1]) >= len(open):
			t.Errorf("line %d: fence %q closes %q", i+1, m[1], open)
		}
	}
	if open != "" {
		t.Errorf("unclosed fence %q", open)
	}
	if !strings.Contains(md, "````\n") {
		t.Errorf("evidence containing ``` is not fenced with ````")
	}
}

func TestMarkdownHostileText(t *testing.T) {
	md := writeMarkdown(t, hostileRun())
	for _, b := range []byte{0x00, 0x1b, 0x7f} {
		if strings.IndexByte(md, b) >= 0 {
			t.Errorf("output contains byte %#02x (a terminal would act on it)", b)
		}
	}
	if strings.Contains(md, "\u202e") {
		t.Errorf("output contains a bidi override")
	}
	// Outside code, markup is escaped so that renderers show it as text.
	outside := regexp.MustCompile("(?s)```+.*?```+|`[^`\n]*`").ReplaceAllString(md, "")
	if strings.Contains(outside, "<script>") {
		t.Errorf("unescaped <script> outside code")
	}
	for _, want := range []string{
		`- **Reason:** reason \<script\>alert(1)\</script\>\x00\x1b\[31m\]\]\>\&amp;"'\nsecond line\r\x7f\u202e\xff`,
		"<script>alert(2)</script>\\x00```", // in evidence: as is
		"### FAIL `odd/nil-evidence` (MUST)",
		"### MAYBE `odd/unknown-verdict`\n", // listed with the errors
	} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks %q", want)
		}
	}
}

func TestMarkdownText(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain text", "plain text"},
		{"a*b* _c_ x_y", `a\*b\* \_c\_ x_y`},
		{`got "1\tfolded"`, `got "1\tfolded"`}, // \t is no Markdown escape: kept readable
		{`a\"b \\`, `a\\"b \\\`},
		{"a|b <i> [x](y) `c` ~d~ &amp;", `a\|b \<i\> \[x\](y) \` + "`" + `c\` + "`" + ` \~d\~ \&amp;`},
		{"line\nbreak", `line\nbreak`},
	} {
		if got := mdText(tc.in); got != tc.want {
			t.Errorf("mdText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	for _, tc := range []struct{ in, want string }{
		{"a/b", "`a/b`"},
		{"a`b", "``a`b``"},
		{"`a", "`` `a ``"},
		{"", ""},
	} {
		if got := mdCode(tc.in); got != tc.want {
			t.Errorf("mdCode(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestMarkdownEmptyAndErrors(t *testing.T) {
	md := writeMarkdown(t, &Run{})
	for _, want := range []string{"# proxyspec report\n", "| **Total** | **0** |", "No cases were run."} {
		if !strings.Contains(md, want) {
			t.Errorf("empty run: Markdown lacks %q:\n%s", want, md)
		}
	}
	if err := WriteMarkdown(io.Discard, nil); err == nil {
		t.Errorf("WriteMarkdown(nil) succeeded")
	}
	if err := WriteMarkdown(&failWriter{err: errors.New("broken pipe")}, sampleRun()); err == nil || !strings.Contains(err.Error(), "broken pipe") {
		t.Errorf("write error not reported: %v", err)
	}
}
