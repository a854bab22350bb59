package corpus

import (
	"bufio"
	_ "embed"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// The catalogues the coverage map measures the corpus against: the normative sentences of the RFC
// sections the corpus targets, and the smuggling-vector catalogue. Both are plain text, one entry
// per line; see their header comments.
var (
	//go:embed requirements.txt
	requirementsText string
	//go:embed vectors.txt
	vectorsText string
)

// Requirement is one normative sentence of an RFC.
type Requirement struct {
	Doc, Section string
	Level        Level
	Text         string
	NA           string // why no case can check it through a proxy (client-only, ...), if so
	Line         int
}

// Vector is one entry of the smuggling-vector catalogue.
type Vector struct {
	N           int
	Group, Name string
	NA          string // why it does not apply to an HTTP/1.1 proxy, if it does not
}

var reqLineRE = regexp.MustCompile(`^(RFC91(10|12)) ([0-9]+(\.[0-9]+)*) (MUST|SHOULD|MAY) "([^"]*)"(?: n/a: (.+))?$`)

// Requirements parses the embedded requirement catalogue.
func Requirements() ([]Requirement, error) {
	return parseRequirements(strings.NewReader(requirementsText))
}

func parseRequirements(r io.Reader) ([]Requirement, error) {
	var out []Requirement
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		m := reqLineRE.FindStringSubmatch(l)
		if m == nil {
			return nil, fmt.Errorf("requirements.txt:%d: want DOC SECTION LEVEL \"sentence\" [n/a: reason]", n)
		}
		out = append(out, Requirement{Doc: m[1], Section: m[3], Level: Level(m[5]), Text: m[6], NA: m[7], Line: n})
	}
	return out, sc.Err()
}

// Vectors parses the embedded vector catalogue.
func Vectors() ([]Vector, error) { return parseVectors(strings.NewReader(vectorsText)) }

func parseVectors(r io.Reader) ([]Vector, error) {
	var out []Vector
	sc := bufio.NewScanner(r)
	n := 0
	for sc.Scan() {
		n++
		l := sc.Text()
		if strings.TrimSpace(l) == "" || strings.HasPrefix(l, "#") {
			continue
		}
		f := strings.Split(l, "\t")
		if len(f) < 3 {
			return nil, fmt.Errorf("vectors.txt:%d: want N<TAB>GROUP<TAB>name[<TAB>n/a: reason]", n)
		}
		num, err := strconv.Atoi(f[0])
		if err != nil {
			return nil, fmt.Errorf("vectors.txt:%d: %q is not a number", n, f[0])
		}
		v := Vector{N: num, Group: f[1], Name: f[2]}
		if len(f) > 3 {
			v.NA = strings.TrimSpace(strings.TrimPrefix(f[3], "n/a:"))
		}
		out = append(out, v)
	}
	return out, sc.Err()
}

// Coverage is what the corpus covers.
type Coverage struct {
	Cases, Sweeps, Instances int // hand-written cases, sweep files, sweep instances
	Families                 []FamilyCount
	Sections                 []SectionCount
	Levels                   map[Level]int
	Vectors                  []VectorCoverage
	Requirements             int
	Uncovered                []Requirement // testable through a proxy, but quoted by no case
	NotApplicable            []Requirement // quoted by no case, and why none can check them
}

// FamilyCount counts a family's cases by level (sweep instances apart).
type FamilyCount struct {
	Family    string
	ByLevel   map[Level]int
	Instances int
}

// SectionCount counts cases citing one RFC section.
type SectionCount struct {
	Ref   string // "RFC9112 6.3"
	Cases int
}

// VectorCoverage lists the cases naming a vector.
type VectorCoverage struct {
	Vector
	Cases []string
}

// normalize makes quotes comparable: lower case, letters and digits only, single spaces.
func normalize(s string) string {
	var b strings.Builder
	space := false
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteRune(r)
			space = false
		} else {
			space = true
		}
	}
	return b.String()
}

// covers reports whether a case's quote is (part of) the requirement sentence, or contains it.
func covers(ref Ref, req Requirement) bool {
	// A case may cite the enclosing section of the sentence (3.2 for one in 3.2.1) or a
	// subsection; the quote decides.
	nested := func(a, b string) bool { return a == b || strings.HasPrefix(b, a+".") }
	if ref.Doc != req.Doc || !nested(ref.Section, req.Section) && !nested(req.Section, ref.Section) {
		return false
	}
	q, t := normalize(ref.Quote), normalize(req.Text)
	return q != "" && (strings.Contains(t, q) || strings.Contains(q, t))
}

// Measure computes the coverage of cases against the catalogues.
func Measure(cases []*Case, reqs []Requirement, vecs []Vector) *Coverage {
	cov := &Coverage{Levels: map[Level]int{}, Requirements: len(reqs)}
	fam := map[string]*FamilyCount{}
	sec := map[string]int{}
	byVector := map[int][]string{}
	sweepFiles := map[string]bool{}
	var refs []Ref
	for _, c := range cases {
		f := strings.SplitN(c.ID, "/", 2)[0]
		fc := fam[f]
		if fc == nil {
			fc = &FamilyCount{Family: f, ByLevel: map[Level]int{}}
			fam[f] = fc
		}
		base := c.ID
		if c.Sweep != "" {
			cov.Instances++
			fc.Instances++
			base = strings.SplitN(c.ID, "@", 2)[0]
			if sweepFiles[base] {
				continue // count a sweep's references and vectors once
			}
			sweepFiles[base] = true
			cov.Sweeps++
		} else {
			cov.Cases++
			fc.ByLevel[c.Level]++
			cov.Levels[c.Level]++
		}
		for _, r := range c.RFC {
			sec[r.Doc+" "+r.Section]++
			refs = append(refs, r)
		}
		for _, n := range c.Vectors {
			byVector[n] = append(byVector[n], base)
		}
	}
	for _, fc := range fam {
		cov.Families = append(cov.Families, *fc)
	}
	sort.Slice(cov.Families, func(i, j int) bool { return cov.Families[i].Family < cov.Families[j].Family })
	for k, n := range sec {
		cov.Sections = append(cov.Sections, SectionCount{Ref: k, Cases: n})
	}
	sort.Slice(cov.Sections, func(i, j int) bool { return sectionLess(cov.Sections[i].Ref, cov.Sections[j].Ref) })
	for _, v := range vecs {
		ids := byVector[v.N]
		sort.Strings(ids)
		cov.Vectors = append(cov.Vectors, VectorCoverage{Vector: v, Cases: ids})
	}
	for _, rq := range reqs {
		hit := false
		for _, r := range refs {
			if covers(r, rq) {
				hit = true
				break
			}
		}
		switch {
		case hit:
		case rq.NA != "":
			cov.NotApplicable = append(cov.NotApplicable, rq)
		default:
			cov.Uncovered = append(cov.Uncovered, rq)
		}
	}
	return cov
}

// sectionLess orders "RFC9110 5.5" before "RFC9110 14.1" before "RFC9112 2.2".
func sectionLess(a, b string) bool {
	da, sa, _ := strings.Cut(a, " ")
	db, sb, _ := strings.Cut(b, " ")
	if da != db {
		return da < db
	}
	pa, pb := strings.Split(sa, "."), strings.Split(sb, ".")
	for i := 0; i < len(pa) && i < len(pb); i++ {
		x, _ := strconv.Atoi(pa[i])
		y, _ := strconv.Atoi(pb[i])
		if x != y {
			return x < y
		}
	}
	return len(pa) < len(pb)
}

// UncoveredVectors lists applicable vectors no case names.
func (c *Coverage) UncoveredVectors() []Vector {
	var out []Vector
	for _, v := range c.Vectors {
		if v.NA == "" && len(v.Cases) == 0 {
			out = append(out, v.Vector)
		}
	}
	return out
}

// WriteMarkdown renders the coverage map (corpus/COVERAGE.md).
func (c *Coverage) WriteMarkdown(w io.Writer) error {
	bw := bufio.NewWriter(w)
	p := func(format string, a ...any) { fmt.Fprintf(bw, format, a...) }
	p("# Corpus coverage\n\nGenerated by `proxyspec coverage --write corpus/COVERAGE.md`; do not edit by hand.\n\n")
	p("%d hand-written cases and %d sweeps expanding to %d instances: %d cases in all.\n\n", c.Cases, c.Sweeps, c.Instances, c.Cases+c.Instances)
	p("## By level (hand-written cases)\n\n| level | cases |\n|---|---:|\n")
	for _, l := range []Level{MUST, SHOULD, MAY} {
		p("| %s | %d |\n", l, c.Levels[l])
	}
	p("\n## By family\n\n| family | MUST | SHOULD | MAY | cases | sweep instances |\n|---|---:|---:|---:|---:|---:|\n")
	for _, f := range c.Families {
		p("| %s | %d | %d | %d | %d | %d |\n", f.Family, f.ByLevel[MUST], f.ByLevel[SHOULD], f.ByLevel[MAY],
			f.ByLevel[MUST]+f.ByLevel[SHOULD]+f.ByLevel[MAY], f.Instances)
	}
	p("\n## By RFC section (cases citing it; a sweep counts once)\n\n| section | cases |\n|---|---:|\n")
	for _, s := range c.Sections {
		p("| %s | %d |\n", strings.Replace(s.Ref, " ", " §", 1), s.Cases)
	}
	covered, na := 0, 0
	for _, v := range c.Vectors {
		switch {
		case v.NA != "":
			na++
		case len(v.Cases) > 0:
			covered++
		}
	}
	p("\n## Smuggling vectors\n\nThe catalogue in `corpus/vectors.txt` (from the project's research notes): %d vectors, %d covered, %d not applicable, %d not yet covered.\n\n", len(c.Vectors), covered, na, len(c.Vectors)-covered-na)
	p("| # | group | vector | cases |\n|---:|---|---|---|\n")
	for _, v := range c.Vectors {
		cell := strings.Join(v.Cases, ", ")
		switch {
		case v.NA != "" && cell == "":
			cell = "n/a: " + v.NA
		case cell == "":
			cell = "**not covered**"
		}
		p("| %d | %s | %s | %s |\n", v.N, v.Group, mdEscape(v.Name), cell)
	}
	p("\n## Requirements with no case yet\n\nOf %d normative sentences in RFC 9112 §2–§9 and RFC 9110 §5, §7.6, §7.8, §8.6, §9.3.6, §14 (`corpus/requirements.txt`), %d are quoted by cases (a case covers a sentence when its `rfc:` quote is part of it), %d cannot be checked through a proxy (listed at the end with the reason), and %d have no case yet:\n",
		c.Requirements, c.Requirements-len(c.Uncovered)-len(c.NotApplicable), len(c.NotApplicable), len(c.Uncovered))
	list := func(rs []Requirement, withReason bool) {
		last := ""
		for _, r := range rs {
			if s := r.Doc + " §" + r.Section; s != last {
				p("\n**%s**\n\n", s)
				last = s
			}
			p("- %s: %s", r.Level, mdEscape(r.Text))
			if withReason {
				p(" *(n/a: %s)*", mdEscape(r.NA))
			}
			p("\n")
		}
	}
	list(c.Uncovered, false)
	p("\n## Requirements no case can check through a proxy\n")
	list(c.NotApplicable, true)
	return bw.Flush()
}

func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "*", `\*`, "_", `\_`, "<", "&lt;").Replace(s)
}
