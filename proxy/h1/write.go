package h1

import (
	"io"
	"strconv"
)

var crlf = []byte("\r\n")

// AppendRequestLine appends "METHOD SP target SP HTTP/1.1 CRLF".
func AppendRequestLine(dst, method, target []byte) []byte {
	dst = append(dst, method...)
	dst = append(dst, ' ')
	dst = append(dst, target...)
	return append(dst, " HTTP/1.1\r\n"...)
}

// AppendStatusLine appends "HTTP/1.1 SP status SP reason CRLF". An empty
// reason is replaced by the standard one. A proxy sends its own version
// (RFC 9110 §2.5, §6.2).
func AppendStatusLine(dst []byte, status int, reason []byte) []byte {
	dst = append(dst, "HTTP/1.1 "...)
	dst = strconv.AppendInt(dst, int64(status), 10)
	dst = append(dst, ' ')
	if len(reason) == 0 {
		return append(append(dst, StatusText(status)...), crlf...)
	}
	return append(append(dst, reason...), crlf...)
}

// AppendField appends "name: value CRLF".
func AppendField(dst, name, value []byte) []byte {
	dst = append(dst, name...)
	dst = append(dst, ": "...)
	dst = append(dst, value...)
	return append(dst, crlf...)
}

// AppendFieldString is AppendField for constant names and values.
func AppendFieldString(dst []byte, name, value string) []byte {
	dst = append(dst, name...)
	dst = append(dst, ": "...)
	dst = append(dst, value...)
	return append(dst, crlf...)
}

// AppendContentLength appends "Content-Length: n CRLF".
func AppendContentLength(dst []byte, n int64) []byte {
	dst = append(dst, "Content-Length: "...)
	dst = strconv.AppendInt(dst, n, 10)
	return append(dst, crlf...)
}

// StatusText returns the reason phrase of the status codes the proxy itself
// generates or that are common; "Unknown" otherwise.
func StatusText(code int) string {
	switch code {
	case 100:
		return "Continue"
	case 101:
		return "Switching Protocols"
	case 200:
		return "OK"
	case 204:
		return "No Content"
	case 206:
		return "Partial Content"
	case 304:
		return "Not Modified"
	case 400:
		return "Bad Request"
	case 404:
		return "Not Found"
	case 405:
		return "Method Not Allowed"
	case 408:
		return "Request Timeout"
	case 411:
		return "Length Required"
	case 413:
		return "Content Too Large"
	case 414:
		return "URI Too Long"
	case 416:
		return "Range Not Satisfiable"
	case 417:
		return "Expectation Failed"
	case 426:
		return "Upgrade Required"
	case 431:
		return "Request Header Fields Too Large"
	case 500:
		return "Internal Server Error"
	case 501:
		return "Not Implemented"
	case 502:
		return "Bad Gateway"
	case 503:
		return "Service Unavailable"
	case 504:
		return "Gateway Timeout"
	case 505:
		return "HTTP Version Not Supported"
	}
	return "Unknown"
}

// ChunkedWriter writes the chunked transfer coding (RFC 9112 §7.1) to W.
// Chunk extensions are never generated. W is usually a *bufio.Writer, so the
// size line, data and CRLF coalesce.
type ChunkedWriter struct {
	W       io.Writer
	scratch [20]byte
}

// Write writes p as one chunk. An empty p writes nothing (a zero-size chunk
// would end the body).
func (c *ChunkedWriter) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	line := strconv.AppendInt(c.scratch[:0], int64(len(p)), 16)
	line = append(line, crlf...)
	if _, err := c.W.Write(line); err != nil {
		return 0, err
	}
	n, err := c.W.Write(p)
	if err != nil {
		return n, err
	}
	if _, err := c.W.Write(crlf); err != nil {
		return n, err
	}
	return n, nil
}

// Close writes the last chunk, the given trailer fields (regenerated, not
// relayed) and the final CRLF.
func (c *ChunkedWriter) Close(trailers []Field) error {
	if _, err := io.WriteString(c.W, "0\r\n"); err != nil {
		return err
	}
	for i := range trailers {
		if _, err := c.W.Write(trailers[i].Name); err != nil {
			return err
		}
		if _, err := io.WriteString(c.W, ": "); err != nil {
			return err
		}
		if _, err := c.W.Write(trailers[i].Value); err != nil {
			return err
		}
		if _, err := c.W.Write(crlf); err != nil {
			return err
		}
	}
	_, err := c.W.Write(crlf)
	return err
}
