package corpus

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEmbeddedCorpusIsValid loads every case file in the repository.
func TestEmbeddedCorpusIsValid(t *testing.T) {
	cases, err := Embedded()
	require.NoError(t, err)
	assert.NotEmpty(t, cases)
	for _, c := range cases {
		assert.NotEmpty(t, c.Expect, c.ID)
		for _, l := range c.Requests {
			// Every intended request must be findable by its marker in what the client sends.
			var sent []byte
			for _, s := range c.Client {
				sent = append(sent, s.Bytes.Expand(Vars{Nonce: "ps0123456789", Host: "h"})...)
			}
			assert.Contains(t, string(sent), "/ps0123456789/"+l, "%s: request %q never sent", c.ID, l)
		}
	}
}

func TestLoadFSReportsEveryBadFile(t *testing.T) {
	fsys := fstest.MapFS{
		"cases/a/good.case":  {Data: []byte(goodCase)},
		"cases/a/bad1.case":  {Data: []byte("id: a/bad1\n")},
		"cases/b/bad2.case":  {Data: []byte(strings.Replace(goodCase, "level: MUST", "level: OFTEN", 1))},
		"cases/b/notes.txt":  {Data: []byte("x")},
		"cases/cl-te/x.case": {Data: []byte(strings.Replace(goodCase, "cl-te/both-present", "cl-te/x", 1))},
	}
	_, err := LoadFS(fsys, ".")
	require.Error(t, err)
	msg := err.Error()
	assert.Contains(t, msg, "cases/a/bad1.case: missing required header")
	assert.Contains(t, msg, "cases/b/bad2.case:5: level")
	assert.Contains(t, msg, "cases/a/good.case:1: id")
	assert.Contains(t, msg, "cases/b/notes.txt: not a .case file")
}

func TestExportValidatesAgainstSchema(t *testing.T) {
	cases, err := Embedded()
	require.NoError(t, err)
	c, err := Parse("cases/cl-te/both-present.case", []byte(goodCase))
	require.NoError(t, err)
	cases = append(cases, c)
	var buf bytes.Buffer
	require.NoError(t, WriteExport(&buf, cases))

	sch := compileSchema(t)
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(buf.Bytes()))
	require.NoError(t, err)
	require.NoError(t, sch.Validate(doc))

	// The schema is not a rubber stamp: a broken export fails it.
	var broken map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &broken))
	broken["cases"].([]any)[0].(map[string]any)["level"] = "OFTEN"
	b, _ := json.Marshal(broken)
	doc, err = jsonschema.UnmarshalJSON(bytes.NewReader(b))
	require.NoError(t, err)
	assert.Error(t, sch.Validate(doc))

	// Bytes survive the export: the escaped text decodes to the same template.
	var ex Export
	require.NoError(t, json.Unmarshal(buf.Bytes(), &ex))
	last := ex.Cases[len(ex.Cases)-1]
	lines := strings.Split(strings.TrimSuffix(last.Client[0].Bytes, "\n"), "\n")
	tm, err := decodeSection(lines, 1)
	require.NoError(t, err)
	v := Vars{Nonce: "ps0123456789", Host: "h"}
	assert.Equal(t, string(c.Client[0].Bytes.Expand(v)), string(tm.Expand(v)))
}

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(Schema))
	require.NoError(t, err)
	comp := jsonschema.NewCompiler()
	require.NoError(t, comp.AddResource("corpus.schema.json", doc))
	sch, err := comp.Compile("corpus.schema.json")
	require.NoError(t, err)
	return sch
}
