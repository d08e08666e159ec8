package score

import (
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/probity-edu/probity/collector/standards"
	"github.com/probity-edu/probity/internal/point"
)

// sample is one value of a condition's field: a number, or for share 1 when
// the match holds and 0 when it does not.
type sample struct {
	t time.Time
	v float64
}

// groupResult is a condition's figure over one group of samples.
type groupResult struct {
	group string
	value float64
	n     int
	met   *bool
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

// evalCondition selects the condition's samples from pts and judges them.
func evalCondition(c standards.Condition, pts []point.Point, phase string, now time.Time) condResult {
	from := now.Add(-c.Window)
	byGroup := map[string][]sample{}
	if !slices.Contains(standards.Stats, c.Stat) {
		pts = nil // a rule the loader would reject: no figure rather than a wrong one
	}
	for _, p := range pts {
		if p.Measurement != c.Measurement || p.Time.Before(from) || !p.Time.Before(now) {
			continue
		}
		if !tagsMatch(p.Tags, c.Where) {
			continue
		}
		if c.OnlyOK {
			if ok, _ := p.Fields["ok"].(bool); !ok {
				continue
			}
		}
		raw, present := p.Fields[c.Field]
		if !present {
			continue
		}
		var v float64
		if c.Stat == standards.StatShare {
			hit, comparable := matches(c.Match, raw)
			if !comparable {
				continue
			}
			if hit {
				v = 1
			}
		} else {
			x, ok := number(raw)
			if !ok {
				continue
			}
			v = x
		}
		g := ""
		if c.GroupBy != "" {
			g = p.Tags[c.GroupBy]
		}
		byGroup[g] = append(byGroup[g], sample{t: p.Time, v: v})
	}

	r := condResult{cond: c, threshold: c.Threshold(phase)}
	if len(byGroup) == 0 {
		byGroup[""] = nil
	}
	for _, g := range slices.Sorted(maps.Keys(byGroup)) {
		ss := byGroup[g]
		gr := groupResult{group: g, n: len(ss)}
		if len(ss) > 0 {
			gr.value = statistic(c.Stat, ss)
		}
		if len(ss) >= c.MinSamples && len(ss) > 0 {
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
