// Package ingest turns a write request body into points that belong to the
// sending agent: it bounds and decompresses the body, decodes line protocol
// (the whole batch or nothing), and sets the site and agent tags from the
// credential, never from the body.
package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/influxdata/line-protocol/v2/lineprotocol"
	"github.com/klauspost/compress/gzip"

	"github.com/probity-edu/probity/collector/store"
	"github.com/probity-edu/probity/collector/store/rowcodec"
	"github.com/probity-edu/probity/internal/point"
)

// ErrTooLarge is returned when the (decompressed) body exceeds the limit.
var ErrTooLarge = errors.New("ingest: body too large")

// ErrEmpty is returned for a body with no points.
var ErrEmpty = errors.New("ingest: no points in body")

// ReadBody reads at most max bytes of the body, decompressing gzip when
// encoding says so. The limit applies after decompression so a small
// compressed bomb cannot exhaust memory.
func ReadBody(r io.Reader, encoding string, max int64) ([]byte, error) {
	switch strings.ToLower(strings.TrimSpace(encoding)) {
	case "", "identity":
	case "gzip":
		zr, err := gunzip(r)
		if err != nil {
			return nil, fmt.Errorf("ingest: bad gzip body: %w", err)
		}
		defer func() {
			_ = zr.Close()
			gzReaders.Put(zr)
		}()
		r = zr
	default:
		return nil, fmt.Errorf("ingest: unsupported Content-Encoding %q (use gzip or none)", encoding)
	}
	body, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, ErrTooLarge
		}
		return nil, fmt.Errorf("ingest: reading body: %w", err)
	}
	if int64(len(body)) > max {
		return nil, ErrTooLarge
	}
	return body, nil
}

// gzReaders keeps gzip readers between requests: a new one allocates its
// inflate window and tables (about 40 KiB), and a collector under load
// reads hundreds of bodies a second.
var gzReaders sync.Pool

func gunzip(r io.Reader) (*gzip.Reader, error) {
	zr, _ := gzReaders.Get().(*gzip.Reader)
	if zr == nil {
		return gzip.NewReader(r)
	}
	if err := zr.Reset(r); err != nil {
		gzReaders.Put(zr)
		return nil, err
	}
	return zr, nil
}

// Precision parses the precision query parameter of InfluxDB's write API
// (ns, us, ms, s); empty means nanoseconds.
func Precision(s string) (lineprotocol.Precision, error) {
	switch s {
	case "", "ns", "n":
		return lineprotocol.Nanosecond, nil
	case "us", "u":
		return lineprotocol.Microsecond, nil
	case "ms":
		return lineprotocol.Millisecond, nil
	case "s":
		return lineprotocol.Second, nil
	}
	return 0, fmt.Errorf("ingest: unknown precision %q (ns, us, ms or s)", s)
}

// Decode parses body straight into the stores' encoding, every point
// tagged with the agent's site and id whatever the body says. A bad line
// rejects the whole batch with a *point.DecodeError; the checks are those
// of point.Decode, made as the line goes by.
func Decode(body []byte, prec lineprotocol.Precision, a store.Agent, now time.Time) (*store.Rows, error) {
	n := bytes.Count(body, []byte{'\n'}) + 1
	// About 100 bytes of series key, tags and fields a point.
	rows := &store.Rows{Buf: make([]byte, 0, n*128), Rows: make([]store.Row, 0, n)}
	b := rowcodec.NewBuilder(rows, a.SiteID, a.ID)
	dec := lineprotocol.NewDecoderWithBytes(body)
	line := 0
	for dec.Next() {
		line++
		if err := decodeLine(dec, prec, now, b); err != nil {
			return nil, point.LineError(err, line)
		}
	}
	if err := dec.Err(); err != nil {
		return nil, point.LineError(err, line)
	}
	if len(rows.Rows) == 0 {
		return nil, ErrEmpty
	}
	return rows, nil
}

func decodeLine(dec *lineprotocol.Decoder, prec lineprotocol.Precision, now time.Time, b *rowcodec.Builder) error {
	m, err := dec.Measurement()
	if err != nil {
		return err
	}
	if len(m) == 0 {
		return fmt.Errorf("%w: empty measurement", point.ErrInvalid)
	}
	b.Start(m, 0)
	for {
		k, v, err := dec.NextTag()
		if err != nil {
			return err
		}
		if k == nil {
			break
		}
		if len(k) == 0 {
			return fmt.Errorf("%w: %s has an empty tag key", point.ErrInvalid, m)
		}
		b.Tag(k, v)
	}
	nf := 0
	for {
		k, kind, raw, err := dec.NextFieldBytes()
		if err != nil {
			return err
		}
		if k == nil {
			break
		}
		if len(k) == 0 {
			return fmt.Errorf("%w: %s has an empty field key", point.ErrInvalid, m)
		}
		nf++
		// Numbers mostly come as plain decimals that JSON can hold as
		// they are and that cannot be out of range: those are copied, not
		// parsed and formatted again.
		switch {
		case kind == lineprotocol.Float && plainNumber(raw, 15, true):
			b.RawFloat(k, raw)
			continue
		case kind == lineprotocol.Int && plainNumber(raw, 18, false):
			b.RawInt(k, raw)
			continue
		case kind == lineprotocol.Uint && len(raw) > 0 && raw[0] != '-' && plainNumber(raw, 19, false):
			b.RawUint(k, raw)
			continue
		}
		v, err := lineprotocol.NewValueFromBytes(kind, raw)
		if err != nil {
			return fmt.Errorf("cannot parse value for field key %q: %w", k, err)
		}
		switch v.Kind() {
		case lineprotocol.Float:
			f := v.FloatV()
			if math.IsNaN(f) || math.IsInf(f, 0) {
				return fmt.Errorf("%w: %s field %s is %v", point.ErrInvalid, m, k, f)
			}
			b.Float(k, f)
		case lineprotocol.Int:
			b.Int(k, v.IntV())
		case lineprotocol.Uint:
			b.Uint(k, v.UintV())
		case lineprotocol.Bool:
			b.Bool(k, v.BoolV())
		case lineprotocol.String:
			b.String(k, v.BytesV())
		default:
			return fmt.Errorf("%w: %s field %s has kind %v", point.ErrInvalid, m, k, v.Kind())
		}
	}
	if nf == 0 {
		return fmt.Errorf("%w: %s has no fields", point.ErrInvalid, m)
	}
	// The zero time cannot be a timestamp of line protocol (int64
	// nanoseconds either side of 1970), so it marks a line without one.
	t, err := dec.Time(prec, time.Time{})
	if err != nil {
		return err
	}
	if t.IsZero() {
		if t = now; t.IsZero() {
			return fmt.Errorf("%w: %s has no time", point.ErrInvalid, m)
		}
	}
	b.Time(rowcodec.NS(t))
	return b.End()
}

// plainNumber says whether b is a decimal in JSON's syntax with at most
// digits digits before any point (so it fits an int64 or uint64, or is a
// finite float well in range), and no exponent; a fraction only if frac.
func plainNumber(b []byte, digits int, frac bool) bool {
	if len(b) > 0 && b[0] == '-' {
		b = b[1:]
	}
	n := 0
	for n < len(b) && b[n] >= '0' && b[n] <= '9' {
		n++
	}
	if n == 0 || n > digits || n > 1 && b[0] == '0' {
		return false
	}
	if n == len(b) {
		return true
	}
	if !frac || b[n] != '.' || n+1 == len(b) {
		return false
	}
	for _, c := range b[n+1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
