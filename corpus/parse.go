package corpus

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// ParseError locates a problem in a case file.
type ParseError struct {
	File string
	Line int // 0 when the problem concerns the whole file
	Msg  string
}

func (e *ParseError) Error() string {
	if e.Line == 0 {
		return e.File + ": " + e.Msg
	}
	return e.File + ":" + strconv.Itoa(e.Line) + ": " + e.Msg
}

var (
	idRE      = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*(/[a-z0-9][a-z0-9-]*)+$`)
	tagRE     = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)
	labelRE   = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	refRE     = regexp.MustCompile(`^(RFC91(10|12|13)) ([0-9]+(\.[0-9]+)*) "(.+)"$`)
	sectionRE = regexp.MustCompile(`^-- (.*) --$`)
)

// Capabilities lists what a case may need from a target.
var Capabilities = map[string]string{
	"range-filter":      "answers Range requests itself for full 200 responses of known length",
	"keepalive-limit-2": "serves at most 2 requests per client connection",
	"upgrade":           "forwards Upgrade requests and tunnels after a 101",
	"connect":           "forwards CONNECT requests",
}

const maxPause = 2 * time.Second

// ParseAll parses one case file into its cases: one, or one per instance of its sweeps.
func ParseAll(name string, data []byte) ([]*Case, error) {
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	insts, err := expandSweeps(name, lines)
	if err != nil || insts != nil {
		return insts, err
	}
	c, err := Parse(name, data)
	if err != nil {
		return nil, err
	}
	return []*Case{c}, nil
}

// Parse parses one case file. name is the file's path relative to the corpus root (used for errors
// and to check the id); the id must equal that path below "cases/" without ".case".
func Parse(name string, data []byte) (*Case, error) {
	p := &parser{file: name}
	c, err := p.parse(data)
	if err != nil {
		return nil, err
	}
	return c, nil
}

type parser struct {
	file string
}

func (p *parser) errf(line int, format string, args ...any) error {
	return &ParseError{File: p.file, Line: line, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) parse(data []byte) (*Case, error) {
	for i, b := range data {
		if b >= 0x80 || b == '\r' || (b < 0x20 && b != '\n' && b != '\t') {
			line := 1 + strings.Count(string(data[:i]), "\n")
			return nil, p.errf(line, "byte 0x%02x in file: case files are ASCII text; write bytes as escapes", b)
		}
	}
	text := strings.TrimSuffix(string(data), "\n")
	lines := strings.Split(text, "\n")
	c := &Case{File: p.file, Probe: true}
	seen := map[string]int{}

	// Header.
	i := 0
	for ; i < len(lines); i++ {
		l := lines[i]
		n := i + 1
		if sectionRE.MatchString(l) {
			break
		}
		if strings.TrimSpace(l) == "" || strings.HasPrefix(l, "#") {
			continue
		}
		if strings.ContainsRune(l, '\t') {
			return nil, p.errf(n, "tab in header line")
		}
		key, val, ok := strings.Cut(l, ":")
		if !ok {
			return nil, p.errf(n, "header line is not \"key: value\": %q", l)
		}
		key = strings.TrimSpace(key)
		val = strings.TrimSpace(val)
		outcomeName := ""
		if k, nm, ok := strings.Cut(key, " "); ok && k == "expect" {
			key, outcomeName = k, strings.TrimSpace(nm)
		}
		once := map[string]bool{"id": true, "title": true, "level": true, "tags": true, "needs": true, "vector": true, "requests": true, "probe": true}
		if once[key] && seen[key] > 0 {
			return nil, p.errf(n, "%s given twice (first on line %d)", key, seen[key])
		}
		if seen[key] == 0 {
			seen[key] = n
		}
		if val == "" {
			return nil, p.errf(n, "%s has no value", key)
		}
		switch key {
		case "id":
			if !idRE.MatchString(val) {
				return nil, p.errf(n, "id %q: want family/name in [a-z0-9-]", val)
			}
			c.ID = val
		case "title":
			c.Title = val
		case "rfc":
			m := refRE.FindStringSubmatch(val)
			if m == nil {
				return nil, p.errf(n, `rfc: want RFC9110|RFC9112|RFC9113 SECTION "quoted requirement", got %q`, val)
			}
			c.RFC = append(c.RFC, Ref{Doc: m[1], Section: m[3], Quote: m[5]})
		case "level":
			switch Level(val) {
			case MUST, SHOULD, MAY:
				c.Level = Level(val)
			default:
				return nil, p.errf(n, "level %q: want MUST, SHOULD or MAY", val)
			}
		case "tags":
			for _, t := range strings.Fields(val) {
				if !tagRE.MatchString(t) {
					return nil, p.errf(n, "tag %q: want [a-z0-9-]", t)
				}
				c.Tags = appendUnique(c.Tags, t)
			}
		case "needs":
			for _, t := range strings.Fields(val) {
				// "!name": the case applies only to targets without the capability.
				if _, ok := Capabilities[strings.TrimPrefix(t, "!")]; !ok {
					return nil, p.errf(n, "unknown capability %q (known: %s)", t, strings.Join(sortedKeys(Capabilities), ", "))
				}
				c.Needs = appendUnique(c.Needs, t)
			}
		case "vector":
			for _, f := range strings.Fields(val) {
				v, err := strconv.Atoi(f)
				if err != nil || v < 1 || v > 106 {
					return nil, p.errf(n, "vector %q: want a catalogue number 1-106", f)
				}
				c.Vectors = append(c.Vectors, v)
			}
		case "requests":
			for _, l := range strings.Fields(val) {
				if !labelRE.MatchString(l) || strings.HasPrefix(l, "probe") {
					return nil, p.errf(n, "request label %q: want [a-z][a-z0-9_]*, not starting with \"probe\"", l)
				}
				for _, x := range c.Requests {
					if x == l {
						return nil, p.errf(n, "request label %q listed twice", l)
					}
				}
				c.Requests = append(c.Requests, l)
			}
		case "probe":
			switch val {
			case "on":
			case "off":
				c.Probe = false
			default:
				return nil, p.errf(n, "probe %q: want on or off", val)
			}
		case "expect":
			c.Expect = append(c.Expect, Outcome{Name: outcomeName, Text: val, Line: n})
		case "note":
			c.Notes = append(c.Notes, val)
		default:
			return nil, p.errf(n, "unknown header key %q (known: id title rfc level tags needs vector requests probe expect note)", key)
		}
	}
	for _, k := range []string{"id", "title", "rfc", "level", "expect"} {
		if seen[k] == 0 {
			return nil, p.errf(0, "missing required header %q", k)
		}
	}
	if want := strings.TrimSuffix(strings.TrimPrefix(p.file, "cases/"), ".case"); want != p.file && c.ID != want {
		return nil, p.errf(seen["id"], "id %q does not match the file's path (want %q)", c.ID, want)
	}
	if len(c.Requests) == 0 {
		c.Requests = []string{"a"}
	}
	c.Tags = appendUnique([]string{strings.SplitN(c.ID, "/", 2)[0]}, c.Tags...)

	// Sections.
	for i < len(lines) {
		head := sectionRE.FindStringSubmatch(lines[i])
		start := i + 1
		i++
		for i < len(lines) && !sectionRE.MatchString(lines[i]) {
			i++
		}
		if err := p.section(c, strings.Fields(head[1]), lines[start:i], start+1); err != nil {
			return nil, err
		}
	}
	if len(c.Client) == 0 || c.Client[0].Kind != Send {
		return nil, p.errf(0, "the first client section must be \"-- client send --\"")
	}
	for k := range c.Expect {
		o := &c.Expect[k]
		terms, err := parseTerms(o.Text, c.Requests)
		if err != nil {
			return nil, p.errf(o.Line, "expect: %v", err)
		}
		o.Terms = terms
	}
	return c, nil
}

func (p *parser) section(c *Case, words []string, body []string, first int) error {
	line := first - 1
	if len(words) < 2 {
		return p.errf(line, "section %q: want \"-- client ACTION --\" or \"-- origin ACTION --\"", strings.Join(words, " "))
	}
	party, action, args := words[0], words[1], words[2:]
	empty := func() error {
		for k, l := range body {
			if l != "" {
				return p.errf(first+k, "section \"%s %s\" takes no bytes", party, action)
			}
		}
		return nil
	}
	noArgs := func() error {
		if len(args) > 0 {
			return p.errf(line, "section \"%s %s\": unexpected %q", party, action, strings.Join(args, " "))
		}
		return nil
	}
	switch party {
	case "client":
		st := Step{Line: line}
		switch action {
		case "send":
			if err := noArgs(); err != nil {
				return err
			}
			if len(body) == 0 {
				return p.errf(line, "client send section is empty")
			}
			t, err := decodeSection(body, first)
			if err != nil {
				return p.wrap(err)
			}
			st.Kind, st.Bytes = Send, t
		case "pause":
			if len(args) != 1 {
				return p.errf(line, "client pause needs one duration, e.g. \"-- client pause 100ms --\"")
			}
			d, err := time.ParseDuration(args[0])
			if err != nil || d <= 0 || d > maxPause {
				return p.errf(line, "client pause %q: want a duration in (0, %s]", args[0], maxPause)
			}
			st.Kind, st.Pause = Pause, d
		case "await", "shutdown", "connect":
			if err := noArgs(); err != nil {
				return err
			}
			st.Kind = StepKind(action)
		default:
			return p.errf(line, "unknown client action %q (known: send pause await shutdown connect)", action)
		}
		if st.Kind != Send {
			if err := empty(); err != nil {
				return err
			}
		}
		c.Client = append(c.Client, st)
	case "origin":
		a := Action{Line: line}
		switch action {
		case "respond":
			for _, x := range args {
				switch x {
				case "close":
					a.CloseAfter = true
				case "tunnel":
					a.Tunnel = true
				default:
					return p.errf(line, "origin respond: unknown option %q (known: close tunnel)", x)
				}
			}
			if len(body) == 0 {
				return p.errf(line, "origin respond section is empty")
			}
			t, err := decodeSection(body, first)
			if err != nil {
				return p.wrap(err)
			}
			a.Kind, a.Bytes = Respond, t
		case "echo", "hold", "close":
			if err := noArgs(); err != nil {
				return err
			}
			if err := empty(); err != nil {
				return err
			}
			a.Kind = ActionKind(action)
		default:
			return p.errf(line, "unknown origin action %q (known: echo respond hold close)", action)
		}
		c.Origin = append(c.Origin, a)
	default:
		return p.errf(line, "unknown party %q in section header (known: client, origin)", party)
	}
	return nil
}

// wrap turns an error from decodeSection ("line N: ...") into a ParseError.
func (p *parser) wrap(err error) error {
	msg := err.Error()
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if num, tail, ok := strings.Cut(rest, ": "); ok {
			if n, e := strconv.Atoi(num); e == nil {
				return &ParseError{File: p.file, Line: n, Msg: tail}
			}
		}
	}
	return &ParseError{File: p.file, Msg: msg}
}

func appendUnique(s []string, xs ...string) []string {
	for _, x := range xs {
		dup := false
		for _, y := range s {
			if x == y {
				dup = true
				break
			}
		}
		if !dup {
			s = append(s, x)
		}
	}
	return s
}
