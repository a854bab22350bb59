// The ginkgo suite: one spec per corpus case, labelled by tags, level and RFC sections, so
//
//	ginkgo --label-filter='smuggling && MUST' ./conformance
//
// selects. By default it launches the reference proxy; PROXYSPEC_TARGET (with PROXYSPEC_ORIGIN,
// and PROXYSPEC_CAPS as NAME[=ADDR],...) points it at a proxy that is already running, and
// PROXYSPEC_BASELINE at a baseline of known failures.
package conformance_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"
	. "github.com/onsi/gomega"

	"github.com/proxyspec/proxyspec/conformance/runner"
	"github.com/proxyspec/proxyspec/conformance/suite"
	"github.com/proxyspec/proxyspec/conformance/targets"
	"github.com/proxyspec/proxyspec/conformance/wire"
	"github.com/proxyspec/proxyspec/corpus"
	"github.com/proxyspec/proxyspec/reports"
)

func TestConformance(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "proxyspec conformance")
}

// caseLabels are the ginkgo labels of a case: its tags, its level, and "rfc9112-6.1" per reference.
func caseLabels(c *corpus.Case) Labels {
	ls := Labels{string(c.Level)}
	ls = append(ls, c.Tags...)
	for _, r := range c.RFC {
		ls = append(ls, strings.ToLower(r.Doc)+"-"+r.Section)
	}
	return ls
}

var cases = func() []*corpus.Case {
	cs, err := corpus.Embedded()
	if err != nil {
		panic(err) // the corpus package's own tests name the broken file
	}
	return cs
}()

var results map[string]reports.CaseResult

var _ = BeforeSuite(func(ctx SpecContext) {
	filter, err := types.ParseLabelFilter(GinkgoLabelFilter())
	Expect(err).NotTo(HaveOccurred())
	var selected []*corpus.Case
	for _, c := range cases {
		if filter(caseLabels(c)) {
			selected = append(selected, c)
		}
	}

	originAddr := os.Getenv("PROXYSPEC_ORIGIN")
	if originAddr == "" {
		originAddr = "127.0.0.1:0"
	}
	origin, err := wire.NewOrigin(originAddr)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(origin.Close)

	var target runner.Target
	info := reports.Target{Name: "external"}
	if addr := os.Getenv("PROXYSPEC_TARGET"); addr != "" {
		target = runner.Target{Name: "external", Addr: addr, Host: addr, Caps: map[string]string{}}
		for _, c := range strings.Split(os.Getenv("PROXYSPEC_CAPS"), ",") {
			if n, a, _ := strings.Cut(strings.TrimSpace(c), "="); n != "" {
				target.Caps[n] = a
			}
		}
	} else {
		launched, err := targets.Launch(context.Background(), "refproxy", origin.Addr(), targets.Options{})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(launched.Stop)
		target, info = launched.Target, launched.Info
	}
	var baseline *suite.Baseline
	if f := os.Getenv("PROXYSPEC_BASELINE"); f != "" {
		baseline, err = suite.LoadBaseline(f)
		Expect(err).NotTo(HaveOccurred())
	}
	run, err := suite.Run(ctx, suite.Config{Cases: selected, Filter: suite.Filter{Sweeps: true}, Target: target,
		Info: info, Origin: origin, ReadDeadline: 2 * time.Second, Baseline: baseline})
	Expect(err).NotTo(HaveOccurred())
	results = map[string]reports.CaseResult{}
	for _, r := range run.Cases {
		results[r.ID] = r
	}
}, NodeTimeout(5*time.Minute))

var _ = Describe("corpus", func() {
	for _, c := range cases {
		It(c.ID+": "+c.Title, caseLabels(c), func() {
			r, ok := results[c.ID]
			Expect(ok).To(BeTrue(), "case was not run")
			switch {
			case r.Verdict == reports.Skip:
				Skip(r.Reason)
			case r.Baseline == "expected":
				Skip("expected failure (baseline): " + r.Reason)
			case r.Verdict == reports.Pass, r.Verdict == reports.Info:
				AddReportEntry("outcome", r.Reason)
			default:
				Fail(describe(r))
			}
		})
	}
})

// describe renders a failed result with its evidence, as the failure message.
func describe(r reports.CaseResult) string {
	var b strings.Builder
	b.WriteString(string(r.Verdict) + " [" + r.Level + "] " + r.Reason + "\n")
	for _, ref := range r.RFC {
		b.WriteString(ref.Doc + " §" + ref.Section + ": \"" + ref.Quote + "\"\n")
	}
	for _, f := range r.Findings {
		b.WriteString(string(f.Verdict) + " [" + f.Oracle + "] " + f.Message + "\n")
	}
	if r.Evidence != nil {
		for _, s := range r.Evidence.Streams {
			b.WriteString("== " + s.Conn + " " + s.Dir + " " + s.Note + " ==\n" + s.Data + "\n")
		}
	}
	return b.String()
}
