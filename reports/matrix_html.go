package reports

import (
	"bytes"
	"cmp"
	"fmt"
	"html/template"
	"io"
	"strings"
)

// matrixPage is what matrixTemplate renders; every string is escaped by html/template.
type matrixPage struct {
	Title, Intro string
	Impls        []matrixImpl
	Families     []matrixFamily
	Span         int // columns of the grid
	CSS          template.CSS
	Script       template.JS
}

type matrixImpl struct {
	Label, Name, Version, Caps, Note, Report string
	Counts                                   []htmlCount
}

type matrixFamily struct {
	Name string
	Rows []matrixHTMLRow
}

type matrixHTMLRow struct {
	ID, Title, Level string
	Attention        bool // some implementation has FAIL, ERROR or WARN here
	Cells            []matrixCell
}

type matrixCell struct {
	Verdict, Class, Reason, Href string
}

// WriteMatrixHTML writes the matrix as one self-contained HTML page (inline CSS and script): a
// header per implementation with its version, capabilities and verdict counts, then the full
// implementations × cases grid grouped by family. Each cell shows the verdict, its reason as a
// tooltip, and links to the case's transcript in the implementation's own report when Report is
// set. A checkbox narrows the grid to cases where some implementation has FAIL, ERROR or WARN.
func WriteMatrixHTML(w io.Writer, m *Matrix) error {
	if err := m.check(); err != nil {
		return fmt.Errorf("reports: write matrix HTML: %w", err)
	}
	page := matrixPage{
		Title:  oneLine(cmp.Or(m.Title, "proxyspec matrix")),
		Intro:  oneLine(m.Intro),
		CSS:    template.CSS(matrixCSS),
		Script: template.JS(matrixJS),
	}
	for _, r := range m.Runs {
		s := Tally(r.Cases)
		im := matrixImpl{
			Label:   implLabel(r),
			Name:    oneLine(cmp.Or(r.Target.Name, "unnamed")),
			Version: oneLine(r.Target.Version),
			Caps:    oneLine(strings.Join(r.Target.Capabilities, ", ")),
			Note:    oneLine(m.Notes[r.Target.Name]),
			Report:  m.link(r, ""),
		}
		for _, v := range Verdicts {
			im.Counts = append(im.Counts, htmlCount{Verdict: v, Class: string(v), N: s.Of(v)})
		}
		page.Impls = append(page.Impls, im)
	}
	page.Span = len(page.Impls) + 2
	for _, mr := range m.rows() {
		fam := FamilyOf(mr.ID)
		if n := len(page.Families); n == 0 || page.Families[n-1].Name != fam {
			page.Families = append(page.Families, matrixFamily{Name: oneLine(fam)})
		}
		row := matrixHTMLRow{ID: oneLine(mr.ID), Title: oneLine(mr.Title), Level: oneLine(mr.Level)}
		for i, c := range mr.Cells {
			if c == nil {
				row.Cells = append(row.Cells, matrixCell{Verdict: "—", Class: "none", Reason: "not run"})
				continue
			}
			cell := matrixCell{Verdict: oneLine(string(c.Verdict)), Class: string(c.Verdict),
				Reason: oneLine(c.Reason), Href: m.link(m.Runs[i], c.ID)}
			if !c.Verdict.known() {
				cell.Class = "OTHER"
			}
			switch c.Verdict {
			case Pass, Info, Skip:
			default:
				row.Attention = true
			}
			row.Cells = append(row.Cells, cell)
		}
		f := &page.Families[len(page.Families)-1]
		f.Rows = append(f.Rows, row)
	}
	var buf bytes.Buffer
	if err := matrixTemplate.Execute(&buf, page); err != nil {
		return fmt.Errorf("reports: write matrix HTML: %w", err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("reports: write matrix HTML: %w", err)
	}
	return nil
}

var matrixTemplate = template.Must(template.New("matrix").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>{{.CSS}}</style>
</head>
<body>
<header>
<div class="brand">proxyspec <span>matrix</span></div>
<h1>{{.Title}}</h1>
{{- if .Intro}}<p class="intro">{{.Intro}}</p>{{end}}
<table class="impls">
<thead><tr><th class="l">Implementation</th><th class="l">Capabilities</th>{{range (index .Impls 0).Counts}}<th class="v-{{.Class}}">{{.Verdict}}</th>{{end}}</tr></thead>
<tbody>
{{- range .Impls}}
<tr><td class="l"><b>{{if .Report}}<a href="{{.Report}}">{{.Label}}</a>{{else}}{{.Label}}{{end}}</b>{{if .Note}}<div class="note">{{.Note}}</div>{{end}}</td><td class="l">{{.Caps}}</td>{{range .Counts}}<td class="{{if .N}}v-{{.Class}} hit{{else}}nil{{end}}">{{if .N}}{{.N}}{{else}}·{{end}}</td>{{end}}</tr>
{{- end}}
</tbody>
</table>
</header>
<main>
<form class="filters" id="filters" autocomplete="off">
<label><input type="checkbox" id="attention"> only cases with a FAIL, ERROR or WARN</label>
<label>Id <input type="search" id="search" placeholder="filter by case id" spellcheck="false"></label>
<span class="muted">Each cell links to the case's transcript in that implementation's report; hover for the reason.</span>
</form>
<table class="grid" id="grid">
<thead><tr><th class="case">Case</th><th class="lvl">Level</th>{{range .Impls}}<th class="impl" title="{{.Label}}">{{.Name}}<span>{{.Version}}</span></th>{{end}}</tr></thead>
{{- range .Families}}
<tbody class="family">
<tr class="fam"><th colspan="{{$.Span}}" class="case">{{.Name}}</th></tr>
{{- range .Rows}}
<tr class="row" data-id="{{.ID}}"{{if .Attention}} data-attention="1"{{end}}><th class="case" title="{{.Title}}">{{.ID}}</th><td class="lvl">{{.Level}}</td>
{{- range .Cells}}<td class="v v-{{.Class}}" title="{{.Verdict}}: {{.Reason}}">{{if .Href}}<a href="{{.Href}}">{{.Verdict}}</a>{{else}}{{.Verdict}}{{end}}</td>{{end}}</tr>
{{- end}}
</tbody>
{{- end}}
</table>
</main>
<script>{{.Script}}</script>
</body>
</html>
`))

const matrixCSS = `:root { --fg: #1f2328; --muted: #656d76; --line: #d8dee4; --soft: #f6f8fa; --accent: #0b5cad;
  --fail: #c0262d; --fail-bg: #fdeced; --error: #8a2bb3; --error-bg: #f5eafb; --warn: #9a5b00; --warn-bg: #fff3dc;
  --info: #1d5fb8; --info-bg: #e8f0fc; --skip: #5b636b; --skip-bg: #eef0f2; --pass: #1f7a3a; --pass-bg: #e6f4ea;
  --mono: ui-monospace, "SFMono-Regular", "DejaVu Sans Mono", Menlo, Consolas, monospace; }
body { margin: 0; color: var(--fg); font: 14px/1.4 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", Roboto, Helvetica, Arial, sans-serif; }
header { padding: 16px 24px; background: var(--soft); border-bottom: 1px solid var(--line); }
.brand { font-size: 12px; font-weight: 600; letter-spacing: .08em; text-transform: uppercase; color: var(--accent); }
.brand span { color: var(--muted); }
h1 { margin: 2px 0 6px; font-size: 22px; font-weight: 600; }
.intro, .muted, .note { color: var(--muted); }
.note { font-size: 12px; max-width: 70em; }
main { padding: 8px 24px 24px; }
a { color: inherit; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
.impls th, .impls td { padding: 4px 10px; border-bottom: 1px solid var(--line); text-align: right; vertical-align: top; }
.impls th { font-size: 11px; color: var(--c, var(--muted)); }
.impls .l { text-align: left; }
.impls td.nil { color: #b8bfc6; }
.impls td.hit { color: var(--c); font-weight: 600; }
.filters { position: sticky; top: 0; z-index: 3; display: flex; flex-wrap: wrap; gap: 8px 20px; align-items: center; padding: 8px 0; background: #fff; border-bottom: 1px solid var(--line); }
input[type=search] { font: 12.5px var(--mono); padding: 3px 6px; border: 1px solid var(--line); border-radius: 6px; width: 220px; }
.grid { margin-top: 8px; font-size: 12px; }
.grid th, .grid td { border: 1px solid #eaeef2; padding: 2px 6px; }
.grid thead th { position: sticky; top: 42px; z-index: 2; background: var(--soft); font-size: 11px; }
.grid th.impl span { display: block; font-weight: normal; color: var(--muted); }
.grid th.case { text-align: left; font: 12px var(--mono); white-space: nowrap; }
.grid tr.fam th { background: #fff; padding-top: 10px; font: 600 13px system-ui, sans-serif; border: 0; }
.grid td.lvl { color: var(--muted); font-size: 10.5px; }
.grid td.v { text-align: center; font-size: 11px; font-weight: 600; color: var(--c); background: var(--cb); }
.grid td.v a { text-decoration: none; display: block; }
.grid td.v a:hover { text-decoration: underline; }
.v-FAIL { --c: var(--fail); --cb: var(--fail-bg); } .v-ERROR { --c: var(--error); --cb: var(--error-bg); }
.v-WARN { --c: var(--warn); --cb: var(--warn-bg); } .v-INFO { --c: var(--info); --cb: var(--info-bg); }
.v-SKIP { --c: var(--skip); --cb: var(--skip-bg); } .v-PASS { --c: var(--pass); --cb: var(--pass-bg); }
.v-OTHER { --c: var(--error); --cb: var(--error-bg); } .v-none { --c: #b8bfc6; }
`

const matrixJS = `(function () {
  "use strict";
  var att = document.getElementById("attention"), search = document.getElementById("search");
  var rows = Array.prototype.slice.call(document.querySelectorAll("#grid tr.row"));
  var fams = Array.prototype.slice.call(document.querySelectorAll("#grid tbody.family"));
  function apply() {
    var q = search.value.trim().toLowerCase();
    rows.forEach(function (r) {
      r.hidden = (att.checked && !r.hasAttribute("data-attention")) || (q && r.getAttribute("data-id").toLowerCase().indexOf(q) < 0);
    });
    fams.forEach(function (f) { f.hidden = !f.querySelector("tr.row:not([hidden])"); });
  }
  att.addEventListener("change", apply);
  search.addEventListener("input", apply);
  document.getElementById("filters").addEventListener("submit", function (e) { e.preventDefault(); });
})();
`
