// Package faults proves that the conformance suite is able to fail. A suite that passes a correct
// proxy proves little on its own: it may simply be blind. So the reference proxy is built with
// fault injection (-tags proxyspec_faults), each named fault breaking exactly one rule, and the
// corpus is run against it once per fault. Every fault must be caught by at least one MUST or
// SHOULD case (FAIL or WARN, whichever oracle fired), and the run without faults must be clean, or
// a "catch" means nothing.
//
// Like every other target, refproxy is launched as a process (conformance/targets); this package
// never imports the proxy. It learns the faults from the binary itself (refproxy -list-faults).
//
// The full matrix (make faults) rewrites reports/faults.md and the table of catching cases,
// testdata/catches.json; go test replays only those cases per fault, as a regression net for the
// oracles.
package faults

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// BuildTag is the build tag that compiles fault injection into refproxy.
const BuildTag = "proxyspec_faults"

// Fault is one deliberate deviation of the fault-injection refproxy, as it describes itself.
type Fault struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Rule        string `json:"rule"`
	BugClass    string `json:"bug_class"`
}

// ModuleRoot walks up from dir to the directory holding the proxyspec go.mod.
func ModuleRoot(dir string) (string, error) {
	for d := dir; ; {
		data, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil && bytes.Contains(data, []byte("module github.com/proxyspec/proxyspec\n")) {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("no proxyspec go.mod above %s", dir)
		}
		d = parent
	}
}

// BuildRefproxy builds refproxy with fault injection from the module at root into dir and returns
// the binary's path. The Go build cache makes repeated builds cheap.
func BuildRefproxy(ctx context.Context, root, dir string) (string, error) {
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(gobin); err != nil {
		if gobin, err = exec.LookPath("go"); err != nil {
			return "", fmt.Errorf("build fault-injection refproxy: no go command: %w", err)
		}
	}
	out := filepath.Join(dir, "refproxy-faults")
	cmd := exec.CommandContext(ctx, gobin, "build", "-tags", BuildTag, "-o", out, "./proxy/cmd/refproxy")
	cmd.Dir = root
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build fault-injection refproxy in %s: %w\n%s", root, err, msg)
	}
	return out, nil
}

// Catalogue asks a fault-injection refproxy for its faults (refproxy -list-faults).
func Catalogue(ctx context.Context, bin string) ([]Fault, error) {
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, "-list-faults")
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s -list-faults (is it built with -tags %s?): %w\n%s", bin, BuildTag, err, stderr.Bytes())
	}
	var fs []Fault
	if err := json.Unmarshal(out, &fs); err != nil {
		return nil, fmt.Errorf("%s -list-faults: %w", bin, err)
	}
	if len(fs) == 0 {
		return nil, errors.New(bin + " -list-faults: no faults")
	}
	seen := map[string]bool{}
	for _, f := range fs {
		if f.Name == "" || seen[f.Name] || strings.ContainsAny(f.Name, " \t,") {
			return nil, fmt.Errorf("%s -list-faults: bad or duplicate fault name %q", bin, f.Name)
		}
		seen[f.Name] = true
	}
	return fs, nil
}
