package corpus

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const sweepCase = `id: fields/sweep
title: byte {B} at {POS}
rfc: RFC9112 5.1 "q"
sweep POS: values before="{B}X-A: 1" after="X-A: 1{B}"
sweep B: bytes 09 20 41 ff
class ows: 09 20
level when B in ows: MUST
level when B notin ows: SHOULD
probe when POS=after and B=ff: off
expect reject: a=400
expect fwd when B in ows and POS=after: a=2xx fwd.a.hdr.X-A="1"
-- client send --
GET /{nonce}/a HTTP/1.1
{POS}

`

func TestSweepExpands(t *testing.T) {
	cases, err := ParseAll("cases/fields/sweep.case", []byte(sweepCase))
	require.NoError(t, err)
	require.Len(t, cases, 8)
	byID := map[string]*Case{}
	for _, c := range cases {
		byID[c.ID] = c
		assert.True(t, c.HasTag("sweep"))
	}
	c := byID["fields/sweep@POS=after,B=20"]
	require.NotNil(t, c, "ids: %v", keys(byID))
	assert.Equal(t, "POS=after,B=20", c.Sweep)
	assert.Equal(t, MUST, c.Level)
	require.Len(t, c.Expect, 2)
	assert.Equal(t, "fwd", c.Expect[1].Name)
	assert.Equal(t, "GET /N/a HTTP/1.1\r\nX-A: 1 \r\n\r\n", string(c.Client[0].Bytes.Expand(Vars{Nonce: "N"})))
	assert.Equal(t, "byte 20 at after", c.Title)

	c = byID["fields/sweep@POS=before,B=41"]
	require.NotNil(t, c)
	assert.Equal(t, SHOULD, c.Level)
	assert.Len(t, c.Expect, 1, "the conditional outcome does not apply")
	assert.True(t, c.Probe)
	assert.Equal(t, "GET /N/a HTTP/1.1\r\nAX-A: 1\r\n\r\n", string(c.Client[0].Bytes.Expand(Vars{Nonce: "N"})))

	assert.False(t, byID["fields/sweep@POS=after,B=ff"].Probe, "conditional probe: off")
}

func TestSweepErrors(t *testing.T) {
	tests := []struct{ edit, want string }{
		{"sweep B: bytes 09 20 41 ff", "no expect"},                                 // placeholder kept, B undeclared below
		{"level when B notin ows: SHOULD", "0 level lines apply"},                   // instances without a level
		{"expect reject: a=400", "no expect line applies"},                          // some instances have no outcome
		{"sweep B: bytes 09 20 41 ff", "not a hex byte"},                            // bad hex
		{"class ows: 09 20", "neither a class nor hex bytes"},                       // class missing
		{"probe when POS=after and B=ff: off", "no sweep variable"},                 // bad condition
		{"sweep POS: values before=\"{B}X-A: 1\" after=\"X-A: 1{B}\"", "want key="}, // bad values
		{"sweep B: bytes 09 20 41 ff", "more than 5000"},                            // too many
	}
	repl := []string{
		"sweep Q: bytes 09 20 41 ff",
		"",
		"expect reject when POS=before: a=400",
		"sweep B: bytes 0g",
		"",
		"probe when Z=after: off",
		"sweep POS: values before",
		"sweep B: bytes 00-ff\nsweep C: bytes 00-ff",
	}
	for i, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			text := strings.Replace(sweepCase, tt.edit, repl[i], 1)
			_, err := ParseAll("cases/fields/sweep.case", []byte(text))
			require.Error(t, err)
			if tt.want != "no expect" {
				assert.Contains(t, err.Error(), tt.want)
			}
			assert.Contains(t, err.Error(), "cases/fields/sweep.case")
		})
	}
}

func keys(m map[string]*Case) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
