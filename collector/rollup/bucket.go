package rollup

import (
	"strconv"
	"strings"
	"time"

	"github.com/probity-edu/probity/internal/point"
)

// Res is a bucket's resolution.
type Res uint8

// The resolutions.
const (
	Hour Res = 1
	Day  Res = 2
)

// Duration of one bucket.
func (r Res) Duration() time.Duration {
	if r == Day {
		return 24 * time.Hour
	}
	return time.Hour
}

// Truncate returns the start of the bucket holding t, in UTC.
func (r Res) Truncate(t time.Time) time.Time {
	return t.UTC().Truncate(r.Duration())
}

func (r Res) String() string {
	switch r {
	case Hour:
		return "hour"
	case Day:
		return "day"
	}
	return "res(" + strconv.Itoa(int(r)) + ")"
}

// OK is the class of a sample by its point's own ok field.
type OK int8

// The ok classes.
const (
	OKFalse  OK = 0
	OKTrue   OK = 1
	OKAbsent OK = -1 // the point has no bool ok field
)

// ClassOf is the ok class of a point with these fields.
func ClassOf(fields map[string]any) OK {
	b, ok := fields["ok"].(bool)
	switch {
	case !ok:
		return OKAbsent
	case b:
		return OKTrue
	}
	return OKFalse
}

// Kind is the type of a field's values in a bucket.
type Kind uint8

// The kinds.
const (
	Number Kind = 1 // float, int and uint fields
	Bool   Kind = 2
	String Kind = 3
)

// KindOf returns the kind of a field value, and false for a type the
// store does not keep.
func KindOf(v any) (Kind, bool) {
	switch v.(type) {
	case float64, int64, uint64, int:
		return Number, true
	case bool:
		return Bool, true
	case string:
		return String, true
	}
	return 0, false
}

// Tags the collector sets on every point from the agent's credential; a
// series leaves them out (the site is a bucket's own column).
const (
	tagSite  = "site"
	tagAgent = "agent"
)

// Bucket aggregates the samples of one field of one series in one hour or
// day, for one ok class and one kind. See the package documentation.
type Bucket struct {
	Site        string
	Measurement string
	Series      string            // the series key without the site and agent tags
	Tags        map[string]string // the series' tags without site and agent; shared, never modify
	Field       string
	OK          OK
	Kind        Kind
	Res         Res
	Start       time.Time // UTC
	Count       int64

	// Numbers only.
	Min, Max, Sum float64
	Hist          *Hist

	// Bools and strings only: samples per value ("true" and "false" for
	// bools), at most MaxValues entries; Other counts the rest.
	Values map[string]int64
	Other  int64

	// The latest sample: Last for numbers, LastText for bools and strings.
	LastTime time.Time
	Last     float64
	LastText string
}

// Mean of a number bucket's samples.
func (b Bucket) Mean() float64 {
	if b.Count == 0 {
		return 0
	}
	return b.Sum / float64(b.Count)
}

// MaxValues bounds the distinct values a bool or string bucket counts one
// by one.
const MaxValues = 32

// SeriesKey is point.SeriesKey without the site and agent tags: the series
// a bucket belongs to.
func SeriesKey(measurement string, tags map[string]string) string {
	var b strings.Builder
	b.WriteString(measurement)
	for _, k := range point.SortedKeys(tags) {
		if k == tagSite || k == tagAgent {
			continue
		}
		b.WriteByte(',')
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(tags[k])
	}
	return b.String()
}

// SeriesTags copies tags without site and agent.
func SeriesTags(tags map[string]string) map[string]string {
	out := make(map[string]string, len(tags))
	for k, v := range tags {
		if k != tagSite && k != tagAgent {
			out[k] = v
		}
	}
	return out
}
