package rollup

import (
	"cmp"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/probity-edu/probity/internal/point"
)

type key struct {
	site, measurement, series, field string
	ok                               OK
	kind                             Kind
	start                            int64
}

func keyOf(b *Bucket) key {
	return key{b.Site, b.Measurement, b.Series, b.Field, b.OK, b.Kind, b.Start.UnixNano()}
}

// Aggregator sums points into buckets of one resolution.
type Aggregator struct {
	res Res
	// A series' buckets sit together, found by one lookup a point: hashing
	// the site, measurement and series once a point rather than once a
	// field was most of a rollup's time.
	series map[seriesID]*seriesBuckets
	byID   map[int64]*seriesBuckets // AddSamples' caller's numbering
	n      int                      // buckets
}

type seriesID struct{ site, measurement, series string }

// seriesBuckets are one series' buckets, searched in order: a series has
// a few fields, each mostly in one ok class and one bucket.
type seriesBuckets struct {
	id   seriesID
	tags map[string]string // without site and agent; shared by its buckets
	bs   []*Bucket
}

// NewAggregator returns an empty aggregator for res.
func NewAggregator(res Res) *Aggregator {
	return &Aggregator{res: res, series: map[seriesID]*seriesBuckets{}, byID: map[int64]*seriesBuckets{}}
}

// AddPoint counts every field of p for site.
func (a *Aggregator) AddPoint(site string, p point.Point) {
	a.Add(site, p.Measurement, SeriesKey(p.Measurement, p.Tags), p.Tags, p.Fields, p.Time)
}

// Add counts every field of one point whose series key (see SeriesKey) is
// already known; tags may still hold site and agent.
func (a *Aggregator) Add(site, measurement, series string, tags map[string]string, fields map[string]any, t time.Time) {
	a.add(a.seriesOf(seriesID{site, measurement, series}, tags), fields, t)
}

// Sample is one field of a point as AddSamples takes it: read from a
// stored fields column without a map (rowcodec's Decoder.Samples), where a
// map a point, its boxed values and its random order were most of a
// rollup's time. Field and Text may point into a buffer the caller reuses;
// a bucket copies what it keeps.
type Sample struct {
	Field []byte
	Kind  Kind
	Num   float64 // numbers (ints and uints as float64, as AsFloat reads them); bools 1 or 0
	Text  []byte  // strings; bools "true" or "false"
}

// ClassOfSamples is ClassOf for a point read as samples.
func ClassOfSamples(ss []Sample) OK {
	for i := range ss {
		if ss[i].Kind == Bool && string(ss[i].Field) == "ok" {
			if ss[i].Num != 0 {
				return OKTrue
			}
			return OKFalse
		}
	}
	return OKAbsent
}

// AddSamples is Add for a caller that numbers its series, with the point
// read as samples: every call with the same id must give the same site,
// measurement and series, which are then not looked up again. Different
// ids may share a series (one per agent of a site, say); their samples go
// in the same buckets.
func (a *Aggregator) AddSamples(id int64, site, measurement, series string, tags map[string]string, ss []Sample, t time.Time) {
	sb := a.byID[id]
	if sb == nil {
		sb = a.seriesOf(seriesID{site, measurement, series}, tags)
		a.byID[id] = sb
	}
	a.addSamples(sb, ss, t)
}

// AddSeriesSamples is Add for a point read as samples.
func (a *Aggregator) AddSeriesSamples(site, measurement, series string, tags map[string]string, ss []Sample, t time.Time) {
	a.addSamples(a.seriesOf(seriesID{site, measurement, series}, tags), ss, t)
}

func (a *Aggregator) addSamples(sb *seriesBuckets, ss []Sample, t time.Time) {
	class := ClassOfSamples(ss)
	start := a.res.Truncate(t)
	for i := range ss {
		b := bucketOf(sb, a, ss[i].Field, class, ss[i].Kind, start)
		latest := b.sample(t)
		switch b.Kind {
		case Number:
			b.addNumber(ss[i].Num, latest)
		case Bool, String:
			addText(b, ss[i].Text, latest)
		}
	}
}

func (a *Aggregator) seriesOf(id seriesID, tags map[string]string) *seriesBuckets {
	sb := a.series[id]
	if sb == nil {
		sb = &seriesBuckets{id: id, tags: SeriesTags(tags)}
		a.series[id] = sb
	}
	return sb
}

func (a *Aggregator) add(sb *seriesBuckets, fields map[string]any, t time.Time) {
	class := ClassOf(fields)
	start := a.res.Truncate(t)
	for f, v := range fields {
		kind, ok := KindOf(v)
		if !ok {
			continue
		}
		sb.bucket(a, f, class, kind, start).add(v, t)
	}
}

// bucketOf finds or makes the series' bucket for one field, class, kind
// and start. The field is compared without making a string of it, so
// AddSamples allocates only for a new bucket.
func bucketOf[S string | []byte](sb *seriesBuckets, a *Aggregator, field S, class OK, kind Kind, start time.Time) *Bucket {
	// From the newest: points come mostly in time order, so a bucket of an
	// earlier hour is rarely wanted again.
	for i := len(sb.bs) - 1; i >= 0; i-- {
		if b := sb.bs[i]; b.Field == string(field) && b.OK == class && b.Kind == kind && b.Start.Equal(start) {
			return b
		}
	}
	b := &Bucket{Site: sb.id.site, Measurement: sb.id.measurement, Series: sb.id.series, Tags: sb.tags, Field: string(field),
		OK: class, Kind: kind, Res: a.res, Start: start}
	sb.bs = append(sb.bs, b)
	a.n++
	return b
}

// bucket is bucketOf for a field named by a string.
func (sb *seriesBuckets) bucket(a *Aggregator, field string, class OK, kind Kind, start time.Time) *Bucket {
	return bucketOf(sb, a, field, class, kind, start)
}

// add counts one sample; a sample at the same time as the latest replaces
// it, so ties go to the later input.
func (b *Bucket) add(v any, t time.Time) {
	latest := b.sample(t)
	switch b.Kind {
	case Number:
		x, _ := point.AsFloat(v)
		b.addNumber(x, latest)
	case Bool, String:
		s, ok := v.(string)
		if !ok {
			s = strconv.FormatBool(v.(bool))
		}
		addText(b, s, latest)
	}
}

// sample counts one sample at t and reports whether it is the latest.
func (b *Bucket) sample(t time.Time) (latest bool) {
	latest = b.Count == 0 || !t.Before(b.LastTime)
	b.Count++
	if latest {
		b.LastTime = t
	}
	return latest
}

func (b *Bucket) addNumber(x float64, latest bool) {
	if b.Count == 1 {
		b.Min, b.Max = x, x
	}
	b.Min, b.Max, b.Sum = min(b.Min, x), max(b.Max, x), b.Sum+x
	if b.Hist == nil {
		b.Hist = &Hist{}
	}
	b.Hist.Add(x, 1, MaxExact)
	if latest {
		b.Last = x
	}
}

// addText counts a bool's or string's value. A series' text fields mostly
// repeat one value, whose string the bucket already holds as its latest:
// it is reused rather than made again from AddSamples' bytes.
func addText[S string | []byte](b *Bucket, text S, latest bool) {
	s := b.LastText
	if s != string(text) {
		s = string(text)
	}
	if b.Values == nil {
		b.Values = map[string]int64{}
	}
	b.Values[s]++
	if latest {
		b.LastText = s
	}
}

// Buckets returns the buckets so far in a stable order (see Sort), with
// value counts capped at MaxValues.
func (a *Aggregator) Buckets() []Bucket {
	// Sorting the series, then each series' few buckets, moves pointers
	// rather than whole buckets: one Sort of an hour's hundreds of
	// thousands of buckets was a tenth of a rollup's time.
	series := slices.SortedFunc(maps.Values(a.series), func(x, y *seriesBuckets) int {
		return cmp.Or(cmp.Compare(x.id.site, y.id.site), cmp.Compare(x.id.measurement, y.id.measurement),
			cmp.Compare(x.id.series, y.id.series))
	})
	out := make([]Bucket, 0, a.n)
	for _, sb := range series {
		slices.SortFunc(sb.bs, func(x, y *Bucket) int { return compareInSeries(x, y) })
		for _, b := range sb.bs {
			b.capValues()
			out = append(out, *b)
		}
	}
	return out
}

// capValues keeps the MaxValues most frequent values (ties: the smaller
// value) and counts the rest in Other.
func (b *Bucket) capValues() {
	if len(b.Values) <= MaxValues {
		return
	}
	keys := slices.SortedFunc(maps.Keys(b.Values), func(x, y string) int {
		if c := cmp.Compare(b.Values[y], b.Values[x]); c != 0 {
			return c
		}
		return cmp.Compare(x, y)
	})
	for _, k := range keys[MaxValues:] {
		b.Other += b.Values[k]
		delete(b.Values, k)
	}
}

// Sort orders buckets by site, measurement, series, field, resolution,
// start, ok class and kind.
func Sort(bs []Bucket) {
	slices.SortFunc(bs, func(x, y Bucket) int {
		return cmp.Or(
			cmp.Compare(x.Site, y.Site), cmp.Compare(x.Measurement, y.Measurement),
			cmp.Compare(x.Series, y.Series), compareInSeries(&x, &y))
	})
}

// compareInSeries is Sort's order within one series.
func compareInSeries(x, y *Bucket) int {
	return cmp.Or(cmp.Compare(x.Field, y.Field),
		cmp.Compare(x.Res, y.Res), x.Start.Compare(y.Start),
		cmp.Compare(x.OK, y.OK), cmp.Compare(x.Kind, y.Kind))
}

// Merge returns one bucket of res holding the samples of bs, which must
// share site, series, field, ok class and kind; it starts at the res
// bucket holding the first one's start. Later buckets win ties for the
// latest sample. Value counts are capped once, after the union.
func Merge(res Res, bs []Bucket) Bucket {
	if len(bs) == 0 {
		return Bucket{Res: res}
	}
	f := bs[0]
	out := Bucket{Site: f.Site, Measurement: f.Measurement, Series: f.Series, Tags: f.Tags, Field: f.Field,
		OK: f.OK, Kind: f.Kind, Res: res, Start: res.Truncate(f.Start)}
	for i := range bs {
		out.merge(&bs[i])
	}
	out.capValues()
	return out
}

func (b *Bucket) merge(o *Bucket) {
	if o.Count == 0 {
		return
	}
	if b.Count == 0 {
		b.Min, b.Max = o.Min, o.Max
	}
	b.Min, b.Max = min(b.Min, o.Min), max(b.Max, o.Max)
	b.Count += o.Count
	b.Sum += o.Sum
	if o.Hist != nil {
		if b.Hist == nil {
			b.Hist = &Hist{}
		}
		b.Hist.Merge(o.Hist, MaxExact)
	}
	if len(o.Values) > 0 && b.Values == nil {
		b.Values = make(map[string]int64, len(o.Values))
	}
	for k, n := range o.Values {
		b.Values[k] += n
	}
	b.Other += o.Other
	if !o.LastTime.Before(b.LastTime) {
		b.LastTime, b.Last, b.LastText = o.LastTime, o.Last, o.LastText
	}
}

// Daily merges buckets (normally hourly) into daily ones, sorted.
func Daily(bs []Bucket) []Bucket {
	groups := map[key][]Bucket{}
	for _, b := range bs {
		b.Start = Day.Truncate(b.Start)
		k := keyOf(&b)
		groups[k] = append(groups[k], b)
	}
	out := make([]Bucket, 0, len(groups))
	for _, g := range groups {
		out = append(out, Merge(Day, g))
	}
	Sort(out)
	return out
}

// FromPoints rolls points of one site up into hourly buckets and daily
// ones merged from those, as the collector's store does: both
// resolutions, sorted.
func FromPoints(site string, pts []point.Point) []Bucket {
	a := NewAggregator(Hour)
	for _, p := range pts {
		a.AddPoint(site, p)
	}
	hourly := a.Buckets()
	return append(hourly, Daily(hourly)...)
}

// MergeClasses merges one series' buckets into one bucket of res for each
// (Field, OK, Kind) class among them, in the order the classes first
// appear: how a day is built from its hours.
func MergeClasses(res Res, bs []Bucket) []Bucket {
	type class struct {
		field string
		ok    OK
		kind  Kind
	}
	groups := map[class][]Bucket{}
	var order []class
	for _, b := range bs {
		k := class{b.Field, b.OK, b.Kind}
		if groups[k] == nil {
			order = append(order, k)
		}
		groups[k] = append(groups[k], b)
	}
	out := make([]Bucket, 0, len(order))
	for _, k := range order {
		out = append(out, Merge(res, groups[k]))
	}
	return out
}
