package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/proxyspec/proxyspec/reports"
)

// TestMatrixCommand runs the matrix against the two launchers that need no package (refproxy and
// Go's ReverseProxy) on a few cases, and checks every file it writes.
func TestMatrixCommand(t *testing.T) {
	out := t.TempDir()
	results := filepath.Join(out, "results")
	if err := os.MkdirAll(results, 0o755); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(results, "gone-1.0.json")
	if err := os.WriteFile(stale, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI(t, "matrix", "--out", out, "--launch", "refproxy,go-reverseproxy",
		"--case", "connection/*", "--deadline", "1s")
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale result %s was kept", stale)
	}
	jsons, _ := filepath.Glob(filepath.Join(results, "*.json"))
	if len(jsons) != 2 {
		t.Fatalf("results: %v, want 2 JSON files", jsons)
	}
	for _, f := range jsons {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var r reports.Run
		if err := json.Unmarshal(data, &r); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if want := reports.ResultBase(r.Target) + ".json"; filepath.Base(f) != want {
			t.Errorf("result file %s, want %s", filepath.Base(f), want)
		}
		if r.Summary.Total == 0 || r.Summary.Error != 0 {
			t.Errorf("%s: summary %+v", f, r.Summary)
		}
		if _, err := os.Stat(strings.TrimSuffix(f, ".json") + ".html"); err != nil {
			t.Errorf("no HTML report next to %s: %v", f, err)
		}
	}
	md, err := os.ReadFile(filepath.Join(out, "MATRIX.md"))
	if err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(filepath.Join(out, "matrix.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"**refproxy ", "**go-reverseproxy go", "## By family", "## Findings"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("MATRIX.md lacks %q", want)
		}
	}
	if !strings.Contains(string(page), `href="results/go-reverseproxy-go`) {
		t.Error("matrix.html does not link to the go-reverseproxy report")
	}
}

func TestMatrixUnknownLauncher(t *testing.T) {
	code, _, stderr := runCLI(t, "matrix", "--out", t.TempDir(), "--launch", "no-such-proxy")
	if code != 2 || !strings.Contains(stderr, "unknown launcher") {
		t.Errorf("exit %d, stderr %q; want 2 and an unknown-launcher error", code, stderr)
	}
}
