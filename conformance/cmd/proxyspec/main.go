// Command proxyspec runs the HTTP/1.1 conformance and request-smuggling suite against a proxy.
//
//	proxyspec run --launch refproxy --markdown report.md
//	proxyspec run --target 127.0.0.1:8080 --origin 127.0.0.1:9081 --junit out.xml
//	proxyspec list [--tag smuggling]
//	proxyspec show ID
//	proxyspec export [-o corpus.json]
//
// Exit codes: 0 clean, 1 findings (FAIL, or WARN with --strict, not covered by the baseline),
// 2 usage, harness or target error.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `proxyspec: HTTP/1.1 conformance and request-smuggling tests for proxies

usage:
  proxyspec run [flags]       run the suite (see proxyspec run -h)
  proxyspec matrix [flags]    run the suite against every launcher; write MATRIX.md, matrix.html, results/
  proxyspec list [filters]    list the cases
  proxyspec show ID           show a case, its RFC text, and its last result
  proxyspec export [-o FILE]  write the corpus as JSON (schema: corpus/corpus.schema.json)
  proxyspec coverage [--write corpus/COVERAGE.md]
                              cases per family, RFC section and level; vectors; uncovered requirements
  proxyspec version

exit codes: 0 clean, 1 findings, 2 usage, harness or target error
`

// exitError carries an exit code through main.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	code := realMain(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func realMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "run":
		err = cmdRun(ctx, args[1:], stdout, stderr)
	case "matrix":
		err = cmdMatrix(ctx, args[1:], stdout, stderr)
	case "list":
		err = cmdList(args[1:], stdout, stderr)
	case "show", "explain":
		err = cmdShow(args[1:], stdout, stderr)
	case "export":
		err = cmdExport(args[1:], stdout, stderr)
	case "coverage":
		err = cmdCoverage(args[1:], stdout, stderr)
	case "version", "-version", "--version":
		fmt.Fprintln(stdout, "proxyspec", version())
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "proxyspec: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil && ee.err.Error() != "" {
			fmt.Fprintln(stderr, "proxyspec:", ee.err)
		}
		return ee.code
	}
	fmt.Fprintln(stderr, "proxyspec:", err)
	return 2
}
