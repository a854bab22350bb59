// Package reports holds the result model of a proxyspec run and writes it as JSON (schema-versioned),
// JUnit XML, Markdown and a self-contained HTML page.
package reports

import "time"

// Schema names the version of the JSON result format. Bump it on any incompatible change and keep
// schema/result.schema.json in step.
const Schema = "proxyspec-result/1"

// Verdict is the judgement of one case.
type Verdict string

const (
	Pass  Verdict = "PASS"  // every check held
	Fail  Verdict = "FAIL"  // a MUST broken, or any desync
	Warn  Verdict = "WARN"  // a SHOULD broken
	Info  Verdict = "INFO"  // a MAY choice, recorded
	Skip  Verdict = "SKIP"  // the target lacks a capability the case needs
	Error Verdict = "ERROR" // harness or target problem; never a pass
)

// Verdicts lists every verdict, most severe first.
var Verdicts = []Verdict{Fail, Error, Warn, Info, Skip, Pass}

// Run is the result of running a set of cases against one target.
type Run struct {
	Schema   string       `json:"schema"`
	Tool     Tool         `json:"tool"`
	Target   Target       `json:"target"`
	Started  time.Time    `json:"started"`
	Duration float64      `json:"duration_ms"`
	Options  Options      `json:"options"`
	Summary  Summary      `json:"summary"`
	Cases    []CaseResult `json:"cases"`
}

// Tool identifies the harness that produced the run.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Target identifies the proxy under test.
type Target struct {
	Name         string   `json:"name"`              // "refproxy", "nginx", or "external"
	Version      string   `json:"version,omitempty"` // exact version where known
	Address      string   `json:"address"`
	Origin       string   `json:"origin"` // the harness origin the target forwards to
	Capabilities []string `json:"capabilities"`
}

// Options records how the run was made, so a result can be reproduced.
type Options struct {
	ReadDeadlineMS float64  `json:"read_deadline_ms"`
	Parallel       int      `json:"parallel"`
	Filters        []string `json:"filters,omitempty"` // e.g. "tag=smuggling"
	Baseline       string   `json:"baseline,omitempty"`
	Strict         bool     `json:"strict"` // WARN counts as a finding
}

// Summary counts verdicts. Expected counts FAIL/WARN results the baseline lists; UnexpectedPass
// counts baseline entries that passed this time.
type Summary struct {
	Total          int `json:"total"`
	Pass           int `json:"pass"`
	Fail           int `json:"fail"`
	Warn           int `json:"warn"`
	Info           int `json:"info"`
	Skip           int `json:"skip"`
	Error          int `json:"error"`
	Expected       int `json:"expected"`
	UnexpectedPass int `json:"unexpected_pass"`
}

// CaseResult is the judgement of one case, with the evidence behind it.
type CaseResult struct {
	ID       string    `json:"id"`
	Title    string    `json:"title"`
	Level    string    `json:"level"`
	Tags     []string  `json:"tags"`
	RFC      []Ref     `json:"rfc"`
	Vectors  []int     `json:"vectors,omitempty"`
	Verdict  Verdict   `json:"verdict"`
	Reason   string    `json:"reason"`             // one line
	Outcome  string    `json:"outcome,omitempty"`  // name of the expectation that held
	Baseline string    `json:"baseline,omitempty"` // "expected" (listed failure) or "unexpected-pass"
	Findings []Finding `json:"findings,omitempty"`
	Duration float64   `json:"duration_ms"`
	Evidence *Evidence `json:"evidence,omitempty"`
}

// Ref is one RFC reference with the requirement it quotes.
type Ref struct {
	Doc     string `json:"doc"`
	Section string `json:"section"`
	Quote   string `json:"quote"`
}

// Finding is one failed check; a case's verdict is the most severe of its findings.
type Finding struct {
	Verdict Verdict `json:"verdict"`
	Oracle  string  `json:"oracle"` // "expect", "no-desync", "upstream-reuse", "forwarded-cleanly", "response-framing", "harness"
	Message string  `json:"message"`
}

// Evidence holds the byte streams of a case run, escaped with the corpus convention
// (each line implicitly ends in CRLF; \n, \r, \c, \xHH mark everything else).
type Evidence struct {
	Streams []Stream `json:"streams"`
}

// Stream is everything one party sent on one connection.
type Stream struct {
	Conn string `json:"conn"`           // "client#1", "origin#3"
	Dir  string `json:"dir"`            // "client>proxy", "proxy>client", "proxy>origin", "origin>proxy"
	Data string `json:"data"`           // escaped
	Note string `json:"note,omitempty"` // e.g. "closed by proxy", "reset", "read deadline passed"
}

// Count recomputes s from the case results.
func (r *Run) Count() {
	s := Summary{Total: len(r.Cases)}
	for _, c := range r.Cases {
		switch c.Verdict {
		case Pass:
			s.Pass++
		case Fail:
			s.Fail++
		case Warn:
			s.Warn++
		case Info:
			s.Info++
		case Skip:
			s.Skip++
		case Error:
			s.Error++
		}
		switch c.Baseline {
		case "expected":
			s.Expected++
		case "unexpected-pass":
			s.UnexpectedPass++
		}
	}
	r.Summary = s
}
