// Package corpus loads, validates and exports proxyspec's test cases: one case per file under
// cases/, in the format documented in README.md.
package corpus

import "time"

// Level is the strength of the requirement a case checks.
type Level string

const (
	MUST   Level = "MUST"
	SHOULD Level = "SHOULD"
	MAY    Level = "MAY"
)

// Case is one test case.
type Case struct {
	ID       string    `json:"id"`
	Title    string    `json:"title"`
	File     string    `json:"file"` // path relative to the corpus root
	RFC      []Ref     `json:"rfc"`
	Level    Level     `json:"level"`
	Tags     []string  `json:"tags"`
	Needs    []string  `json:"needs,omitempty"`
	Vectors  []int     `json:"vectors,omitempty"`
	Requests []string  `json:"requests"` // intended request labels, in order
	Probe    bool      `json:"probe"`    // send a follow-up probe on connections left open
	Expect   []Outcome `json:"expect"`   // alternatives
	Notes    []string  `json:"notes,omitempty"`
	Sweep    string    `json:"sweep,omitempty"` // for a sweep instance, its variables: "B=0a,POS=name-prefix"
	Client   []Step    `json:"client"`
	Origin   []Action  `json:"origin"`
}

// Ref is an RFC reference and the requirement it quotes.
type Ref struct {
	Doc     string `json:"doc"`     // RFC9110, RFC9112, RFC9113
	Section string `json:"section"` // dotted digits
	Quote   string `json:"quote"`
}

// StepKind is what a client step does.
type StepKind string

const (
	Send     StepKind = "send"
	Pause    StepKind = "pause"
	Await    StepKind = "await"
	Shutdown StepKind = "shutdown"
	Connect  StepKind = "connect"
)

// Step is one client section.
type Step struct {
	Kind  StepKind      `json:"kind"`
	Bytes Template      `json:"bytes,omitempty"` // Send
	Pause time.Duration `json:"pause,omitempty"` // Pause
	Line  int           `json:"line"`
}

// ActionKind is how the origin answers one request.
type ActionKind string

const (
	Echo    ActionKind = "echo"
	Respond ActionKind = "respond"
	Hold    ActionKind = "hold"
	Close   ActionKind = "close"
)

// Action is one origin section.
type Action struct {
	Kind       ActionKind `json:"kind"`
	Bytes      Template   `json:"bytes,omitempty"` // Respond
	CloseAfter bool       `json:"close_after,omitempty"`
	Tunnel     bool       `json:"tunnel,omitempty"`
	Line       int        `json:"line"`
}

// Outcome is one acceptable outcome: every term must hold.
type Outcome struct {
	Name  string `json:"name"`
	Terms []Term `json:"terms"`
	Text  string `json:"text"` // as written in the file
	Line  int    `json:"line"`
}

// TermKind names the check a term makes; see README.md "Expectations".
type TermKind string

const (
	TStatus      TermKind = "status"       // LABEL=SET
	TOrigin      TermKind = "origin"       // origin=a,b | origin=none
	TBody        TermKind = "body"         // body.LABEL="..."
	TClose       TermKind = "close"        // close
	TOpen        TermKind = "open"         // open
	TNewConn     TermKind = "newconn"      // newconn.LABEL
	TSameConn    TermKind = "sameconn"     // sameconn.LABEL
	TRespHdr     TermKind = "resp.hdr"     // resp.LABEL.hdr.NAME[="v"]
	TRespNoHdr   TermKind = "resp.nohdr"   // resp.LABEL.nohdr.NAME
	TRespBody    TermKind = "resp.body"    // resp.LABEL.body="..."
	TRespInterim TermKind = "resp.interim" // resp.LABEL.interim=none|100,103
	TFwdHdr      TermKind = "fwd.hdr"      // fwd.LABEL.hdr.NAME[="v"]
	TFwdNoHdr    TermKind = "fwd.nohdr"    // fwd.LABEL.nohdr.NAME
	TTunnel      TermKind = "tunnel"       // tunnel
	TTunneled    TermKind = "tunneled"     // tunneled="text"
	TFwdMethod   TermKind = "fwd.method"   // fwd.LABEL.method="GET"
	TFwdTarget   TermKind = "fwd.target"   // fwd.LABEL.target="/{nonce}/a"
)

// Term is one parsed expectation term.
type Term struct {
	Kind     TermKind        `json:"kind"`
	Label    string          `json:"label,omitempty"`
	Statuses []StatusPattern `json:"statuses,omitempty"` // TStatus, TRespInterim; empty with None set means "none"
	None     bool            `json:"none,omitempty"`     // a=none, origin=none, interim=none
	Labels   []string        `json:"labels,omitempty"`   // TOrigin
	Name     string          `json:"name,omitempty"`     // header name
	Value    []byte          `json:"value,omitempty"`    // expected value or body
	HasValue bool            `json:"has_value,omitempty"`
	Op       string          `json:"op,omitempty"` // "=" exact; header terms also "~=" list has token (any case), "!=" differs or absent; header and body terms "*=" contains
	Text     string          `json:"text"`         // as written
}

// StatusPattern is "404" (exact) or "4xx" (class).
type StatusPattern string

// Match reports whether status matches the pattern.
func (p StatusPattern) Match(status int) bool {
	if len(p) != 3 || status < 100 || status > 999 {
		return false
	}
	if p[1] == 'x' {
		return int(p[0]-'0') == status/100
	}
	return int(p[0]-'0')*100+int(p[1]-'0')*10+int(p[2]-'0') == status
}

// Template is bytes with placeholders, kept apart so an escaped "\x7b" is never taken for one.
type Template []Segment

// Segment is literal bytes, or a placeholder name when Var is set.
type Segment struct {
	Lit []byte `json:"lit,omitempty"`
	Var string `json:"var,omitempty"` // nonce, host, origin, label
}

// Vars are the values placeholders expand to.
type Vars struct {
	Nonce, Host, Origin, Label string
}

// Expand returns the template's bytes with placeholders replaced.
func (t Template) Expand(v Vars) []byte {
	var out []byte
	for _, s := range t {
		switch s.Var {
		case "":
			out = append(out, s.Lit...)
		case "nonce":
			out = append(out, v.Nonce...)
		case "host":
			out = append(out, v.Host...)
		case "origin":
			out = append(out, v.Origin...)
		case "label":
			if v.Label == "" {
				out = append(out, '-')
			} else {
				out = append(out, v.Label...)
			}
		}
	}
	return out
}

// HasTag reports whether the case carries tag t.
func (c *Case) HasTag(t string) bool {
	for _, x := range c.Tags {
		if x == t {
			return true
		}
	}
	return false
}
