package score

import (
	"slices"
	"time"

	"github.com/probity-edu/probity/collector/rollup"
	"github.com/probity-edu/probity/collector/standards"
)

// DayValue is a condition's statistic over one UTC day.
type DayValue struct {
	Day     time.Time `json:"day"`
	Value   float64   `json:"value"`
	Samples int       `json:"samples"`
}

// Daily evaluates c's statistic (its match and exclusions included) over
// each day's buckets in bs with a day's samples, from the daily buckets
// whose day starts in [from, to): the series a report charts against the
// threshold. Groups are merged: the line is the whole site's. Days without
// samples are left out.
func Daily(c standards.Condition, bs []rollup.Bucket, from, to time.Time) []DayValue {
	c.GroupBy, c.MinSamples = "", 1
	byDay := map[time.Time][]rollup.Bucket{}
	var days []time.Time
	for _, b := range bs {
		// judge checks these too; checking first keeps the day lists to
		// the buckets that count.
		if b.Res != rollup.Day || b.Start.Before(from) || !b.Start.Before(to) || b.Count == 0 ||
			b.Measurement != c.Measurement || b.Field != c.Field || !tagsMatch(b.Tags, c.Where) {
			continue
		}
		if _, ok := byDay[b.Start]; !ok {
			days = append(days, b.Start)
		}
		byDay[b.Start] = append(byDay[b.Start], b)
	}
	slices.SortFunc(days, time.Time.Compare)
	out := make([]DayValue, 0, len(days))
	all := func(*rollup.Bucket) bool { return true }
	for _, d := range days {
		r := judge(c, byDay[d], "", all)
		if g := r.groups[0]; g.n > 0 {
			out = append(out, DayValue{Day: d, Value: g.value, Samples: g.n})
		}
	}
	return out
}
