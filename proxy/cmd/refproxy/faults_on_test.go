//go:build proxyspec_faults

package main

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
)

func TestListFaults(t *testing.T) {
	var out strings.Builder
	if err := serve(context.Background(), []string{"-list-faults"}, &out, io.Discard); err != nil {
		t.Fatalf("-list-faults: %v", err)
	}
	var list []struct{ Name, Description, Rule, BugClass string }
	if err := json.Unmarshal([]byte(out.String()), &list); err != nil {
		t.Fatalf("-list-faults output is not JSON: %v\n%s", err, out.String())
	}
	if len(list) < 45 {
		t.Errorf("%d faults listed, want at least 45", len(list))
	}
}

func TestUnknownFault(t *testing.T) {
	err := serve(context.Background(), []string{"-listen", "127.0.0.1:0", "-upstream", "127.0.0.1:1", "-fault", "no-such-fault"},
		io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), `unknown fault "no-such-fault"`) {
		t.Errorf("serve with an unknown fault = %v", err)
	}
}
