package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// maxFileSize bounds a configuration file.
const maxFileSize = 4 << 20

// Error is one problem in a configuration file.
type Error struct {
	File string // file name; may be empty
	Line int    // 1-based; 0 if unknown
	Path string // field path, e.g. listeners[1].keepalive-max-requests; may be empty
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteByte(':')
	}
	if e.Line > 0 {
		b.WriteString(strconv.Itoa(e.Line))
		b.WriteByte(':')
	}
	if b.Len() > 0 {
		b.WriteByte(' ')
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every problem found in a file, in file order where known.
type Errors []*Error

func (es Errors) Error() string {
	s := make([]string, len(es))
	for i, e := range es {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n")
}

// Load reads, validates and completes the configuration file at path.
// The error, if any, is an Errors.
func Load(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, Errors{{File: path, Msg: err.Error()}}
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, Errors{{File: path, Msg: err.Error()}}
	}
	if len(data) > maxFileSize {
		return nil, Errors{{File: path, Msg: fmt.Sprintf("file larger than %d bytes", maxFileSize)}}
	}
	return Parse(path, data)
}

// Parse decodes, validates and completes a configuration; name is used in
// errors. The error, if any, is an Errors.
func Parse(name string, data []byte) (*Config, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, decodeErrors(name, err, nil)
	}
	c := &Config{file: name, lines: map[string]int{}}
	if root.Kind == 0 {
		return nil, Errors{{File: name, Msg: "empty configuration"}}
	}
	recordLines(&root, "", c.lines)
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil {
		return nil, decodeErrors(name, err, c.lines)
	}
	var v validator
	v.c = c
	v.validate()
	if len(v.errs) > 0 {
		v.errs.sort()
		return nil, v.errs
	}
	return c, nil
}

// File returns the name the configuration was loaded from.
func (c *Config) File() string { return c.file }

// Line returns the line of a field path, or of its nearest parent that has
// one; 0 if unknown.
func (c *Config) Line(path string) int {
	for p := path; p != ""; p = parentPath(p) {
		if l, ok := c.lines[p]; ok {
			return l
		}
	}
	return 0
}

// Errorf returns an error about the field at path, with its line.
func (c *Config) Errorf(path, format string, args ...any) *Error {
	return &Error{File: c.file, Line: c.Line(path), Path: path, Msg: fmt.Sprintf(format, args...)}
}

// parentPath strips the last element of a path: a.b[2].c → a.b[2] → a.b → a.
func parentPath(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return ""
	}
	return p[:i]
}

// recordLines maps the path of every mapping key and sequence item to its
// line.
func recordLines(n *yaml.Node, path string, lines map[string]int) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			recordLines(c, path, lines)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			p := k.Value
			if path != "" {
				p = path + "." + k.Value
			}
			lines[p] = k.Line
			recordLines(val, p, lines)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			p := path + "[" + strconv.Itoa(i) + "]"
			lines[p] = c.Line
			recordLines(c, p, lines)
		}
	}
}

var (
	lineRE     = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)
	unknownRE  = regexp.MustCompile(`^field (\S+) not found in type \S+$`)
	typeMismRE = regexp.MustCompile("^cannot unmarshal !!(\\w+) `(.*)` into (\\S+)$")
)

// decodeErrors turns yaml's errors into Errors: each "line N: message"
// gets the path of the deepest field on that line.
func decodeErrors(file string, err error, lines map[string]int) Errors {
	var msgs []string
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs = te.Errors
	} else {
		msgs = []string{err.Error()}
	}
	byLine := map[int]string{}
	for p, l := range lines {
		if q, ok := byLine[l]; !ok || len(p) > len(q) {
			byLine[l] = p
		}
	}
	var out Errors
	for _, m := range msgs {
		e := &Error{File: file, Msg: strings.TrimPrefix(m, "yaml: ")}
		if sm := lineRE.FindStringSubmatch(m); sm != nil {
			e.Line, _ = strconv.Atoi(sm[1])
			e.Msg = sm[2]
			e.Path = byLine[e.Line]
		}
		if sm := unknownRE.FindStringSubmatch(e.Msg); sm != nil {
			e.Msg = "unknown field"
			if !strings.HasSuffix(e.Path, sm[1]) {
				e.Msg = "unknown field " + strconv.Quote(sm[1])
			}
		} else if sm := typeMismRE.FindStringSubmatch(e.Msg); sm != nil {
			e.Msg = fmt.Sprintf("want %s, got %s %q", typeName(sm[3]), sm[1], sm[2])
		}
		out = append(out, e)
	}
	out.sort()
	return out
}

// typeName describes a Go type for a configuration author.
func typeName(t string) string {
	switch {
	case strings.HasPrefix(t, "int"), strings.HasPrefix(t, "*int"):
		return "an integer"
	case t == "bool":
		return "true or false"
	case t == "string":
		return "a string"
	case strings.HasPrefix(t, "[]"):
		return "a list"
	case strings.HasPrefix(t, "config.") || strings.HasPrefix(t, "*config."):
		return "a mapping"
	}
	return t
}

func (es Errors) sort() {
	// Stable insertion sort by line: few errors, and equal lines keep the
	// order they were found in.
	for i := 1; i < len(es); i++ {
		for j := i; j > 0 && lineKey(es[j]) < lineKey(es[j-1]); j-- {
			es[j], es[j-1] = es[j-1], es[j]
		}
	}
}

func lineKey(e *Error) int {
	if e.Line == 0 {
		return 1 << 30
	}
	return e.Line
}
