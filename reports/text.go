package reports

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// EvidenceLegend explains how stream data is written.
const EvidenceLegend = `each line ends in CRLF unless it ends in \n (bare LF), \r (bare CR) or \c (nothing); ` +
	`\t \s \0 \xHH \\ write other bytes`

// oneLine makes s safe to show on one line of any report: line breaks, tabs and every control
// character become visible escapes (\n, \r, \t, \xHH, \uHHHH), and invalid UTF-8 bytes become \xHH.
// Reports then cannot be broken (XML 1.0 forbids most C0 controls) nor carry terminal escape
// sequences to a reader's terminal.
func oneLine(s string) string { return visible(s, false) }

// multiLine is oneLine but keeps line feeds and tabs.
func multiLine(s string) string { return visible(s, true) }

func visible(s string, keepLines bool) string {
	if !needsEscape(s, keepLines) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case keepLines && (r == '\n' || r == '\t'):
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case badRune(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
		i += size
	}
	return b.String()
}

func needsEscape(s string, keepLines bool) bool {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			return true
		case keepLines && (r == '\n' || r == '\t'):
		case r < 0x20 || r == 0x7f || badRune(r):
			return true
		}
		i += size
	}
	return false
}

// badRune reports the non-ASCII runes no report shows raw: C1 controls (terminals act on some),
// bidirectional overrides (they reorder what a reader sees), and the non-characters XML 1.0 forbids.
func badRune(r rune) bool {
	return (r >= 0x80 && r <= 0x9f) ||
		(r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) ||
		r == 0xfffe || r == 0xffff
}

// refLabel names a reference: "RFC9112 §6.1".
func refLabel(r Ref) string {
	if r.Section == "" {
		return oneLine(r.Doc)
	}
	return oneLine(r.Doc + " §" + r.Section)
}

// streamLabel names a stream: "client#1 client>proxy (closed by proxy)".
func streamLabel(s Stream) string {
	l := s.Conn + " " + s.Dir
	if s.Note != "" {
		l += " (" + s.Note + ")"
	}
	return oneLine(l)
}

// streamsOf returns the streams of c, or nil when it has no evidence.
func streamsOf(c *CaseResult) []Stream {
	if c.Evidence == nil {
		return nil
	}
	return c.Evidence.Streams
}

// caseText writes the plain-text details of c: what JUnit failure text and system-out carry.
func caseText(b *strings.Builder, c *CaseResult) {
	fmt.Fprintf(b, "%s %s [%s]: %s\n", oneLine(string(c.Verdict)), oneLine(c.ID), oneLine(c.Level), oneLine(c.Reason))
	if c.Title != "" {
		fmt.Fprintf(b, "Title: %s\n", oneLine(c.Title))
	}
	if len(c.Tags) > 0 {
		fmt.Fprintf(b, "Tags: %s\n", oneLine(strings.Join(c.Tags, " ")))
	}
	if c.Outcome != "" {
		fmt.Fprintf(b, "Outcome: %s\n", oneLine(c.Outcome))
	}
	if c.Baseline != "" {
		fmt.Fprintf(b, "Baseline: %s\n", oneLine(c.Baseline))
	}
	if len(c.RFC) > 0 {
		b.WriteString("\nRFC references:\n")
		for _, r := range c.RFC {
			fmt.Fprintf(b, "  %s: \"%s\"\n", refLabel(r), oneLine(r.Quote))
		}
	}
	if len(c.Findings) > 0 {
		b.WriteString("\nFindings:\n")
		for _, f := range c.Findings {
			fmt.Fprintf(b, "  %-5s %s: %s\n", oneLine(string(f.Verdict)), oneLine(f.Oracle), oneLine(f.Message))
		}
	}
	if ss := streamsOf(c); len(ss) > 0 {
		fmt.Fprintf(b, "\nEvidence (%s):\n", EvidenceLegend)
		for _, s := range ss {
			fmt.Fprintf(b, "\n=== %s ===\n", streamLabel(s))
			if s.Data == "" {
				b.WriteString("(no bytes)\n")
				continue
			}
			// Every line counts: data ending in a line feed ends in an empty line (a CRLF).
			b.WriteString(multiLine(s.Data))
			b.WriteByte('\n')
		}
	}
}
