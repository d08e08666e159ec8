// Package ingest turns a write request body into points that belong to the
// sending agent: it bounds and decompresses the body, decodes line protocol
// (the whole batch or nothing), and sets the site and agent tags from the
// credential, never from the body.
package ingest

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/influxdata/line-protocol/v2/lineprotocol"
	"github.com/klauspost/compress/gzip"

	"github.com/probity-edu/probity/collector/store"
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

// Decode parses body and stamps every point with the agent's site and id.
// A bad line rejects the whole batch with a *point.DecodeError.
func Decode(body []byte, prec lineprotocol.Precision, a store.Agent, now time.Time) ([]point.Point, error) {
	pts, err := point.Decode(body, prec, now)
	if err != nil {
		return nil, err
	}
	if len(pts) == 0 {
		return nil, ErrEmpty
	}
	for i := range pts {
		pts[i].Tags[store.TagSite] = a.SiteID
		pts[i].Tags[store.TagAgent] = a.ID
	}
	return pts, nil
}
