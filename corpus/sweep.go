package corpus

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// A sweep turns one case file into many instances: each combination of the file's sweep
// variables is one case, with its own id (BASE@VAR=key,...) and the outcomes whose conditions
// hold for it. See README.md "Sweeps".

var (
	sweepVarRE = regexp.MustCompile(`^[A-Z][A-Z0-9]*$`)
	sweepKeyRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)
	sweepUseRE = regexp.MustCompile(`\{([A-Z][A-Z0-9]*)\}`)
)

// maxInstances bounds one file's expansion, so a typo cannot produce millions of cases.
const maxInstances = 5000

type sweepVar struct {
	name   string
	bytes  bool
	keys   []string // instance keys: "0a" for bytes, the value key otherwise
	values []string // escape text substituted for {NAME}
	line   int
}

type sweepClass struct {
	name    string
	members map[string]bool // byte keys ("0a") or value keys
	line    int
}

// parseHexSet parses "09 20 0a-0d" into byte keys.
func parseHexSet(words []string) (map[string]bool, error) {
	set := map[string]bool{}
	for _, w := range words {
		for _, part := range strings.Split(w, ",") {
			if part == "" {
				continue
			}
			lo, hi, isRange := strings.Cut(part, "-")
			if !isRange {
				hi = lo
			}
			a, err1 := strconv.ParseUint(strings.TrimPrefix(lo, "0x"), 16, 8)
			b, err2 := strconv.ParseUint(strings.TrimPrefix(hi, "0x"), 16, 8)
			if err1 != nil || err2 != nil || a > b {
				return nil, fmt.Errorf("%q is not a hex byte or range like 00-1f", part)
			}
			for x := a; x <= b; x++ {
				set[fmt.Sprintf("%02x", x)] = true
			}
		}
	}
	return set, nil
}

// parseSweep parses "NAME: bytes 00-ff" or "NAME: values key=\"...\" key=\"...\"".
func parseSweep(name, val string, line int) (*sweepVar, error) {
	if !sweepVarRE.MatchString(name) {
		return nil, fmt.Errorf("sweep variable %q: want an upper-case name like B or POS", name)
	}
	kind, rest, _ := strings.Cut(val, " ")
	v := &sweepVar{name: name, line: line}
	switch kind {
	case "bytes":
		set, err := parseHexSet(strings.Fields(rest))
		if err != nil {
			return nil, fmt.Errorf("sweep %s: %v", name, err)
		}
		for x := 0; x < 256; x++ {
			k := fmt.Sprintf("%02x", x)
			if set[k] {
				v.keys = append(v.keys, k)
				v.values = append(v.values, `\x`+k)
			}
		}
		v.bytes = true
	case "values":
		words, err := splitTerms(rest)
		if err != nil {
			return nil, fmt.Errorf("sweep %s: %v", name, err)
		}
		seen := map[string]bool{}
		for _, w := range words {
			k, q, ok := strings.Cut(w, "=")
			if !ok || !sweepKeyRE.MatchString(k) || len(q) < 2 || q[0] != '"' || q[len(q)-1] != '"' {
				return nil, fmt.Errorf(`sweep %s: %q: want key="escaped text" with key in [a-z0-9-]`, name, w)
			}
			if seen[k] {
				return nil, fmt.Errorf("sweep %s: key %q given twice", name, k)
			}
			seen[k] = true
			text := strings.ReplaceAll(q[1:len(q)-1], `\"`, `\x22`)
			if _, _, err := decodeLine(text); err != nil && !sweepUseRE.MatchString(text) {
				return nil, fmt.Errorf("sweep %s: value %s: %v", name, k, err)
			}
			v.keys = append(v.keys, k)
			v.values = append(v.values, text)
		}
	default:
		return nil, fmt.Errorf(`sweep %s: want "bytes HEX-RANGES" or "values key=\"...\" ..."`, name)
	}
	if len(v.keys) == 0 {
		return nil, fmt.Errorf("sweep %s has no values", name)
	}
	return v, nil
}

// condition is "B in ows and POS=name-prefix,value-suffix and B notin 20".
type condition []clause

type clause struct {
	v      *sweepVar
	negate bool
	set    map[string]bool
}

func parseCondition(text string, vars map[string]*sweepVar, classes map[string]*sweepClass) (condition, error) {
	var cond condition
	for _, part := range strings.Split(text, " and ") {
		part = strings.TrimSpace(part)
		var name, op, rhs string
		if f := strings.Fields(part); len(f) == 3 && (f[1] == "in" || f[1] == "notin") {
			name, op, rhs = f[0], f[1], f[2]
		} else if n, r, ok := strings.Cut(part, "!="); ok {
			name, op, rhs = n, "notin", r
		} else if n, r, ok := strings.Cut(part, "="); ok {
			name, op, rhs = n, "in", r
		} else {
			return nil, fmt.Errorf("condition %q: want VAR in CLASS, VAR notin CLASS, VAR=key,... or VAR!=key,...", part)
		}
		v := vars[strings.TrimSpace(name)]
		if v == nil {
			return nil, fmt.Errorf("condition %q: no sweep variable %q", part, name)
		}
		c := clause{v: v, negate: op == "notin"}
		if cl := classes[rhs]; cl != nil {
			c.set = cl.members
		} else if v.bytes {
			set, err := parseHexSet([]string{rhs})
			if err != nil {
				return nil, fmt.Errorf("condition %q: %q is neither a class nor hex bytes: %v", part, rhs, err)
			}
			c.set = set
		} else {
			c.set = map[string]bool{}
			for _, k := range strings.Split(rhs, ",") {
				if !contains(v.keys, k) {
					return nil, fmt.Errorf("condition %q: %q is neither a class nor a key of %s", part, k, v.name)
				}
				c.set[k] = true
			}
		}
		cond = append(cond, c)
	}
	return cond, nil
}

// holds reports whether the condition holds for an instance (variable name -> key).
func (c condition) holds(inst map[string]string) bool {
	for _, cl := range c {
		if cl.set[inst[cl.v.name]] == cl.negate {
			return false
		}
	}
	return true
}

func contains(s []string, x string) bool {
	for _, y := range s {
		if y == x {
			return true
		}
	}
	return false
}

// conditional is an expect or level line that applies only where its condition holds.
type conditional struct {
	line int
	cond condition
}

// expandSweeps expands a file with sweep lines into instances. lines are the file's lines; it
// returns nil, nil when the file has no sweep.
func expandSweeps(file string, lines []string) ([]*Case, error) {
	errAt := func(line int, format string, args ...any) error {
		return &ParseError{File: file, Line: line, Msg: fmt.Sprintf(format, args...)}
	}
	vars := map[string]*sweepVar{}
	var order []*sweepVar
	classes := map[string]*sweepClass{}
	header := 0
	for header < len(lines) && !sectionRE.MatchString(lines[header]) {
		header++
	}
	// First pass: sweeps and classes.
	for i := 0; i < header; i++ {
		key, val, ok := strings.Cut(lines[i], ":")
		if !ok || strings.HasPrefix(lines[i], "#") {
			continue
		}
		key, val = strings.TrimSpace(key), strings.TrimSpace(val)
		switch f := strings.Fields(key); {
		case len(f) == 2 && f[0] == "sweep":
			if vars[f[1]] != nil {
				return nil, errAt(i+1, "sweep %s declared twice", f[1])
			}
			v, err := parseSweep(f[1], val, i+1)
			if err != nil {
				return nil, errAt(i+1, "%v", err)
			}
			vars[v.name] = v
			order = append(order, v)
		case len(f) == 2 && f[0] == "class":
			set := map[string]bool{}
			if hex, err := parseHexSet(strings.Fields(val)); err == nil {
				set = hex
			} else {
				for _, k := range strings.Fields(val) {
					set[k] = true
				}
			}
			classes[f[1]] = &sweepClass{name: f[1], members: set, line: i + 1}
		}
	}
	if len(order) == 0 {
		return nil, nil
	}
	total := 1
	for _, v := range order {
		total *= len(v.keys)
		if total > maxInstances {
			return nil, errAt(v.line, "sweeps expand to more than %d instances", maxInstances)
		}
	}
	// Conditional expect/level lines.
	conds := map[int]condition{}
	for i := 0; i < header; i++ {
		key, _, ok := strings.Cut(lines[i], ":")
		if !ok || strings.HasPrefix(lines[i], "#") {
			continue
		}
		f := strings.Fields(key)
		if len(f) == 0 {
			continue
		}
		idx := -1
		for k, w := range f {
			if w == "when" {
				idx = k
				break
			}
		}
		if idx < 0 {
			continue
		}
		cond, err := parseCondition(strings.Join(f[idx+1:], " "), vars, classes)
		if err != nil {
			return nil, errAt(i+1, "%v", err)
		}
		conds[i] = cond
	}
	// Check that every {VAR} used is declared.
	for i, l := range lines {
		for _, m := range sweepUseRE.FindAllStringSubmatch(l, -1) {
			if vars[m[1]] == nil {
				return nil, errAt(i+1, "{%s} is not a declared sweep variable", m[1])
			}
		}
	}

	var out []*Case
	idx := make([]int, len(order))
	for {
		inst := map[string]string{}
		vals := map[string]string{}
		var keyParts []string
		for k, v := range order {
			inst[v.name] = v.keys[idx[k]]
			vals[v.name] = v.values[idx[k]]
			keyParts = append(keyParts, v.name+"="+v.keys[idx[k]])
		}
		instKey := strings.Join(keyParts, ",")
		text := make([]string, len(lines))
		nExpect, nLevel := 0, 0
		for i, l := range lines {
			if i < header {
				key, val, _ := strings.Cut(l, ":")
				f := strings.Fields(key)
				switch {
				case len(f) >= 1 && (f[0] == "sweep" || f[0] == "class"):
					text[i] = "# " + f[0] // keep line numbers
					continue
				case conds[i] != nil:
					if !conds[i].holds(inst) {
						text[i] = "# not for this instance"
						continue
					}
					w := 0
					for k, x := range f {
						if x == "when" {
							w = k
						}
					}
					l = strings.Join(f[:w], " ") + ":" + val
				}
				if len(f) >= 1 && f[0] == "expect" {
					nExpect++
				}
				if len(f) >= 1 && f[0] == "level" {
					nLevel++
				}
			}
			// Titles and notes name an instance by its keys ("after-value", "0a"); bytes and
			// expectations get the values, which may themselves use other variables.
			subst := vals
			if k := strings.TrimSpace(strings.SplitN(l, ":", 2)[0]); i < header && (k == "title" || k == "note") {
				subst = inst
			}
			for pass := 0; pass < 3 && strings.Contains(l, "{"); pass++ {
				l = sweepUseRE.ReplaceAllStringFunc(l, func(m string) string { return subst[m[1:len(m)-1]] })
			}
			text[i] = l
		}
		if nExpect == 0 {
			return nil, errAt(0, "instance %s: no expect line applies", instKey)
		}
		if nLevel != 1 {
			return nil, errAt(0, "instance %s: %d level lines apply (want exactly one)", instKey, nLevel)
		}
		c, err := Parse(file, []byte(strings.Join(text, "\n")+"\n"))
		if err != nil {
			return nil, fmt.Errorf("instance %s: %w", instKey, err)
		}
		c.ID += "@" + instKey
		c.Sweep = instKey
		c.Tags = appendUnique(c.Tags, "sweep")
		out = append(out, c)

		// Next combination (last variable fastest).
		k := len(order) - 1
		for k >= 0 {
			idx[k]++
			if idx[k] < len(order[k].keys) {
				break
			}
			idx[k] = 0
			k--
		}
		if k < 0 {
			return out, nil
		}
	}
}
