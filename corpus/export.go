package corpus

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// ExportSchema names the version of the exported JSON; corpus.schema.json describes it.
const ExportSchema = "proxyspec-corpus/1"

// Schema is the JSON Schema of the export.
//
//go:embed corpus.schema.json
var Schema []byte

// Export is the corpus as JSON, for other tools.
type Export struct {
	Schema string       `json:"schema"`
	Cases  []ExportCase `json:"cases"`
}

// ExportCase is a case with its bytes written in the escape convention, placeholders kept.
type ExportCase struct {
	ID       string          `json:"id"`
	Title    string          `json:"title"`
	File     string          `json:"file"`
	RFC      []Ref           `json:"rfc"`
	Level    Level           `json:"level"`
	Tags     []string        `json:"tags"`
	Needs    []string        `json:"needs"`
	Vectors  []int           `json:"vectors"`
	Requests []string        `json:"requests"`
	Probe    bool            `json:"probe"`
	Expect   []ExportOutcome `json:"expect"`
	Notes    []string        `json:"notes"`
	Sweep    string          `json:"sweep,omitempty"`
	Client   []ExportStep    `json:"client"`
	Origin   []ExportAction  `json:"origin"`
}

// ExportOutcome is one acceptable outcome.
type ExportOutcome struct {
	Name  string   `json:"name"`
	Terms []string `json:"terms"`
}

// ExportStep is one client step.
type ExportStep struct {
	Kind    StepKind `json:"kind"`
	Bytes   string   `json:"bytes,omitempty"`
	PauseMS int64    `json:"pause_ms,omitempty"`
}

// ExportAction is one origin action.
type ExportAction struct {
	Kind       ActionKind `json:"kind"`
	Bytes      string     `json:"bytes,omitempty"`
	CloseAfter bool       `json:"close_after,omitempty"`
	Tunnel     bool       `json:"tunnel,omitempty"`
}

// String renders the template in the escape convention with placeholders as {name}.
func (t Template) String() string {
	var sb strings.Builder
	for _, s := range t {
		if s.Var != "" {
			sb.WriteString("{" + s.Var + "}")
			continue
		}
		sb.WriteString(strings.TrimSuffix(Escape(s.Lit), "\\c"))
	}
	if n := len(t); n > 0 && t[n-1].Var == "" && !strings.HasSuffix(string(t[n-1].Lit), "\r\n") && !strings.HasSuffix(string(t[n-1].Lit), "\n") {
		sb.WriteString("\\c")
	}
	return sb.String()
}

// WriteExport writes cases as indented JSON.
func WriteExport(w io.Writer, cases []*Case) error {
	ex := Export{Schema: ExportSchema, Cases: make([]ExportCase, 0, len(cases))}
	for _, c := range cases {
		ec := ExportCase{ID: c.ID, Title: c.Title, File: c.File, RFC: c.RFC, Level: c.Level, Tags: c.Tags,
			Needs: nonNil(c.Needs), Vectors: c.Vectors, Requests: c.Requests, Probe: c.Probe, Notes: nonNil(c.Notes), Sweep: c.Sweep}
		if ec.Vectors == nil {
			ec.Vectors = []int{}
		}
		for _, o := range c.Expect {
			eo := ExportOutcome{Name: o.Name}
			for _, t := range o.Terms {
				eo.Terms = append(eo.Terms, t.Text)
			}
			ec.Expect = append(ec.Expect, eo)
		}
		for _, s := range c.Client {
			ec.Client = append(ec.Client, ExportStep{Kind: s.Kind, Bytes: s.Bytes.String(), PauseMS: s.Pause.Milliseconds()})
		}
		ec.Origin = []ExportAction{}
		for _, a := range c.Origin {
			ec.Origin = append(ec.Origin, ExportAction{Kind: a.Kind, Bytes: a.Bytes.String(), CloseAfter: a.CloseAfter, Tunnel: a.Tunnel})
		}
		ex.Cases = append(ex.Cases, ec)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(ex); err != nil {
		return fmt.Errorf("export corpus: %w", err)
	}
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
