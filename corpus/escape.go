package corpus

import (
	"fmt"
	"strings"
)

// decodeLine turns one line of a bytes section into a template. It reports whether the line ends
// in a line-ending escape (\n, \r, \c), in which case no CRLF is appended after it.
func decodeLine(line string) (Template, bool, error) {
	var t Template
	var lit []byte
	flush := func() {
		if len(lit) > 0 {
			t = append(t, Segment{Lit: lit})
			lit = nil
		}
	}
	endsInEscape := false
	for i := 0; i < len(line); i++ {
		c := line[i]
		endsInEscape = false
		switch {
		case c == '\\':
			if i+1 >= len(line) {
				return nil, false, fmt.Errorf("column %d: lone backslash at end of line (write \\\\ for a backslash)", i+1)
			}
			i++
			switch e := line[i]; e {
			case 'r':
				lit = append(lit, '\r')
				endsInEscape = true
			case 'n':
				lit = append(lit, '\n')
				endsInEscape = true
			case 'c':
				endsInEscape = true
			case 't':
				lit = append(lit, '\t')
			case 's':
				lit = append(lit, ' ')
			case '0':
				lit = append(lit, 0)
			case '\\':
				lit = append(lit, '\\')
			case 'x':
				if i+2 >= len(line) || !isHex(line[i+1]) || !isHex(line[i+2]) {
					return nil, false, fmt.Errorf("column %d: \\x needs two hex digits", i)
				}
				lit = append(lit, unhex(line[i+1])<<4|unhex(line[i+2]))
				i += 2
			default:
				return nil, false, fmt.Errorf("column %d: unknown escape \\%c (known: \\r \\n \\t \\s \\0 \\xHH \\\\ \\c)", i, e)
			}
		case c == '{':
			end := strings.IndexByte(line[i:], '}')
			if end < 0 {
				return nil, false, fmt.Errorf("column %d: unclosed placeholder (write \\x7b for a literal {)", i+1)
			}
			name := line[i+1 : i+end]
			switch name {
			case "nonce", "host", "origin", "label":
			default:
				return nil, false, fmt.Errorf("column %d: unknown placeholder {%s} (known: {nonce} {host} {origin} {label})", i+1, name)
			}
			flush()
			t = append(t, Segment{Var: name})
			i += end
		case c == '\t':
			return nil, false, fmt.Errorf("column %d: raw tab (write \\t)", i+1)
		case c < 0x20 || c >= 0x7f:
			return nil, false, fmt.Errorf("column %d: raw byte 0x%02x (write \\x%02x)", i+1, c, c)
		default:
			lit = append(lit, c)
		}
	}
	flush()
	return t, endsInEscape, nil
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// decodeSection decodes the lines of a bytes section: every line is followed by CRLF unless it
// ends in a line-ending escape.
func decodeSection(lines []string, firstLine int) (Template, error) {
	var t Template
	for i, l := range lines {
		if strings.HasSuffix(l, " ") {
			return nil, fmt.Errorf("line %d: trailing space (write \\s so it is visible)", firstLine+i)
		}
		seg, noEOL, err := decodeLine(l)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", firstLine+i, err)
		}
		t = append(t, seg...)
		if !noEOL {
			t = append(t, Segment{Lit: []byte("\r\n")})
		}
	}
	return t.compact(), nil
}

// compact merges adjacent literal segments.
func (t Template) compact() Template {
	var out Template
	for _, s := range t {
		if s.Var == "" && len(out) > 0 && out[len(out)-1].Var == "" {
			out[len(out)-1].Lit = append(out[len(out)-1].Lit, s.Lit...)
			continue
		}
		out = append(out, s)
	}
	return out
}

// decodeValue decodes an expectation value written between double quotes: the same escapes as
// bytes sections, plus \" for a quote; no implicit line ending and no placeholders but {nonce}.
func decodeValue(s string) (Template, error) {
	s = strings.ReplaceAll(s, `\"`, `\x22`)
	t, _, err := decodeLine(s)
	return t, err
}

// Escape renders bytes in the corpus convention so a transcript reads like a case file: CRLF
// becomes a line break, a bare LF "\n" plus a line break, a bare CR "\r", other non-printing bytes
// \xHH (\t, \0, \s where clearer), and a final line without CRLF ends in "\c".
func Escape(b []byte) string {
	var sb strings.Builder
	lineStart := true
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case c == '\r' && i+1 < len(b) && b[i+1] == '\n':
			// A line that already ends in the \r escape would lose its implicit CRLF, so
			// spell this one out.
			if i > 0 && b[i-1] == '\r' {
				sb.WriteString(`\r\n`)
			}
			sb.WriteByte('\n')
			i++
			lineStart = true
			continue
		case c == '\n':
			sb.WriteString("\\n\n")
			lineStart = true
			continue
		case c == '\r':
			sb.WriteString(`\r`)
		case c == '\\':
			sb.WriteString(`\\`)
		case c == '\t':
			sb.WriteString(`\t`)
		case c == 0:
			sb.WriteString(`\0`)
		case c == ' ' && (i+1 == len(b) || b[i+1] == '\r' || b[i+1] == '\n'):
			sb.WriteString(`\s`)
		case c == '{':
			sb.WriteString(`\x7b`)
		case c < 0x20 || c >= 0x7f:
			const hexd = "0123456789abcdef"
			sb.WriteString(`\x`)
			sb.WriteByte(hexd[c>>4])
			sb.WriteByte(hexd[c&15])
		default:
			sb.WriteByte(c)
		}
		lineStart = false
	}
	if !lineStart {
		sb.WriteString("\\c")
	}
	return sb.String()
}
