package sqlite

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"sync"

	"github.com/klauspost/compress/s2"
)

// Raw points are stored in chunks (migration 0010): one row holds a batch's
// points of one stream (a site's measurement) in one hour. A school's
// minute of SNMP is a few hundred points in a dozen streams, so the writer
// inserts a dozen rows and index entries instead of a few hundred: the
// B-tree work per row was most of the writer's time.
//
// A chunk's lines are a line a point, "sid dt fields\n": the point's series
// (series.id), its time less the chunk's t0 in nanoseconds (never
// negative), and its fields as the JSON object rowcodec writes (which never
// holds a raw newline). Lines keep the batch's order, not time order.
//
// Its data is those lines or, when they are minPackBytes or more and S2
// (github.com/klauspost/compress/s2) makes them smaller, the byte chunkS2
// followed by the lines as an S2 block. A school's fields repeat their keys
// on every line, so S2 makes them about four and a half times smaller, at
// over a gigabyte a second a core: a chunk fits in a page instead of
// spilling into overflow pages, and the WAL, the checkpoint and the disk
// carry that much less. Plain lines begin with a series id's digit, so the
// first byte tells the two apart and chunks written before stay readable.
const (
	chunkS2       = 0x01
	minPackBytes  = 256
	maxChunkBytes = 64 << 20 // far above maxChunkPoints' largest lines: anything more is corrupt
)

// maxChunkPoints bounds a chunk, so that a query for a few points never
// decodes a huge row; a bigger batch's stream-hour takes several chunks.
const maxChunkPoints = 1000

const insertChunkSQL = `INSERT INTO chunks(gid, hour, t0, t1, n, data) VALUES (?, ?, ?, ?, ?, ?)`

// appendChunkLine appends one point's line to a chunk's data.
func appendChunkLine(b []byte, sid, dt int64, fields []byte) []byte {
	b = strconv.AppendInt(b, sid, 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, dt, 10)
	b = append(b, ' ')
	b = append(b, fields...)
	return append(b, '\n')
}

var errBadChunk = errors.New("malformed chunk")

// packChunk returns a chunk's data for its lines: packed into dst (reused)
// when that is smaller, else lines itself.
func packChunk(dst, lines []byte) []byte {
	if len(lines) < minPackBytes {
		return lines
	}
	n := 1 + s2.MaxEncodedLen(len(lines))
	dst = slices.Grow(dst[:0], n)[:n]
	dst[0] = chunkS2
	packed := s2.Encode(dst[1:], lines)
	if 1+len(packed) >= len(lines) {
		return lines
	}
	return dst[:1+len(packed)]
}

// unpackChunk returns a chunk's lines: data itself when it is plain, else
// unpacked into dst (reused).
func unpackChunk(dst, data []byte) ([]byte, error) {
	if len(data) == 0 || data[0] != chunkS2 {
		return data, nil
	}
	n, err := s2.DecodedLen(data[1:])
	if err != nil {
		return nil, fmt.Errorf("%w: S2 block: %v", errBadChunk, err)
	}
	if n > maxChunkBytes {
		return nil, fmt.Errorf("%w: S2 block of %d bytes", errBadChunk, n)
	}
	lines, err := s2.Decode(slices.Grow(dst[:0], n)[:n], data[1:])
	if err != nil {
		return nil, fmt.Errorf("%w: S2 block: %v", errBadChunk, err)
	}
	return lines, nil
}

// unpacked holds buffers for unpackChunk, for the several readers at once.
var unpacked = sync.Pool{New: func() any { return new([]byte) }}

// eachChunkPoint calls fn with each point of a chunk's data: its series,
// time and fields JSON (valid only during the call). It stops at fn's
// first error.
func eachChunkPoint(data []byte, t0 int64, fn func(sid, ns int64, fields []byte) error) error {
	if len(data) > 0 && data[0] == chunkS2 {
		buf := unpacked.Get().(*[]byte)
		defer unpacked.Put(buf)
		lines, err := unpackChunk(*buf, data)
		if err != nil {
			return err
		}
		if cap(lines) <= 1<<20 {
			*buf = lines[:0] // keep a grown buffer, but not a huge one
		}
		data = lines
	}
	for line := 1; len(data) > 0; line++ {
		end := bytes.IndexByte(data, '\n')
		if end < 0 {
			end = len(data)
		}
		l := data[:end]
		data = data[min(end+1, len(data)):]
		a, rest, ok1 := bytes.Cut(l, []byte{' '})
		b, fields, ok2 := bytes.Cut(rest, []byte{' '})
		sid, err1 := atoi(a)
		dt, err2 := atoi(b)
		if !ok1 || !ok2 || err1 != nil || err2 != nil || len(fields) == 0 {
			return fmt.Errorf("%w: line %d: %.40q", errBadChunk, line, l)
		}
		if err := fn(sid, t0+dt, fields); err != nil {
			return err
		}
	}
	return nil
}

// atoi parses a decimal int64 without the string strconv would need.
func atoi(b []byte) (int64, error) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 {
		return 0, errBadChunk
	}
	var n int64
	for _, c := range b {
		d := int64(c - '0')
		if c < '0' || c > '9' || n > (math.MaxInt64-d)/10 {
			return 0, errBadChunk
		}
		n = n*10 + d
	}
	if neg {
		n = -n
	}
	return n, nil
}
