package corpus

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const goodCase = `id: cl-te/both-present
title: request carries both Transfer-Encoding and Content-Length
# a comment
rfc: RFC9112 6.1 "Regardless, the server MUST close the connection after responding to such a request"
level: MUST
tags: smuggling cl-te
vector: 1 2
expect reject: a=400 origin=none close
expect te-wins: a=2xx origin=a body.a="hello" close
note: two outcomes are conformant
-- client send --
POST /{nonce}/a HTTP/1.1
Host: {host}
Content-Length: 3
Transfer-Encoding: chunked

5
hello
0

-- client await --
-- origin echo --
`

func TestParseGoodCase(t *testing.T) {
	c, err := Parse("cases/cl-te/both-present.case", []byte(goodCase))
	require.NoError(t, err)
	assert.Equal(t, "cl-te/both-present", c.ID)
	assert.Equal(t, MUST, c.Level)
	assert.Equal(t, []string{"cl-te", "smuggling"}, c.Tags)
	assert.Equal(t, []int{1, 2}, c.Vectors)
	assert.Equal(t, []string{"a"}, c.Requests)
	assert.True(t, c.Probe)
	require.Len(t, c.RFC, 1)
	assert.Equal(t, Ref{Doc: "RFC9112", Section: "6.1", Quote: "Regardless, the server MUST close the connection after responding to such a request"}, c.RFC[0])
	require.Len(t, c.Expect, 2)
	assert.Equal(t, "reject", c.Expect[0].Name)
	assert.Equal(t, 8, c.Expect[0].Line)
	require.Len(t, c.Expect[1].Terms, 4)
	body := c.Expect[1].Terms[2]
	assert.Equal(t, TBody, body.Kind)
	assert.Equal(t, "hello", string(body.Value))
	require.Len(t, c.Client, 2)
	assert.Equal(t, Await, c.Client[1].Kind)
	want := "POST /ps0123456789/a HTTP/1.1\r\nHost: h:1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
	assert.Equal(t, want, string(c.Client[0].Bytes.Expand(Vars{Nonce: "ps0123456789", Host: "h:1"})))
	require.Len(t, c.Origin, 1)
	assert.Equal(t, Echo, c.Origin[0].Kind)
}

func TestEscapes(t *testing.T) {
	tests := []struct {
		name  string
		lines []string
		want  string
	}{
		{"crlf", []string{"a", "b"}, "a\r\nb\r\n"},
		{"bare lf", []string{`Host: x\n`, ""}, "Host: x\n\r\n"},
		{"bare cr", []string{`5\r`}, "5\r"},
		{"no eol", []string{`hello\c`}, "hello"},
		{"obs-fold", []string{"X: 1", `\sfolded`}, "X: 1\r\n folded\r\n"},
		{"bytes", []string{`\0\t\xff\x0B\\`}, "\x00\t\xff\x0b\\\r\n"},
		{"literal brace", []string{`\x7bnonce}`}, "{nonce}\r\n"},
		{"empty lines count", []string{"", ""}, "\r\n\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tm, err := decodeSection(tt.lines, 1)
			require.NoError(t, err)
			assert.Equal(t, tt.want, string(tm.Expand(Vars{Nonce: "N"})))
		})
	}
}

func TestEscapeRoundTrip(t *testing.T) {
	inputs := []string{
		"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
		"a\nb\rc\x00\x7f\xff{nonce} \r\n",
		"trailing space \r\nno end",
		"\r\n",
		"x",
		"\\",
	}
	for _, in := range inputs {
		esc := Escape([]byte(in))
		lines := strings.Split(strings.TrimSuffix(esc, "\n"), "\n")
		tm, err := decodeSection(lines, 1)
		require.NoError(t, err, "escaped %q", esc)
		assert.Equal(t, in, string(tm.Expand(Vars{})), "escaped %q", esc)
	}
}

func TestParseErrorsNameFileAndLine(t *testing.T) {
	replace := func(old, new string) string { return strings.Replace(goodCase, old, new, 1) }
	tests := []struct {
		name string
		file string
		line int
		msg  string
	}{
		{replace("level: MUST", "level: MUSTN'T"), "", 5, "level"},
		{replace("id: cl-te/both-present\n", ""), "", 0, `missing required header "id"`},
		{replace("id: cl-te/both-present", "id: cl-te/other"), "", 1, "does not match"},
		{replace(`rfc: RFC9112 6.1 "`, `rfc: RFC2616 6.1 "`), "", 4, "rfc"},
		{replace("Host: {host}", "Host: {hots}"), "", 13, "unknown placeholder"},
		{replace("Host: {host}", "Host: {host} "), "", 13, "trailing space"},
		{replace("Host: {host}", "Host: \\q"), "", 13, "unknown escape"},
		{replace("Host: {host}", "Host:\tx"), "", 13, "raw tab"},
		{replace("hello", "h\xe9llo"), "", 9, "ASCII"},
		{replace("a=400 origin", "z=400 origin"), "", 8, "not a request label"},
		{replace("a=400 origin", "a=4000 origin"), "", 8, "not a status"},
		{replace("body.a=\"hello\"", "body.a=hello"), "", 9, "double-quoted"},
		{replace("-- client await --", "-- client wait --"), "", 21, "unknown client action"},
		{replace("-- origin echo --", "-- origin echo --\nnot empty"), "", 23, "takes no bytes"},
		{replace("vector: 1 2", "vector: 107"), "", 7, "vector"},
		{replace("tags: smuggling cl-te", "tags: Smuggling"), "", 6, "tag"},
		{replace("note:", "nite:"), "", 10, "unknown header key"},
	}
	for _, tt := range tests {
		t.Run(tt.msg, func(t *testing.T) {
			_, err := Parse("cases/cl-te/both-present.case", []byte(tt.name))
			require.Error(t, err)
			var pe *ParseError
			require.True(t, errors.As(err, &pe), "error %v is not a ParseError", err)
			assert.Equal(t, "cases/cl-te/both-present.case", pe.File)
			assert.Equal(t, tt.line, pe.Line, "error: %v", err)
			assert.Contains(t, err.Error(), tt.msg)
		})
	}
}

func TestStatusPattern(t *testing.T) {
	assert.True(t, StatusPattern("4xx").Match(431))
	assert.False(t, StatusPattern("4xx").Match(500))
	assert.True(t, StatusPattern("400").Match(400))
	assert.False(t, StatusPattern("400").Match(401))
}
