package h1

import (
	"bytes"
	"errors"
	"io"
	"sync"
)

// Buffer size classes. Every connection starts with the smallest; a buffer
// grows only to hold an unusually large head.
const (
	minBufSize = 16 << 10
	maxBufSize = 1 << 20
	// minRead is the free space below which the reader compacts its buffer
	// before reading, so that reads are not tiny.
	minRead = 2 << 10
)

var bufPools [7]sync.Pool // 16K, 32K, ... 1M

func poolIndex(size int) int {
	i := 0
	for s := minBufSize; s < size && i < len(bufPools)-1; s <<= 1 {
		i++
	}
	return i
}

// GetBuffer returns a pooled buffer of at least size bytes (up to 1 MiB).
func GetBuffer(size int) *[]byte {
	i := poolIndex(size)
	if p, ok := bufPools[i].Get().(*[]byte); ok {
		return p
	}
	b := make([]byte, minBufSize<<i)
	return &b
}

// PutBuffer returns a buffer obtained from GetBuffer.
func PutBuffer(p *[]byte) {
	if p == nil || len(*p) < minBufSize {
		return
	}
	i := poolIndex(len(*p))
	if minBufSize<<i != len(*p) {
		return
	}
	bufPools[i].Put(p)
}

// ErrBufferFull is returned when a Reader would need more than its maximum
// buffer size.
var ErrBufferFull = errors.New("h1: buffer full")

// Reader is a buffered reader over a connection. Head parsers and body
// readers hand out slices of its buffer. The current head stays at the start
// of the buffer (it is "pinned") while its body is read, so the head's slices
// stay valid until the next head is read.
type Reader struct {
	src  io.Reader
	bp   *[]byte
	buf  []byte
	r, w int // unread bytes are buf[r:w]
	pin  int // buf[:pin] holds the current head; compaction keeps it
	max  int // largest buffer allowed
	err  error
}

// NewReader returns a Reader over src whose buffer may grow to max bytes.
func NewReader(src io.Reader, max int) *Reader {
	rd := &Reader{}
	rd.Reset(src, max)
	return rd
}

// Reset makes rd read from src, keeping its buffer.
func (rd *Reader) Reset(src io.Reader, max int) {
	if max < minBufSize {
		max = minBufSize
	}
	rd.src, rd.max = src, max
	rd.r, rd.w, rd.pin, rd.err = 0, 0, 0, nil
}

// Release returns the buffer to the pool; the Reader is unusable until Reset.
// Slices handed out before are invalid afterwards.
func (rd *Reader) Release() {
	PutBuffer(rd.bp)
	rd.bp, rd.buf, rd.src = nil, nil, nil
	rd.r, rd.w, rd.pin = 0, 0, 0
}

// Buffered returns the unread buffered bytes. They stay valid until the next
// read.
func (rd *Reader) Buffered() []byte { return rd.buf[rd.r:rd.w] }

// Discard consumes n buffered bytes.
func (rd *Reader) Discard(n int) { rd.r += n }

// Err returns the sticky read error, if any.
func (rd *Reader) Err() error { return rd.err }

// Fill reads more data into the buffer. It returns an error only when no
// data was added.
func (rd *Reader) Fill() error {
	if rd.err != nil {
		return rd.err
	}
	if rd.buf == nil {
		rd.bp = GetBuffer(minBufSize)
		rd.buf = *rd.bp
	}
	if rd.r == rd.w {
		rd.r, rd.w = rd.pin, rd.pin
	}
	if len(rd.buf)-rd.w < minRead {
		if rd.r > rd.pin {
			n := copy(rd.buf[rd.pin:], rd.buf[rd.r:rd.w])
			rd.r, rd.w = rd.pin, rd.pin+n
		}
		if len(rd.buf)-rd.w < minRead && !rd.grow() && rd.w == len(rd.buf) {
			return ErrBufferFull
		}
	}
	n, err := rd.src.Read(rd.buf[rd.w:])
	rd.w += n
	if err != nil {
		rd.err = err
		if n > 0 {
			return nil
		}
		return err
	}
	return nil
}

// grow doubles the buffer, up to rd.max.
func (rd *Reader) grow() bool {
	if len(rd.buf) >= rd.max || len(rd.buf) >= maxBufSize {
		return false
	}
	np := GetBuffer(2 * len(rd.buf))
	copy(*np, rd.buf[:rd.w])
	if rd.pin == 0 {
		PutBuffer(rd.bp)
	} // else the pinned head's slices still point into the old buffer: leave it to the GC
	rd.bp, rd.buf = np, *np
	return true
}

// Unpin releases the current head: its slices become invalid, and the
// unread bytes (a pipelined next message) move to the start of the buffer.
func (rd *Reader) Unpin() {
	if rd.r > 0 {
		n := copy(rd.buf, rd.buf[rd.r:rd.w])
		rd.r, rd.w = 0, n
	}
	rd.pin = 0
}

// ReadRequest reads and parses the next request head into req. On success
// the head is pinned until the next ReadRequest or Unpin. Errors are an
// *Error (answer it), or the read error (io.EOF, timeouts); Buffered tells
// whether part of a head had arrived.
func (rd *Reader) ReadRequest(req *Request, lim Limits) error {
	return rd.readHead(lim, func(b []byte) (int, error) { return ParseRequest(b, req, lim) })
}

// ReadResponse reads and parses the next response head into resp.
func (rd *Reader) ReadResponse(resp *Response, lim Limits) error {
	return rd.readHead(lim, func(b []byte) (int, error) { return ParseResponse(b, resp, lim) })
}

func (rd *Reader) readHead(lim Limits, parse func([]byte) (int, error)) error {
	rd.Unpin()
	if rd.max < lim.MaxHeadBytes+minRead {
		rd.max = lim.MaxHeadBytes + minRead
	}
	scanned := 0 // bytes already seen without completing a line
	targetChecked := false
	for {
		if rd.w > rd.r {
			// Parse again only when a line may have completed, or when a
			// limit may have been crossed: a head trickling in byte by byte
			// must not cost a full parse per read.
			newData := rd.buf[rd.r+scanned : rd.w]
			n := rd.w - rd.r
			long := !targetChecked && n > lim.MaxTargetBytes
			if long {
				targetChecked = true
			}
			if bytes.IndexByte(newData, '\n') >= 0 || long || n >= lim.MaxHeadBytes {
				m, err := parse(rd.buf[rd.r:rd.w])
				if err == nil {
					rd.r += m
					rd.pin = rd.r
					return nil
				}
				if err != ErrIncomplete {
					return err
				}
			}
			scanned = n
		}
		if err := rd.Fill(); err != nil {
			return err
		}
	}
}
