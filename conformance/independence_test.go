package conformance_test

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestHarnessNeverImportsTheReferenceProxy: the oracle must be independent. Two copies of one
// misunderstanding agree with each other, so nothing the harness is built from may depend on the
// reference proxy's packages, directly or not. The harness launches refproxy as a process.
func TestHarnessNeverImportsTheReferenceProxy(t *testing.T) {
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	out, err := exec.Command(gobin, "list", "-deps", "-test", "-f", "{{.ImportPath}}",
		"github.com/proxyspec/proxyspec/conformance/...",
		"github.com/proxyspec/proxyspec/corpus/...",
		"github.com/proxyspec/proxyspec/reports/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list returned only %d packages; the check would prove nothing", len(deps))
	}
	for _, d := range deps {
		if strings.HasPrefix(d, "github.com/proxyspec/proxyspec/proxy") {
			t.Errorf("the harness depends on %s", d)
		}
	}
}
