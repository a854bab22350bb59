package h1

import "testing"

// TestKeyNames: every known key has its usual spelling, which looks it up.
func TestKeyNames(t *testing.T) {
	for k := KeyHost; k <= KeyAcceptRanges; k++ {
		if got := LookupKey([]byte(keyNames[k])); got != k {
			t.Errorf("keyNames[%d] = %q looks up as %d", k, keyNames[k], got)
		}
	}
}
