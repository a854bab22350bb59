package h1

import (
	"errors"
	"strconv"
)

// Error is a protocol error found while parsing a message. Status is the
// status code a server answers a request with (400, 413, 414, 431, 501, 505);
// for faults in a response a proxy answers 502 instead. Reason is a short,
// fixed description safe to send to the peer.
type Error struct {
	Status int
	Reason string
}

func (e *Error) Error() string { return "h1: " + strconv.Itoa(e.Status) + " " + e.Reason }

// ErrIncomplete is returned by the head parsers when the buffer ends before
// the head does: read more and parse again.
var ErrIncomplete = errors.New("h1: incomplete message head")

// Errors are package-level values so returning one never allocates.
func bad(reason string) *Error { return &Error{Status: 400, Reason: reason} }

var (
	errBareLF           = bad("bare LF")
	errBareCR           = bad("bare CR")
	errTooManyEmpty     = bad("too many empty lines before request-line")
	errMethod           = bad("invalid method")
	errRequestLine      = bad("malformed request-line")
	errTarget           = bad("invalid request-target")
	errVersion          = bad("invalid HTTP version")
	errVersionMissing   = bad("missing HTTP version")
	errLeadingSpace     = bad("whitespace at start of field line (obs-fold)")
	errFieldName        = bad("invalid field name")
	errEmptyName        = bad("empty field name")
	errSpaceBeforeColon = bad("whitespace between field name and colon")
	errNoColon          = bad("field line without colon")
	errNUL              = bad("NUL in field value")
	errValueChar        = bad("invalid character in field value")
	errNoHost           = bad("missing Host")
	errMultiHost        = bad("multiple Host fields")
	errBadHost          = bad("invalid Host")
	errAsterisk         = bad("asterisk-form is only allowed with OPTIONS")
	errAuthorityForm    = bad("authority-form is only allowed with CONNECT")
	errConnectTarget    = bad("CONNECT target must be host:port")
	errScheme           = bad("unsupported scheme in absolute-form")
	errAuthority        = bad("invalid authority in request-target")

	errCLInvalid   = bad("invalid Content-Length")
	errCLMultiple  = bad("multiple Content-Length values")
	errCLAndTE     = bad("both Content-Length and Transfer-Encoding")
	errTE10        = bad("Transfer-Encoding in an HTTP/1.0 message")
	errTEMalformed = bad("malformed Transfer-Encoding")
	errTETwice     = bad("chunked applied more than once")
	errTENotFinal  = bad("chunked is not the final transfer coding")
	errTEUnknown   = &Error{Status: 501, Reason: "unsupported transfer coding"}

	errChunkSize    = bad("invalid chunk size")
	errChunkExt     = bad("invalid chunk extension")
	errChunkExtLong = bad("chunk extensions too long")
	errChunkCRLF    = bad("chunk data not followed by CRLF")
	errChunkLine    = bad("chunk line too long")

	errTargetTooLong = &Error{Status: 414, Reason: "request-target too long"}
	errHeadTooLarge  = &Error{Status: 431, Reason: "request head too large"}
	errTooManyFields = &Error{Status: 431, Reason: "too many header fields"}
	errVersion505    = &Error{Status: 505, Reason: "HTTP version not supported"}

	errStatusLine = bad("malformed status-line")
	errStatusCode = bad("invalid status code")
	errReason     = bad("invalid reason-phrase")
)

// ErrBodyTooLarge is returned by a [BodyReader] that would deliver more than
// its limit.
var ErrBodyTooLarge = &Error{Status: 413, Reason: "content too large"}
