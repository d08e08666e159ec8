package score

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/probity-edu/probity/collector/rollup"
	"github.com/probity-edu/probity/collector/standards"
	"github.com/probity-edu/probity/internal/point"
)

// groupResult is a condition's figure over one group of samples.
type groupResult struct {
	group    string
	value    float64
	n        int
	met      *bool
	series   []string
	approx   bool
	also     map[string]float64 // Condition.Also's statistics
	excluded int                // samples Condition.Exclude left out
}

// condResult is one condition evaluated.
type condResult struct {
	cond      standards.Condition
	threshold float64
	groups    []groupResult // by group name; one, named "", without GroupBy
	met       *bool
}

func (r condResult) samples() int {
	n := 0
	for _, g := range r.groups {
		n += g.n
	}
	return n
}

// evalCondition selects the condition's buckets from bs and judges them.
func evalCondition(c standards.Condition, bs []rollup.Bucket, phase string, now time.Time) condResult {
	spans := rollup.Window(now, c.Window)
	return judge(c, bs, phase, func(b *rollup.Bucket) bool { return rollup.Covers(spans, b) })
}

// judge computes the condition's figure over the buckets in selects and
// compares it with the threshold for phase.
func judge(c standards.Condition, bs []rollup.Bucket, phase string, selects func(*rollup.Bucket) bool) condResult {
	byGroup := map[string]*groupAcc{}
	if !slices.Contains(standards.Stats, c.Stat) {
		bs = nil // a rule the loader would reject: no figure rather than a wrong one
	}
	for i := range bs {
		b := &bs[i]
		if b.Measurement != c.Measurement || b.Field != c.Field || b.Count == 0 ||
			!selects(b) || !tagsMatch(b.Tags, c.Where) {
			continue
		}
		if c.OnlyOK && b.OK != rollup.OKTrue {
			continue
		}
		g := ""
		for i, tag := range c.GroupTags() {
			if i > 0 {
				g += " / "
			}
			g += b.Tags[tag]
		}
		acc := byGroup[g]
		if acc == nil {
			acc = &groupAcc{series: map[string]bool{}}
		}
		if len(c.Exclude) > 0 && tagsMatch(b.Tags, c.Exclude) {
			acc.excluded += b.Count
			byGroup[g] = acc
			continue
		}
		if c.Stat == standards.StatShare {
			n, hits, approx, ok := shareCounts(c.Match, b)
			if !ok {
				continue
			}
			acc.n, acc.hits, acc.approx = acc.n+n, acc.hits+hits, acc.approx || approx
		} else {
			if b.Kind != rollup.Number {
				continue
			}
			acc.addNumbers(b)
		}
		acc.series[b.Series] = true
		byGroup[g] = acc
	}

	r := condResult{cond: c, threshold: c.Threshold(phase)}
	if len(byGroup) == 0 {
		byGroup[""] = &groupAcc{}
	}
	for _, g := range slices.Sorted(maps.Keys(byGroup)) {
		acc := byGroup[g]
		gr := groupResult{group: g, n: int(acc.n), series: slices.Sorted(maps.Keys(acc.series)), excluded: int(acc.excluded)}
		if acc.n > 0 {
			gr.value, gr.approx = acc.statistic(c.Stat)
			for _, s := range c.Also {
				if gr.also == nil {
					gr.also = map[string]float64{}
				}
				v, approx := acc.statistic(s)
				gr.also[s], gr.approx = v, gr.approx || approx
			}
		}
		if gr.n >= c.MinSamples && gr.n > 0 {
			met := compare(gr.value, c.Compare.Op, r.threshold)
			gr.met = &met
		}
		r.groups = append(r.groups, gr)
	}
	r.met = allGroups(r.groups)
	return r
}

// allGroups: any group failing fails; all passing passes; else unknown.
func allGroups(gs []groupResult) *bool {
	pass := 0
	for _, g := range gs {
		if g.met == nil {
			continue
		}
		if !*g.met {
			return ptr(false)
		}
		pass++
	}
	if pass == len(gs) {
		return ptr(true)
	}
	return nil
}

func ptr[T any](v T) *T { return &v }

func tagsMatch(tags, where map[string]string) bool {
	for k, v := range where {
		if tags[k] != v {
			return false
		}
	}
	return true
}

// number reads an int or float field; a bool is not a number here (the
// loader allows numeric statistics on int and float fields only).
func number(v any) (float64, bool) {
	if _, isBool := v.(bool); isBool {
		return 0, false
	}
	return point.AsFloat(v)
}

// matches applies a per-sample match. comparable is false when the value's
// type does not fit the match (a point with a mistyped field is skipped,
// not counted as a miss).
func matches(m *standards.Match, v any) (hit, comparable bool) {
	if m == nil {
		return false, false
	}
	switch m.Op {
	case standards.OpContainsAny:
		s, ok := v.(string)
		if !ok {
			return false, false
		}
		for _, el := range strings.Split(s, ",") {
			el = normName(el)
			for _, want := range m.Values {
				if el != "" && el == normName(want) {
					return true, true
				}
			}
		}
		return false, true
	case standards.OpIn:
		s, ok := v.(string)
		if !ok {
			return false, false
		}
		return slices.Contains(m.Values, s), true
	}
	switch want := m.Value.(type) {
	case float64:
		x, ok := number(v)
		if !ok {
			return false, false
		}
		return compare(x, m.Op, want), true
	case bool:
		b, ok := v.(bool)
		if !ok {
			return false, false
		}
		switch m.Op {
		case standards.OpEq:
			return b == want, true
		case standards.OpNe:
			return b != want, true
		}
	case string:
		s, ok := v.(string)
		if !ok {
			return false, false
		}
		switch m.Op {
		case standards.OpEq:
			return s == want, true
		case standards.OpNe:
			return s != want, true
		}
	}
	return false, false
}

// shareCounts counts a bucket's samples and those the match holds for.
// ok is false when the bucket's kind does not fit the match (a mistyped
// field is skipped, not counted as a miss). Values beyond the bucket's
// MaxValues (its Other count) are taken to differ from every value the
// match names: they hold for ne and not for the other operators, which is
// exact for eq and ne when the named value is among those counted.
func shareCounts(m *standards.Match, b *rollup.Bucket) (n, hits int64, approx, ok bool) {
	if m == nil || b.Kind != matchKind(m) {
		return 0, 0, false, false
	}
	if b.Kind == rollup.Number {
		t, _ := m.Value.(float64)
		hits, certain := numberHits(b, m.Op, t)
		return b.Count, hits, !certain, true
	}
	for v, c := range b.Values {
		var x any = v
		if b.Kind == rollup.Bool {
			x = v == "true"
		}
		if hit, _ := matches(m, x); hit {
			hits += c
		}
	}
	if b.Other > 0 {
		if m.Op == standards.OpNe {
			hits += b.Other
		}
		_, listed := b.Values[fmt.Sprint(m.Value)]
		approx = !((m.Op == standards.OpEq || m.Op == standards.OpNe) && listed)
	}
	return b.Count, hits, approx, true
}

// matchKind is the kind of field a match applies to.
func matchKind(m *standards.Match) rollup.Kind {
	switch m.Value.(type) {
	case float64:
		return rollup.Number
	case bool:
		return rollup.Bool
	}
	return rollup.String
}

// numberHits counts a number bucket's samples for which "v op t" holds,
// from its histogram; certain is false when a bin straddles t.
func numberHits(b *rollup.Bucket, op string, t float64) (int64, bool) {
	below := func(incl bool) (int64, bool) { return b.Hist.CountBelow(t, incl, b.Min, b.Max) }
	lt, c1 := below(false)
	le, c2 := below(true)
	switch op {
	case standards.OpLt:
		return lt, c1
	case standards.OpLe:
		return le, c2
	case standards.OpGt:
		return b.Count - le, c2
	case standards.OpGe:
		return b.Count - lt, c1
	case standards.OpEq:
		return le - lt, c1 && c2
	case standards.OpNe:
		return b.Count - (le - lt), c1 && c2
	}
	return 0, true
}

// normName makes "ForceSafeSearch.Google.com. " and
// "forcesafesearch.google.com" equal: DNS names are case-insensitive and
// may carry the root's trailing dot.
func normName(s string) string {
	return strings.ToLower(strings.TrimSuffix(strings.TrimSpace(s), "."))
}

func compare(v float64, op string, thr float64) bool {
	switch op {
	case standards.OpEq:
		return v == thr
	case standards.OpNe:
		return v != thr
	case standards.OpLt:
		return v < thr
	case standards.OpLe:
		return v <= thr
	case standards.OpGt:
		return v > thr
	case standards.OpGe:
		return v >= thr
	}
	return false
}
