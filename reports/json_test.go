package reports

import (
	"bytes"
	"encoding/json"
	"errors"
	"maps"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

const schemaURL = "https://github.com/proxyspec/proxyspec/reports/schema/result.schema.json"

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(ResultSchema))
	if err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource(schemaURL, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(schemaURL)
	if err != nil {
		t.Fatalf("compile schema: %v", err)
	}
	return sch
}

func validate(t *testing.T, sch *jsonschema.Schema, doc []byte) error {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		t.Fatalf("not JSON: %v\n%s", err, doc)
	}
	return sch.Validate(inst)
}

func writeJSON(t *testing.T, r *Run) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := WriteJSON(&b, r); err != nil {
		t.Fatalf("WriteJSON: %v", err)
	}
	return b.Bytes()
}

func TestSchemaDeclaresDraft2020AndVersion(t *testing.T) {
	var s struct {
		Draft      string `json:"$schema"`
		Properties struct {
			Schema struct {
				Const string `json:"const"`
			} `json:"schema"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(ResultSchema, &s); err != nil {
		t.Fatal(err)
	}
	if s.Draft != "https://json-schema.org/draft/2020-12/schema" {
		t.Errorf("$schema = %q, want draft 2020-12", s.Draft)
	}
	if s.Properties.Schema.Const != Schema {
		t.Errorf("schema const = %q, want %q (bump both together)", s.Properties.Schema.Const, Schema)
	}
}

func TestWriteJSONValidates(t *testing.T) {
	sch := compileSchema(t)
	for _, tc := range []struct {
		name string
		run  *Run
	}{
		{"sample", sampleRun()},
		{"empty run", &Run{}},
		{"nil slices", &Run{Cases: []CaseResult{{ID: "a/b", Level: "MAY", Verdict: Pass, Evidence: &Evidence{}}}}},
		{"strict with findings", func() *Run { r := sampleRun(); r.Options.Strict = true; return r }()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := writeJSON(t, tc.run)
			if err := validate(t, sch, doc); err != nil {
				t.Errorf("output does not validate: %v\n%s", err, doc)
			}
		})
	}
}

func TestSampleCoversEveryVerdict(t *testing.T) {
	r := sampleRun()
	seen := map[Verdict]bool{}
	var evidence, findings, expected, unexpected bool
	for _, c := range r.Cases {
		seen[c.Verdict] = true
		evidence = evidence || c.Evidence != nil
		findings = findings || len(c.Findings) > 0
		expected = expected || c.Baseline == BaselineExpected
		unexpected = unexpected || c.Baseline == BaselineUnexpectedPass
	}
	for _, v := range Verdicts {
		if !seen[v] {
			t.Errorf("sample run has no %s case", v)
		}
	}
	if !evidence || !findings || !expected || !unexpected {
		t.Errorf("sample run lacks evidence=%v findings=%v expected=%v unexpected-pass=%v", evidence, findings, expected, unexpected)
	}
}

// TestSchemaRejects mutates a valid document in ways the schema must catch.
func TestSchemaRejects(t *testing.T) {
	sch := compileSchema(t)
	valid := writeJSON(t, sampleRun())
	for _, tc := range []struct {
		name   string
		mutate func(m map[string]any)
	}{
		{"missing cases", func(m map[string]any) { delete(m, "cases") }},
		{"missing summary field", func(m map[string]any) { delete(m["summary"].(map[string]any), "fail") }},
		{"missing case reason", func(m map[string]any) { delete(caseAt(m, 0), "reason") }},
		{"missing stream data", func(m map[string]any) { delete(streamAt(m, 0, 0), "data") }},
		{"bad verdict", func(m map[string]any) { caseAt(m, 0)["verdict"] = "FAILED" }},
		{"bad finding verdict", func(m map[string]any) { caseAt(m, 0)["findings"].([]any)[0].(map[string]any)["verdict"] = "fail" }},
		{"wrong schema version", func(m map[string]any) { m["schema"] = "proxyspec-result/2" }},
		{"bad level", func(m map[string]any) { caseAt(m, 0)["level"] = "MUST NOT" }},
		{"two-line reason", func(m map[string]any) { caseAt(m, 0)["reason"] = "one\ntwo" }},
		{"bad direction", func(m map[string]any) { streamAt(m, 0, 0)["dir"] = "client>origin" }},
		{"origin direction on client conn", func(m map[string]any) { streamAt(m, 0, 0)["dir"] = "proxy>origin" }},
		{"bad baseline", func(m map[string]any) { caseAt(m, 0)["baseline"] = "known" }},
		{"expected but passed", func(m map[string]any) { c := caseAt(m, 0); c["baseline"] = "expected"; c["verdict"] = "PASS" }},
		{"negative count", func(m map[string]any) { m["summary"].(map[string]any)["pass"] = -1 }},
		{"bad start time", func(m map[string]any) { m["started"] = "yesterday" }},
		{"unknown field", func(m map[string]any) { caseAt(m, 0)["severity"] = "high" }},
		{"null tags", func(m map[string]any) { caseAt(m, 0)["tags"] = nil }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var m map[string]any
			if err := json.Unmarshal(valid, &m); err != nil {
				t.Fatal(err)
			}
			tc.mutate(m)
			doc, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			if err := validate(t, sch, doc); err == nil {
				t.Errorf("document validates, want an error")
			}
		})
	}
}

func caseAt(m map[string]any, i int) map[string]any {
	return m["cases"].([]any)[i].(map[string]any)
}

func streamAt(m map[string]any, c, s int) map[string]any {
	return caseAt(m, c)["evidence"].(map[string]any)["streams"].([]any)[s].(map[string]any)
}

// TestSchemaMatchesStructs reflects over the result types so that the schema cannot drift from the
// Go model: every struct has a schema object whose properties are exactly its JSON fields and
// whose required list is exactly its fields without omitempty, and additional properties are
// refused.
func TestSchemaMatchesStructs(t *testing.T) {
	type object struct {
		Required             []string                   `json:"required"`
		Properties           map[string]any             `json:"properties"`
		AdditionalProperties *bool                      `json:"additionalProperties"`
		Defs                 map[string]json.RawMessage `json:"$defs"`
	}
	var root object
	if err := json.Unmarshal(ResultSchema, &root); err != nil {
		t.Fatal(err)
	}
	defOf := func(name string) (object, bool) {
		raw, ok := root.Defs[name]
		if !ok {
			return object{}, false
		}
		var o object
		if err := json.Unmarshal(raw, &o); err != nil {
			t.Fatalf("$defs/%s: %v", name, err)
		}
		return o, true
	}

	timeType := reflect.TypeFor[time.Time]()
	seen := map[reflect.Type]bool{}
	var check func(typ reflect.Type, o object, where string)
	check = func(typ reflect.Type, o object, where string) {
		seen[typ] = true
		var fields, required []string
		for f := range typ.Fields() {
			if !f.IsExported() {
				continue
			}
			name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" {
				continue
			}
			if name == "" {
				name = f.Name
			}
			fields = append(fields, name)
			if !slices.Contains(strings.Split(opts, ","), "omitempty") {
				required = append(required, name)
			}
			ft := f.Type
			for ft.Kind() == reflect.Pointer || ft.Kind() == reflect.Slice {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct && ft != timeType && !seen[ft] {
				sub, ok := defOf(ft.Name())
				if !ok {
					t.Errorf("%s.%s: no $defs/%s in the schema for Go type %s", where, name, ft.Name(), ft)
					continue
				}
				check(ft, sub, "$defs/"+ft.Name())
			}
		}
		props := slices.Sorted(maps.Keys(o.Properties))
		slices.Sort(fields)
		slices.Sort(required)
		got := slices.Clone(o.Required)
		slices.Sort(got)
		if diff := cmp.Diff(required, got); diff != "" {
			t.Errorf("%s (Go %s): schema required differs from the non-omitempty fields (-go +schema):\n%s", where, typ, diff)
		}
		if diff := cmp.Diff(fields, props); diff != "" {
			t.Errorf("%s (Go %s): schema properties differ from the JSON fields (-go +schema):\n%s", where, typ, diff)
		}
		if o.AdditionalProperties == nil || *o.AdditionalProperties {
			t.Errorf("%s: additionalProperties should be false", where)
		}
	}
	check(reflect.TypeFor[Run](), root, "root")
	for _, typ := range []reflect.Type{reflect.TypeFor[CaseResult](), reflect.TypeFor[Stream](), reflect.TypeFor[Finding]()} {
		if !seen[typ] {
			t.Errorf("the walk never reached %s", typ)
		}
	}
}

func TestJSONRoundTrip(t *testing.T) {
	want := sampleRun()
	doc := writeJSON(t, want)
	got, err := ReadJSON(bytes.NewReader(doc))
	if err != nil {
		t.Fatalf("ReadJSON: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("round trip differs (-want +got):\n%s", diff)
	}
	if again := writeJSON(t, got); !bytes.Equal(doc, again) {
		t.Errorf("writing twice is not stable")
	}
}

func TestWriteJSONShape(t *testing.T) {
	r := &Run{Cases: []CaseResult{{ID: "a/b", Verdict: Fail, Reason: "<script>&", Evidence: &Evidence{}}}}
	doc := string(writeJSON(t, r))
	for _, want := range []string{
		`"schema": "proxyspec-result/1"`,
		`"tags": []`,
		`"rfc": []`,
		`"capabilities": []`,
		`"streams": []`,
		`"reason": "<script>&"`, // not \u003c: the file is read by people too
		"\n  \"tool\": {\n",     // indented
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("output lacks %q:\n%s", want, doc)
		}
	}
	if r.Schema != "" || r.Cases[0].Tags != nil || r.Cases[0].Evidence.Streams != nil {
		t.Errorf("WriteJSON modified its input: %+v", r)
	}
}

func TestWriteJSONErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		w    *failWriter
		run  *Run
		want string
	}{
		{"nil run", &failWriter{}, nil, "nil run"},
		{"other schema", &failWriter{}, &Run{Schema: "proxyspec-result/0"}, `run has schema "proxyspec-result/0"`},
		{"write fails", &failWriter{err: errors.New("disk full")}, sampleRun(), "disk full"},
		{"NaN duration", &failWriter{}, &Run{Duration: math.NaN()}, "unsupported value: NaN"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := WriteJSON(tc.w, tc.run)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestReadJSONErrors(t *testing.T) {
	for _, tc := range []struct {
		name, doc, want string
	}{
		{"not JSON", `schema: 1`, "read JSON"},
		{"not an object", `[1, 2]`, "cannot unmarshal array"},
		{"no schema field", `{"cases": []}`, `no "schema" field`},
		{"newer schema", `{"schema": "proxyspec-result/2"}`, `schema "proxyspec-result/2" is not supported: this build reads "proxyspec-result/1"`},
		{"corpus export", `{"schema": "proxyspec-corpus/1", "cases": []}`, `schema "proxyspec-corpus/1" is not supported`},
		{"bad verdict", `{"schema": "proxyspec-result/1", "cases": [{"id": "a/b", "verdict": "FAILED"}]}`, `case 0 ("a/b"): unknown verdict "FAILED"`},
		{"bad finding verdict", `{"schema": "proxyspec-result/1", "cases": [{"id": "a/b", "verdict": "FAIL", "findings": [{"verdict": "x"}]}]}`, `finding 0: unknown verdict "x"`},
		{"wrong type", `{"schema": "proxyspec-result/1", "cases": {}}`, "cases"},
		{"trailing data", `{"schema": "proxyspec-result/1"} {}`, "read JSON"},
		{"empty", ``, "read JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := ReadJSON(strings.NewReader(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ReadJSON = %v, %v; want an error containing %q", r, err, tc.want)
			}
		})
	}
}

type failWriter struct{ err error }

func (w *failWriter) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	return len(p), nil
}
