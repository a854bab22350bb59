// Package h1 is the HTTP/1.1 codec of the proxyspec reference proxy.
//
// It parses request and response heads strictly (RFC 9112) into slices of a
// caller-owned buffer, decides message framing in one function per direction
// (RFC 9112 §6.3), reads and writes message bodies (Content-Length, chunked,
// close-delimited), and regenerates heads with append-style helpers.
//
// Nothing here allocates on the hot path: heads are parsed into reusable
// [Request] and [Response] values whose slices point into the read buffer of a
// [Reader], and body data is handed out as slices of that same buffer.
//
// Errors that a server answers carry the status code to send ([Error]).
package h1
