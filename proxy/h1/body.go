package h1

import (
	"bytes"
	"io"

	"github.com/proxyspec/proxyspec/proxy/internal/fault"
)

// Chunked framing bounds.
const (
	// MaxChunkExtBytes bounds the chunk extensions of one message (RFC 9112
	// §7.1.1: a server ought to limit their total length).
	MaxChunkExtBytes = 4 << 10
	// maxChunkLine bounds one chunk-size line.
	maxChunkLine = MaxChunkExtBytes + 64
	// maxTrailerBytes bounds the trailer section.
	maxTrailerBytes = 16 << 10
)

type chunkState uint8

const (
	chunkSize    chunkState = iota // expecting a chunk-size line
	chunkData                      // inside chunk data
	chunkCRLF                      // expecting the CRLF after chunk data
	chunkTrailer                   // expecting the trailer section
)

// BodyReader reads one message body from a Reader, handing out slices of the
// Reader's buffer. It stops exactly at the end of the body, so what follows
// (a pipelined message) stays buffered.
type BodyReader struct {
	faults   fault.Set // of the message (from its Framing)
	rd       *Reader
	kind     BodyKind
	left     int64 // bytes left in a Length body or in the current chunk
	limit    int64 // most content bytes to deliver; 0: unlimited
	total    int64 // content bytes delivered
	state    chunkState
	extBytes int
	trailers []Field
	maxField int
	done     bool
}

// Reset prepares b to read a body framed by f from rd. limit (0: none) caps
// the content bytes; beyond it Next returns ErrBodyTooLarge. maxFields caps
// trailer fields.
func (b *BodyReader) Reset(rd *Reader, f Framing, limit int64, maxFields int) {
	*b = BodyReader{faults: f.faults, rd: rd, kind: f.Kind, limit: limit, trailers: b.trailers[:0], maxField: maxFields}
	switch f.Kind {
	case BodyLength:
		b.left = f.Length
		b.done = f.Length == 0
	case BodyNone, BodyTunnel:
		b.done = true
	}
}

// Done reports whether the whole body (and any trailer section) was read.
func (b *BodyReader) Done() bool { return b.done }

// Total returns the content bytes delivered so far.
func (b *BodyReader) Total() int64 { return b.total }

// Trailers returns the trailer fields of a chunked body once Done. They
// point into the Reader's buffer and are valid until the next read; they are
// never merged into the head (RFC 9112 §7.1.2).
func (b *BodyReader) Trailers() []Field { return b.trailers }

// Ready reports whether the next call to Next can make progress without
// reading from the connection. Copy loops flush their output before a call
// that may block.
func (b *BodyReader) Ready() bool { return b.done || len(b.rd.Buffered()) > 0 }

// Next returns the next piece of content. The slice is valid until the next
// call. At the end of the body it returns io.EOF; a connection that ends
// before the body does gives io.ErrUnexpectedEOF (RFC 9112 §6.3 step 6:
// the message is incomplete).
func (b *BodyReader) Next() ([]byte, error) { return b.next(1 << 62) }

// NextN is Next returning at most max bytes.
func (b *BodyReader) NextN(max int) ([]byte, error) { return b.next(max) }

// Read implements io.Reader.
func (b *BodyReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	d, err := b.next(len(p))
	return copy(p, d), err
}

func (b *BodyReader) next(max int) ([]byte, error) {
	for {
		if b.done {
			return nil, io.EOF
		}
		switch b.kind {
		case BodyLength:
			return b.data(max, false)
		case BodyClose:
			if len(b.rd.Buffered()) == 0 {
				if err := b.rd.Fill(); err != nil {
					if err == io.EOF {
						b.done = true
					}
					return nil, err
				}
			}
			d := b.rd.Buffered()
			if len(d) > max {
				d = d[:max]
			}
			b.rd.Discard(len(d))
			return b.count(d)
		}
		// Chunked, RFC 9112 §7.1.
		switch b.state {
		case chunkSize:
			if err := b.readSizeLine(); err != nil {
				return nil, err
			}
		case chunkData:
			d, err := b.data(max, true)
			if len(d) > 0 || err != nil {
				return d, err
			}
		case chunkCRLF:
			// chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF: the
			// data is followed by exactly CRLF.
			for len(b.rd.Buffered()) < 2 {
				if err := b.fill(); err != nil {
					return nil, err
				}
			}
			if d := b.rd.Buffered(); d[0] != '\r' || d[1] != '\n' {
				switch lf := bytes.IndexByte(d, '\n'); {
				case b.faults.Has(fault.ChunkDataCRLFOptional):
					b.state = chunkSize // the next chunk-size line starts right here
					continue
				case lf >= 0 && b.faults.Has(fault.ChunkDataSpillIgnored):
					b.rd.Discard(lf + 1)
					b.state = chunkSize
					continue
				case b.faults.Has(fault.ChunkDataCRLFUnchecked):
					b.rd.Discard(2)
					b.state = chunkSize
					continue
				}
				return nil, errChunkCRLF
			}
			b.rd.Discard(2)
			b.state = chunkSize
		case chunkTrailer:
			if err := b.readTrailers(); err != nil {
				return nil, err
			}
			b.done = true
		}
	}
}

// data returns up to max bytes of the current Length body or chunk.
func (b *BodyReader) data(max int, chunk bool) ([]byte, error) {
	if b.left == 0 {
		if chunk {
			b.state = chunkCRLF
			return nil, nil
		}
		b.done = true
		return nil, io.EOF
	}
	if len(b.rd.Buffered()) == 0 {
		if err := b.fill(); err != nil {
			return nil, err
		}
	}
	d := b.rd.Buffered()
	if int64(len(d)) > b.left && (chunk || !b.faults.Has(fault.BodyOverreadForwarded)) {
		d = d[:b.left]
	}
	if len(d) > max {
		d = d[:max]
	}
	b.rd.Discard(len(d))
	b.left -= int64(len(d))
	if b.left <= 0 && !chunk {
		b.done = true
	}
	return b.count(d)
}

func (b *BodyReader) count(d []byte) ([]byte, error) {
	b.total += int64(len(d))
	if b.limit > 0 && b.total > b.limit {
		return nil, ErrBodyTooLarge
	}
	return d, nil
}

// fill reads more; a clean EOF inside a delimited body is unexpected.
func (b *BodyReader) fill() error {
	err := b.rd.Fill()
	if err == io.EOF {
		if b.faults.Has(fault.BodyEOFAsEnd) {
			b.done = true // the body ends where the peer stopped
			return io.EOF
		}
		return io.ErrUnexpectedEOF
	}
	return err
}

// readSizeLine parses chunk-size [ chunk-ext ] CRLF (RFC 9112 §7.1):
// 1*HEXDIG with an overflow guard, extensions checked for syntax and bounded
// in total, CRLF only.
func (b *BodyReader) readSizeLine() error {
	var lf int
	for {
		d := b.rd.Buffered()
		if lf = bytes.IndexByte(d, '\n'); lf >= 0 {
			break
		}
		if len(d) > maxChunkLine {
			return errChunkLine
		}
		if err := b.fill(); err != nil {
			return err
		}
	}
	line := b.rd.Buffered()[:lf]
	switch {
	case lf > 0 && line[lf-1] == '\r':
		line = line[:lf-1]
	case !b.faults.Has(fault.ChunkLineBareLF):
		return errBareLF
	}
	if len(line) == 0 && b.faults.Has(fault.ChunkExtraCRLFSkipped) {
		b.rd.Discard(lf + 1)
		return nil // still expecting a chunk-size line
	}
	if b.faults.Has(fault.ChunkSizeStrtol) {
		line = bytes.TrimLeft(line, "+-")
		if len(line) > 2 && line[0] == '0' && line[1]|0x20 == 'x' {
			line = line[2:]
		}
	}
	var size int64
	k := 0
	for ; k < len(line); k++ {
		v := hexVal[line[k]]
		if v < 0 {
			break
		}
		if b.faults.Has(fault.ChunkSizeOverflowWraps) {
			size = int64(uint32(size<<4 | int64(v))) // a 32-bit accumulator
			continue
		}
		if size > (1<<62)>>4 {
			return errChunkSize // overflow guard, RFC 9112 §7.1
		}
		size = size<<4 | int64(v)
	}
	if k == 0 || k > 1 && line[0] == '0' && b.faults.Has(fault.ChunkSizeCanonicalOnly) ||
		b.faults.Has(fault.ChunkSizeCanonicalOnly) && bytes.ContainsAny(line[:k], "ABCDEF") {
		return errChunkSize
	}
	if ext := line[k:]; len(ext) > 0 && !b.faults.Has(fault.ChunkLineTailIgnored) {
		if bytes.IndexByte(ext, '\r') >= 0 {
			return errBareCR
		}
		b.extBytes += len(ext)
		if b.extBytes > MaxChunkExtBytes {
			return errChunkExtLong
		}
		if !validChunkExt(ext) || b.faults.Has(fault.ChunkExtRejected) {
			return errChunkExt
		}
	}
	b.rd.Discard(lf + 1)
	if size == 0 && b.faults.Has(fault.ChunkTrailerNotRead) {
		b.done = true
		return nil
	}
	if size == 0 {
		b.state = chunkTrailer // last-chunk
		return nil
	}
	b.left, b.state = size, chunkData
	return nil
}

// validChunkExt checks chunk-ext = *( BWS ";" BWS chunk-ext-name
// [ BWS "=" BWS chunk-ext-val ] ) (RFC 9112 §7.1.1). Whitespace is accepted
// only where the grammar has BWS: never at the end of the line unless an
// extension follows.
func validChunkExt(p []byte) bool {
	for len(p) > 0 {
		p = trimLeftOWS(p)
		if len(p) == 0 || p[0] != ';' {
			return false // trailing whitespace, or junk instead of ";"
		}
		p = trimLeftOWS(p[1:])
		k := 0
		for k < len(p) && isTchar[p[k]] {
			k++
		}
		if k == 0 {
			return false
		}
		p = p[k:]
		if q := trimLeftOWS(p); len(q) > 0 && q[0] == '=' {
			p = trimLeftOWS(q[1:])
			if len(p) > 0 && p[0] == '"' {
				n, ok := quotedString(p)
				if !ok {
					return false
				}
				p = p[n:]
				continue
			}
			k = 0
			for k < len(p) && isTchar[p[k]] {
				k++
			}
			if k == 0 {
				return false
			}
			p = p[k:]
		}
	}
	return true
}

func trimLeftOWS(p []byte) []byte {
	for len(p) > 0 && (p[0] == ' ' || p[0] == '\t') {
		p = p[1:]
	}
	return p
}

// readTrailers parses trailer-section = *( field-line CRLF ) CRLF with the
// same rules as a head.
func (b *BodyReader) readTrailers() error {
	for {
		fields, n, err := parseFields(b.rd.Buffered(), b.trailers[:0], b.maxField, b.faults)
		b.trailers = fields
		if err == nil {
			b.rd.Discard(n)
			return nil
		}
		if err != ErrIncomplete {
			return err
		}
		if len(b.rd.Buffered()) > maxTrailerBytes {
			return errHeadTooLarge
		}
		if err := b.fill(); err != nil {
			return err
		}
	}
}
