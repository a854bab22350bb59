package corpus

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCataloguesParse: both catalogues are well-formed and complete.
func TestCataloguesParse(t *testing.T) {
	vecs, err := Vectors()
	require.NoError(t, err)
	require.Len(t, vecs, 106, "the catalogue has 106 vectors")
	for i, v := range vecs {
		assert.Equal(t, i+1, v.N, "vectors are numbered 1..106 in order")
		assert.NotEmpty(t, v.Name)
	}
	reqs, err := Requirements()
	require.NoError(t, err)
	assert.Greater(t, len(reqs), 100, "RFC 9112 2-9 and the RFC 9110 sections hold well over 100 requirements")
}

// TestEveryVectorCoveredOrNotApplicable: each catalogue vector is named by a case, or the
// catalogue says why it does not apply to an HTTP/1.1 proxy.
func TestEveryVectorCoveredOrNotApplicable(t *testing.T) {
	cases, err := Embedded()
	require.NoError(t, err)
	reqs, err := Requirements()
	require.NoError(t, err)
	vecs, err := Vectors()
	require.NoError(t, err)
	cov := Measure(cases, reqs, vecs)
	for _, v := range cov.UncoveredVectors() {
		t.Errorf("vector %d (%s) is named by no case and not marked n/a in vectors.txt", v.N, v.Name)
	}
}

// TestCoverageFileIsCurrent: corpus/COVERAGE.md is what the generator writes for this corpus.
func TestCoverageFileIsCurrent(t *testing.T) {
	cases, err := Embedded()
	require.NoError(t, err)
	reqs, _ := Requirements()
	vecs, _ := Vectors()
	var buf bytes.Buffer
	require.NoError(t, Measure(cases, reqs, vecs).WriteMarkdown(&buf))
	have, err := os.ReadFile("COVERAGE.md")
	require.NoError(t, err, "run: go run ./conformance/cmd/proxyspec coverage --write corpus/COVERAGE.md")
	if !bytes.Equal(have, buf.Bytes()) {
		t.Errorf("corpus/COVERAGE.md is stale; run: go run ./conformance/cmd/proxyspec coverage --write corpus/COVERAGE.md")
	}
}

func TestCoversMatchesQuotesNotJustSections(t *testing.T) {
	req := Requirement{Doc: "RFC9112", Section: "6.1", Text: "Regardless, the server MUST close the connection after responding to such a request to avoid the potential attacks."}
	assert.True(t, covers(Ref{Doc: "RFC9112", Section: "6.1", Quote: "the server MUST close the connection after responding to such a request"}, req))
	assert.False(t, covers(Ref{Doc: "RFC9112", Section: "6.1", Quote: "A server MAY reject a request that contains both"}, req))
	assert.False(t, covers(Ref{Doc: "RFC9110", Section: "6.1", Quote: req.Text}, req))
	assert.True(t, strings.HasPrefix(normalize("  A, B;  c "), "a b c"))
}
