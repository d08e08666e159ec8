package point

import (
	"errors"
	"time"

	"github.com/influxdata/line-protocol/v2/lineprotocol"
)

// Lenient is what DecodeLenient makes of a body: the points of every good
// line, and the bad lines.
type Lenient struct {
	Points []Point
	// Errors are the first bad lines, in order, up to the keep asked for.
	Errors []*DecodeError
	// Bad counts every bad line, including those not kept in Errors.
	Bad int
	// Untimed counts the points that had no timestamp and were given now.
	Untimed int
}

// DecodeLenient parses a line protocol body line by line, as InfluxDB's
// own write does: a bad line is skipped and reported, and the lines
// around it are kept. Lines without a timestamp get now (truncated to
// the precision). Only the first keep errors are kept, so a body of
// garbage cannot make the error list as large as the body.
func DecodeLenient(body []byte, prec lineprotocol.Precision, now time.Time, keep int) Lenient {
	var out Lenient
	bad := func(line int, err error) {
		out.Bad++
		if len(out.Errors) < keep {
			out.Errors = append(out.Errors, &DecodeError{Line: line, Err: err})
		}
	}
	dec := lineprotocol.NewDecoderWithBytes(body)
	in := strs{}
	untimed := now.Truncate(prec.Duration())
	entry := 0
	for dec.Next() {
		entry++
		p, timed, err := decodeLine(dec, prec, untimed, in)
		if err != nil {
			var de *lineprotocol.DecodeError
			if errors.As(err, &de) {
				bad(int(de.Line), de.Err)
			} else {
				// A point the syntax allows but Validate refuses; the
				// decoder does not say which physical line, so this is
				// the entry's number (the same unless the body has blank
				// lines or comments).
				bad(entry, err)
			}
			continue
		}
		if !timed {
			out.Untimed++
		}
		out.Points = append(out.Points, p)
	}
	return out
}
