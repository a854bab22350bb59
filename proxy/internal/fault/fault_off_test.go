//go:build !proxyspec_faults

package fault

import (
	"errors"
	"testing"
)

func TestDisabled(t *testing.T) {
	if Enabled || len(List()) != 0 {
		t.Fatal("a default build lists faults")
	}
	if _, err := Parse([]string{"via-missing"}); !errors.Is(err, ErrDisabled) {
		t.Errorf("Parse in a default build: %v, want ErrDisabled", err)
	}
	var s Set
	if s.Has(ViaMissing) || !s.Empty() {
		t.Error("an empty Set has a fault")
	}
	if _, err := Parse(nil); err != nil {
		t.Errorf("Parse(nil): %v", err)
	}
}
