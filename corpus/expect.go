package corpus

import (
	"fmt"
	"regexp"
	"strings"
)

var (
	statusRE = regexp.MustCompile(`^[1-5]([0-9][0-9]|xx)$`)
	fieldRE  = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
)

// splitTerms splits an expectation on spaces, keeping double-quoted values (with \" escapes) whole.
func splitTerms(s string) ([]string, error) {
	var out []string
	var cur strings.Builder
	inQuote := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case inQuote && c == '\\' && i+1 < len(s):
			cur.WriteByte(c)
			cur.WriteByte(s[i+1])
			i++
		case c == '"':
			inQuote = !inQuote
			cur.WriteByte(c)
		case c == ' ' && !inQuote:
			if cur.Len() > 0 {
				out = append(out, cur.String())
				cur.Reset()
			}
		default:
			cur.WriteByte(c)
		}
	}
	if inQuote {
		return nil, fmt.Errorf("unterminated quoted value in %q", s)
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out, nil
}

// parseTerms parses the terms of one expect line; labels must be among the case's requests.
func parseTerms(text string, requests []string) ([]Term, error) {
	words, err := splitTerms(text)
	if err != nil {
		return nil, err
	}
	if len(words) == 0 {
		return nil, fmt.Errorf("no terms")
	}
	isLabel := func(l string) bool {
		for _, r := range requests {
			if r == l {
				return true
			}
		}
		return false
	}
	label := func(l, w string) error {
		if !isLabel(l) {
			return fmt.Errorf("term %q: %q is not a request label (requests: %s)", w, l, strings.Join(requests, " "))
		}
		return nil
	}
	var terms []Term
	for _, w := range words {
		t := Term{Text: w}
		lhs, rhs, hasEq := strings.Cut(w, "=")
		op := "="
		if hasEq && (strings.HasSuffix(lhs, "~") || strings.HasSuffix(lhs, "!") || strings.HasSuffix(lhs, "*")) {
			op = lhs[len(lhs)-1:] + "="
			lhs = lhs[:len(lhs)-1]
		}
		quoted := func() ([]byte, error) {
			if len(rhs) < 2 || rhs[0] != '"' || rhs[len(rhs)-1] != '"' {
				return nil, fmt.Errorf("term %q: value must be double-quoted", w)
			}
			tm, err := decodeValue(rhs[1 : len(rhs)-1])
			if err != nil {
				return nil, fmt.Errorf("term %q: %v", w, err)
			}
			for _, s := range tm {
				if s.Var == "label" {
					return nil, fmt.Errorf("term %q: {label} cannot appear in an expected value", w)
				}
			}
			// Kept as text; the judge expands them with the run's values.
			return tm.Expand(Vars{Nonce: "{nonce}", Host: "{host}", Origin: "{origin}"}), nil
		}
		parts := strings.Split(lhs, ".")
		switch {
		case !hasEq && (w == "close" || w == "open" || w == "tunnel"):
			t.Kind = TermKind(w)
		case lhs == "origin" && hasEq:
			t.Kind = TOrigin
			if rhs == "none" {
				t.None = true
				break
			}
			for _, l := range strings.Split(rhs, ",") {
				if err := label(l, w); err != nil {
					return nil, err
				}
				t.Labels = append(t.Labels, l)
			}
		case lhs == "tunneled" && hasEq && op == "=":
			v, err := quoted()
			if err != nil {
				return nil, err
			}
			t.Kind, t.Value, t.HasValue = TTunneled, v, true
		case (parts[0] == "newconn" || parts[0] == "sameconn") && len(parts) == 2 && !hasEq:
			if err := label(parts[1], w); err != nil {
				return nil, err
			}
			t.Kind, t.Label = TermKind(parts[0]), parts[1]
		case parts[0] == "body" && len(parts) == 2 && hasEq:
			if err := label(parts[1], w); err != nil {
				return nil, err
			}
			v, err := quoted()
			if err != nil {
				return nil, err
			}
			t.Kind, t.Label, t.Value, t.HasValue, t.Op = TBody, parts[1], v, true, op
		case (parts[0] == "resp" || parts[0] == "fwd") && len(parts) >= 3:
			if err := label(parts[1], w); err != nil {
				return nil, err
			}
			t.Label = parts[1]
			what := parts[2]
			switch {
			case (what == "hdr" || what == "nohdr") && len(parts) == 4:
				if !fieldRE.MatchString(parts[3]) {
					return nil, fmt.Errorf("term %q: %q is not a field name", w, parts[3])
				}
				t.Name = parts[3]
				if what == "nohdr" {
					if hasEq {
						return nil, fmt.Errorf("term %q: nohdr takes no value", w)
					}
					t.Kind = TermKind(parts[0] + ".nohdr")
					break
				}
				t.Kind = TermKind(parts[0] + ".hdr")
				if hasEq {
					v, err := quoted()
					if err != nil {
						return nil, err
					}
					t.Value, t.HasValue, t.Op = v, true, op
				}
			case parts[0] == "resp" && what == "body" && len(parts) == 3 && hasEq:
				v, err := quoted()
				if err != nil {
					return nil, err
				}
				t.Kind, t.Value, t.HasValue, t.Op = TRespBody, v, true, op
			case parts[0] == "fwd" && (what == "method" || what == "target") && len(parts) == 3 && hasEq:
				v, err := quoted()
				if err != nil {
					return nil, err
				}
				t.Kind, t.Value, t.HasValue, t.Op = TermKind("fwd."+what), v, true, op
			case parts[0] == "resp" && what == "interim" && len(parts) == 3 && hasEq:
				t.Kind = TRespInterim
				if rhs == "none" {
					t.None = true
					break
				}
				for _, s := range strings.Split(rhs, ",") {
					if !statusRE.MatchString(s) || s[0] != '1' {
						return nil, fmt.Errorf("term %q: %q is not a 1xx status", w, s)
					}
					t.Statuses = append(t.Statuses, StatusPattern(s))
				}
			default:
				return nil, fmt.Errorf("unknown term %q", w)
			}
		case hasEq && len(parts) == 1 && isLabel(lhs):
			t.Kind, t.Label = TStatus, lhs
			if rhs == "none" {
				t.None = true
				break
			}
			for _, s := range strings.Split(rhs, ",") {
				if !statusRE.MatchString(s) {
					return nil, fmt.Errorf("term %q: %q is not a status (e.g. 400 or 4xx)", w, s)
				}
				t.Statuses = append(t.Statuses, StatusPattern(s))
			}
		default:
			if hasEq && len(parts) == 1 && labelRE.MatchString(lhs) {
				return nil, fmt.Errorf("term %q: %q is not a request label (requests: %s)", w, lhs, strings.Join(requests, " "))
			}
			return nil, fmt.Errorf("unknown term %q", w)
		}
		switch {
		case op == "=":
		case t.Op == "":
			return nil, fmt.Errorf("term %q: %s only applies to header, body, method and target terms", w, op)
		case (op == "~=" || op == "!=") && t.Kind != TRespHdr && t.Kind != TFwdHdr:
			return nil, fmt.Errorf("term %q: %s only applies to header terms", w, op)
		}
		terms = append(terms, t)
	}
	return terms, nil
}
