package reports

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"
)

func writeHTML(t *testing.T, r *Run) string {
	t.Helper()
	var b bytes.Buffer
	if err := WriteHTML(&b, r); err != nil {
		t.Fatalf("WriteHTML: %v", err)
	}
	return b.String()
}

var (
	tagPattern = regexp.MustCompile(`^<(/?)([a-zA-Z][a-zA-Z0-9]*)((?:\s+[a-zA-Z-]+(?:="[^"<]*")?)*)\s*>`)
	voidTags   = map[string]bool{"meta": true, "input": true, "br": true, "hr": true, "img": true, "link": true, "col": true, "wbr": true}
)

// checkHTML is a strict structural check of the page (no HTML parser is at hand): every element
// but the void ones is closed in order, attribute values are double-quoted and hold no '<', no
// '<' stands outside a tag, and script and style bodies hold no end tag of their own.
// It returns the contents of the script and style elements, keyed by their id or tag name, and
// every tag, one a line, as "tags".
func checkHTML(t *testing.T, doc string) map[string]string {
	t.Helper()
	raw := map[string]string{}
	if !strings.HasPrefix(doc, "<!DOCTYPE html>\n") {
		t.Errorf("page does not start with <!DOCTYPE html>")
	}
	rest := strings.TrimPrefix(doc, "<!DOCTYPE html>\n")
	var stack []string
	var tags strings.Builder
	line := func() int { return strings.Count(doc[:len(doc)-len(rest)], "\n") + 1 }
	for {
		i := strings.IndexByte(rest, '<')
		if i < 0 {
			break
		}
		rest = rest[i:]
		if strings.HasPrefix(rest, "<!--") {
			end := strings.Index(rest, "-->")
			if end < 0 {
				t.Fatalf("line %d: unclosed comment", line())
			}
			rest = rest[end+3:]
			continue
		}
		m := tagPattern.FindStringSubmatch(rest)
		if m == nil {
			t.Fatalf("line %d: '<' outside a tag: %.60q", line(), rest)
		}
		if strings.Contains(m[3], `="&#34;`) {
			// html/template quotes values it takes for JavaScript (e.g. a data-on... attribute).
			t.Errorf("line %d: attribute value escaped as a JS string: %s", line(), m[0])
		}
		tags.WriteString(m[0])
		tags.WriteByte('\n')
		closing, name := m[1] == "/", strings.ToLower(m[2])
		rest = rest[len(m[0]):]
		switch {
		case closing:
			if len(stack) == 0 || stack[len(stack)-1] != name {
				t.Fatalf("line %d: </%s> closes %v", line(), name, stack)
			}
			stack = stack[:len(stack)-1]
		case voidTags[name]:
		case name == "script" || name == "style":
			end := strings.Index(strings.ToLower(rest), "</"+name)
			if end < 0 {
				t.Fatalf("line %d: unclosed <%s>", line(), name)
			}
			key := name
			if id := regexp.MustCompile(`id="([^"]*)"`).FindStringSubmatch(m[3]); id != nil {
				key = id[1]
			}
			raw[key] = rest[:end]
			if strings.Contains(strings.ToLower(rest[:end]), "<!--") {
				t.Errorf("line %d: <%s> body contains <!--", line(), name)
			}
			rest = rest[end:]
			stack = append(stack, name)
		default:
			stack = append(stack, name)
		}
	}
	if len(stack) != 0 {
		t.Errorf("unclosed elements at the end: %v", stack)
	}
	raw["tags"] = tags.String()
	return raw
}

func TestHTMLStructure(t *testing.T) {
	for name, r := range map[string]*Run{"sample": sampleRun(), "hostile": hostileRun(), "empty": {}} {
		t.Run(name, func(t *testing.T) {
			doc := writeHTML(t, r)
			raw := checkHTML(t, doc)
			for _, key := range []string{"style", "script", "case-data"} {
				if raw[key] == "" {
					t.Errorf("no %s element", key)
				}
			}
			var details []htmlDetail
			if err := json.Unmarshal([]byte(raw["case-data"]), &details); err != nil {
				t.Fatalf("case data is not JSON: %v", err)
			}
			if len(details) != len(r.Cases) {
				t.Errorf("%d case details, want %d", len(details), len(r.Cases))
			}
			if n := strings.Count(doc, `<tr class="case"`); n != len(r.Cases) {
				t.Errorf("%d case rows, want %d", n, len(r.Cases))
			}
		})
	}
}

func TestHTMLContent(t *testing.T) {
	r := sampleRun()
	doc := writeHTML(t, r)
	for _, c := range r.Cases {
		if !strings.Contains(doc, `data-id="`+html.EscapeString(c.ID)+`"`) || !strings.Contains(doc, ">"+html.EscapeString(c.ID)+"<") {
			t.Errorf("page lacks case %s", c.ID)
		}
	}
	for _, want := range []string{
		"<title>proxyspec: refproxy 0.4.0-dev at 127.0.0.1:18080</title>",
		`<span class="n">2</span><span class="l">FAIL</span>`,
		`<span class="n">44</span><span class="l">Total</span>`,
		`<button type="button" class="card v-FAIL" data-show="FAIL" title="Show only FAIL">`,
		`<input type="checkbox" name="verdict" value="WARN" checked>`,
		`<option value="smuggling">smuggling (4)</option>`,
		`<input type="search" id="search"`,
		`<span class="badge v-FAIL">FAIL</span> <span class="tag base">expected</span>`,
		`<span class="tag base">unexpected pass</span>`,
		`<td class="l mono">cl-te</td><td>8</td>`,
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// The most severe cases come first.
	if strings.Index(doc, `data-v="FAIL"`) > strings.Index(doc, `data-v="PASS"`) {
		t.Errorf("PASS rows come before FAIL rows")
	}
	// Details carry the four streams per connection, escaped as in the result.
	raw := checkHTML(t, doc)
	var details []htmlDetail
	if err := json.Unmarshal([]byte(raw["case-data"]), &details); err != nil {
		t.Fatal(err)
	}
	d := details[0] // cl-te/both-present sorts first
	if d.Title != r.Cases[0].Title || len(d.RFC) != 2 || len(d.Findings) != 3 || len(d.Streams) != 4 {
		t.Fatalf("details of the first row: %+v", d)
	}
	for i, dir := range []string{"client>proxy", "proxy>client", "proxy>origin", "origin>proxy"} {
		if d.Streams[i].Dir != dir || d.Streams[i].Data != r.Cases[0].Evidence.Streams[i].Data {
			t.Errorf("stream %d = %+v, want %s as in the result", i, d.Streams[i], dir)
		}
	}
}

func TestHTMLEscapesCaseData(t *testing.T) {
	r := hostileRun()
	r.Cases[0].ID = `cl-te/"><script>alert(3)</script>`
	doc := writeHTML(t, r)
	checkHTML(t, doc)
	if n := strings.Count(doc, "<script"); n != 2 {
		t.Errorf("%d <script elements, want our 2", n)
	}
	if n := strings.Count(doc, "</script"); n != 2 {
		t.Errorf("%d </script, want our 2", n)
	}
	if strings.Contains(doc, "alert(") && regexp.MustCompile(`<script>alert`).MatchString(doc) {
		t.Errorf("case data appears unescaped")
	}
	for _, want := range []string{
		"title &lt;script&gt;alert(1)&lt;/script&gt;",
		`reason &lt;script&gt;alert(1)&lt;/script&gt;\x00\x1b[31m]]&gt;&amp;amp;&#34;&#39;\nsecond line\r\x7f\u202e\xff`,
		`data-id="cl-te/&#34;&gt;&lt;script&gt;alert(3)&lt;/script&gt;"`,
		`\u003cscript\u003ealert(2)\u003c/script\u003e\\x00`, // in the JSON details
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	for _, b := range []byte{0x00, 0x1b, 0x7f} {
		if strings.IndexByte(doc, b) >= 0 {
			t.Errorf("page contains byte %#02x", b)
		}
	}
}

func TestHTMLSelfContained(t *testing.T) {
	var (
		attr  = regexp.MustCompile(`(?i)\s(src|href|action|formaction|poster|srcset|data|xlink:href|background)=`)
		elem  = regexp.MustCompile(`(?i)^<(link|iframe|img|object|embed|audio|video|source|base|frame)\b`)
		style = regexp.MustCompile(`(?i)url\(|@import`)
		code  = regexp.MustCompile(`\bfetch\(|XMLHttpRequest|\bimport\(|\.src\s*=|\bWebSocket\b|EventSource|sendBeacon`)
	)
	selfContained := func(t *testing.T, doc string) {
		t.Helper()
		raw := checkHTML(t, doc)
		for _, tag := range strings.Split(raw["tags"], "\n") {
			if attr.MatchString(tag) || elem.MatchString(tag) {
				t.Errorf("tag references a resource: %s", tag)
			}
		}
		if m := style.FindString(raw["style"]); m != "" {
			t.Errorf("style loads a resource: %q", m)
		}
		if m := code.FindString(raw["script"]); m != "" {
			t.Errorf("script loads a resource: %q", m)
		}
	}
	for name, r := range map[string]*Run{"sample": sampleRun(), "hostile": hostileRun()} {
		t.Run(name, func(t *testing.T) {
			doc := writeHTML(t, r)
			selfContained(t, doc)
			if strings.Contains(doc, "http://") || strings.Contains(doc, "https://") {
				t.Errorf("page contains an http(s):// reference")
			}
		})
	}
	t.Run("URLs in case data", func(t *testing.T) {
		// Case data may hold URLs (absolute-form requests, hostile reasons); they stay inert text.
		r := sampleRun()
		r.Cases[0].Evidence.Streams[0].Data = lines("GET http://127.0.0.1:18080/ps3f9a1c0b2d/a HTTP/1.1", "Host: 127.0.0.1:18080", "")
		r.Cases[0].Reason = `see <img src="https://example.com/x.png">`
		doc := writeHTML(t, r)
		selfContained(t, doc)
		if !strings.Contains(doc, `see &lt;img src=&#34;https://example.com/x.png&#34;&gt;`) {
			t.Errorf("the reason is not shown as escaped text")
		}
	})
}

func TestHTMLManyCases(t *testing.T) {
	r := &Run{Schema: Schema}
	for i := range 5000 {
		v := Verdicts[i%len(Verdicts)]
		r.Cases = append(r.Cases, CaseResult{
			ID: fmt.Sprintf("fam%02d/case-%04d", i%40, i), Title: "a case", Level: "MUST", Tags: []string{fmt.Sprintf("tag%d", i%7)},
			Verdict: v, Reason: "reason",
			Evidence: &Evidence{Streams: []Stream{{Conn: "client#1", Dir: "client>proxy", Data: lines("GET /ps0123456789/a HTTP/1.1", "Host: x", "")}}},
		})
	}
	start := time.Now()
	doc := writeHTML(t, r)
	t.Logf("5000 cases: %d KiB in %v", len(doc)/1024, time.Since(start))
	checkHTML(t, doc)
	if n := strings.Count(doc, `<tr class="case"`); n != 5000 {
		t.Errorf("%d rows, want 5000", n)
	}
	if len(doc) > 5000*1024 {
		t.Errorf("page is %d KiB for 5000 small cases; keep it lean", len(doc)/1024)
	}
}

func TestHTMLErrors(t *testing.T) {
	if err := WriteHTML(io.Discard, nil); err == nil {
		t.Errorf("WriteHTML(nil) succeeded")
	}
	if err := WriteHTML(&failWriter{err: errors.New("broken pipe")}, sampleRun()); err == nil || !strings.Contains(err.Error(), "broken pipe") {
		t.Errorf("write error not reported: %v", err)
	}
}
