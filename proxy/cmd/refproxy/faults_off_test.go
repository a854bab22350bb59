//go:build !proxyspec_faults

package main

import (
	"context"
	"io"
	"strings"
	"testing"
)

// TestNoFaultFlagsInDefaultBuild: a default build has no way to inject a
// fault from its command line.
func TestNoFaultFlagsInDefaultBuild(t *testing.T) {
	for _, args := range [][]string{
		{"-listen", "127.0.0.1:0", "-upstream", "127.0.0.1:1", "-fault", "via-missing"},
		{"-list-faults"},
	} {
		var stderr strings.Builder
		err := serve(context.Background(), args, io.Discard, &stderr)
		if err == nil || !strings.Contains(err.Error(), "flag provided but not defined") {
			t.Errorf("serve(%q) = %v, want an undefined-flag error", args, err)
		}
	}
}
