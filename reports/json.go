package reports

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
)

// ResultSchema is the JSON Schema (draft 2020-12) of the document WriteJSON produces, for the
// version named by Schema.
//
//go:embed schema/result.schema.json
var ResultSchema []byte

// WriteJSON writes r as indented JSON in the format named by Schema. The output is stable: fields
// in a fixed order, cases in r's order, HTML characters not escaped, and required arrays written
// as [] rather than null. An empty r.Schema is written as Schema; any other value is an error, as
// this build cannot write another format. r is not modified.
func WriteJSON(w io.Writer, r *Run) error {
	if r == nil {
		return errors.New("reports: write JSON: nil run")
	}
	out := normalized(r)
	if out.Schema != Schema {
		return fmt.Errorf("reports: write JSON: run has schema %q, this build writes %q", r.Schema, Schema)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("reports: write JSON: %w", err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("reports: write JSON: %w", err)
	}
	return nil
}

// ReadJSON reads a result written by WriteJSON. It checks the "schema" field first, so a document
// of another format or version gets a clear error rather than a half-filled Run, and it rejects
// unknown verdicts. Unknown fields are ignored.
func ReadJSON(rd io.Reader) (*Run, error) {
	data, err := io.ReadAll(rd)
	if err != nil {
		return nil, fmt.Errorf("reports: read JSON: %w", err)
	}
	var head struct {
		Schema *string `json:"schema"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("reports: read JSON: %w", err)
	}
	switch {
	case head.Schema == nil:
		return nil, fmt.Errorf("reports: read JSON: no \"schema\" field: not a proxyspec result (want schema %q)", Schema)
	case *head.Schema != Schema:
		return nil, fmt.Errorf("reports: read JSON: schema %q is not supported: this build reads %q", *head.Schema, Schema)
	}
	var r Run
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("reports: read JSON: %w", err)
	}
	for i, c := range r.Cases {
		if !c.Verdict.known() {
			return nil, fmt.Errorf("reports: read JSON: case %d (%q): unknown verdict %q", i, c.ID, c.Verdict)
		}
		for j, f := range c.Findings {
			if !f.Verdict.known() {
				return nil, fmt.Errorf("reports: read JSON: case %d (%q): finding %d: unknown verdict %q", i, c.ID, j, f.Verdict)
			}
		}
	}
	return &r, nil
}

// normalized returns a copy of r with Schema filled in and every required array non-nil, sharing
// nothing that it changes with r.
func normalized(r *Run) *Run {
	out := *r
	if out.Schema == "" {
		out.Schema = Schema
	}
	out.Target.Capabilities = nonNil(out.Target.Capabilities)
	out.Cases = slices.Clone(nonNil(out.Cases))
	for i := range out.Cases {
		c := &out.Cases[i]
		c.Tags = nonNil(c.Tags)
		c.RFC = nonNil(c.RFC)
		if c.Evidence != nil && c.Evidence.Streams == nil {
			c.Evidence = &Evidence{Streams: []Stream{}}
		}
	}
	return &out
}

func nonNil[S ~[]E, E any](s S) S {
	if s == nil {
		return S{}
	}
	return s
}
