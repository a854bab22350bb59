package fuzz

import (
	"testing"

	"github.com/proxyspec/proxyspec/corpus"
)

// seedNonce stands in for a run's nonce in seeds (12 bytes, as always).
const seedNonce = "ps00f022e5ed"

// corpusCases loads the built-in corpus for seeding.
func corpusCases(tb testing.TB) []*corpus.Case {
	tb.Helper()
	cases, err := corpus.Embedded()
	if err != nil {
		tb.Fatalf("load corpus: %v", err)
	}
	return cases
}

// clientSeeds returns each case's client bytes, all sends concatenated, placeholders expanded.
func clientSeeds(tb testing.TB, host string) [][]byte {
	var out [][]byte
	for _, c := range corpusCases(tb) {
		if c.Sweep != "" {
			continue // thousands of near-identical seeds add nothing the mutator won't find
		}
		var b []byte
		for _, s := range c.Client {
			b = append(b, s.Bytes.Expand(corpus.Vars{Nonce: seedNonce, Host: host, Origin: host})...)
		}
		out = append(out, b)
	}
	return out
}
