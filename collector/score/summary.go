package score

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/probity-edu/probity/collector/standards"
)

// The summary is one sentence: the state, the window, then what was
// measured with its figure and threshold. Met verdicts list the passing
// conditions; the others list what failed or lacked data, because that is
// what needs doing.
func ruleSummary(state, measured State, results []condResult, tail string) string {
	var chosen []condResult
	passed := 0
	for _, r := range results {
		if r.met != nil && *r.met {
			passed++
		}
	}
	prefix := ""
	for _, r := range results {
		isMet := r.met != nil && *r.met
		if isMet == (measured == Met) {
			chosen = append(chosen, r)
		}
	}
	if measured != Met && passed > 0 {
		prefix = fmt.Sprintf("%d of %d checks passed; ", passed, len(results))
	}
	return state.Label() + ": " + prefix + facts(chosen) + tail + "."
}

// facts phrases conditions, the shared window first.
func facts(rs []condResult) string {
	if len(rs) == 0 {
		return "no conditions"
	}
	w := rs[0].cond.Window
	same := true
	for _, r := range rs {
		same = same && r.cond.Window == w
	}
	out := ""
	if same {
		out = "over the last " + window(w) + ", "
	}
	if merged, ok := mergeShares(rs); ok {
		return out + merged
	}
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = fact(r)
		if !same {
			parts[i] += " over the last " + window(r.cond.Window)
		}
	}
	return out + strings.Join(parts, "; ")
}

// mergeShares reads "A, B and C in 100% of 96 lookups each" when several
// ungrouped share conditions have the same figures.
func mergeShares(rs []condResult) (string, bool) {
	if len(rs) < 2 {
		return "", false
	}
	first := rs[0]
	names := make([]string, len(rs))
	for i, r := range rs {
		if r.cond.Stat != standards.StatShare || r.cond.GroupBy != "" || len(r.groups) != 1 || r.groups[0].met == nil ||
			r.groups[0].n != first.groups[0].n || r.groups[0].value != first.groups[0].value ||
			r.threshold != first.threshold || r.cond.Compare.Op != first.cond.Compare.Op ||
			noun(r.cond.Measurement) != noun(first.cond.Measurement) {
			return "", false
		}
		names[i] = r.cond.Name
	}
	g := first.groups[0]
	return andList(names) + " " + figure(first.cond, g.value, g.n, first.threshold) + " each " + need(first), true
}

// fact phrases one condition.
func fact(r condResult) string {
	c := r.cond
	if c.GroupBy == "" || len(r.groups) == 1 && r.groups[0].n == 0 {
		g := r.groups[0]
		return phrase(c.Name, c, g, r.threshold) + needIf(r, g.met != nil)
	}
	if len(r.groups) == 1 {
		g := r.groups[0]
		return phrase(c.Name+" for "+g.group, c, g, r.threshold) + needIf(r, g.met != nil)
	}
	var pass, fail, short []groupResult
	for _, g := range r.groups {
		switch {
		case g.met == nil:
			short = append(short, g)
		case *g.met:
			pass = append(pass, g)
		default:
			fail = append(fail, g)
		}
	}
	plural := groupPlural(c)
	if len(pass) == len(r.groups) {
		w := worst(pass, c.Compare.Op)
		all := fmt.Sprintf("all %d %s", len(r.groups), plural)
		if len(r.groups) == 2 {
			all = "both " + plural
		}
		return fmt.Sprintf("%s for %s, the worst %s", c.Name, all,
			phrase(w.group, c, w, r.threshold)) + " " + need(r)
	}
	s := fmt.Sprintf("%s for %d of %d %s", c.Name, len(pass), len(r.groups), plural)
	if len(fail) > 0 {
		s += "; failing: " + groupList(c, fail, r.threshold) + " " + need(r)
	}
	if len(short) > 0 {
		s += "; too few " + noun(c.Measurement) + ": " + groupList(c, short, r.threshold)
	}
	return s
}

func groupList(c standards.Condition, gs []groupResult, thr float64) string {
	const most = 3
	var parts []string
	for i, g := range gs {
		if i == most {
			parts = append(parts, fmt.Sprintf("%d more", len(gs)-most))
			break
		}
		parts = append(parts, phrase(g.group, c, g, thr))
	}
	return andList(parts)
}

// worst is the group closest to failing.
func worst(gs []groupResult, op string) groupResult {
	w := gs[0]
	for _, g := range gs[1:] {
		if (op == standards.OpGe || op == standards.OpGt) && g.value < w.value ||
			(op == standards.OpLe || op == standards.OpLt) && g.value > w.value {
			w = g
		}
	}
	return w
}

// phrase joins a name to its figure: "X in 100% of ...", "X: median ...",
// "X: no lookups".
func phrase(name string, c standards.Condition, g groupResult, thr float64) string {
	if c.Stat == standards.StatShare && g.met != nil {
		return name + " " + groupFigure(c, g, thr)
	}
	return name + ": " + groupFigure(c, g, thr)
}

// groupFigure is the figure of one group, or what it lacks.
func groupFigure(c standards.Condition, g groupResult, thr float64) string {
	switch {
	case g.n == 0:
		return "no " + noun(c.Measurement)
	case g.met == nil:
		short := c
		short.Also = nil // a percentile of too few samples says little
		return fmt.Sprintf("%d %s, %d needed", g.n, noun(c.Measurement), c.MinSamples) + extras(short, g, thr)
	}
	return figure(c, g.value, g.n, thr) + extras(c, g, thr)
}

// extras adds the statistics shown beside the judged one and what the
// condition left out: ", 10th percentile 88.1 Mbit/s, 3 tests left out
// (probe_limited=true)".
func extras(c standards.Condition, g groupResult, thr float64) string {
	var b strings.Builder
	for _, s := range c.Also {
		if v, ok := g.also[s]; ok {
			b.WriteString(", " + statWords[s] + " " + num(v, thr) + unitText(c.Unit))
		}
	}
	if g.excluded > 0 {
		var eqs []string
		for _, k := range slices.Sorted(maps.Keys(c.Exclude)) {
			eqs = append(eqs, k+"="+c.Exclude[k])
		}
		fmt.Fprintf(&b, ", %d %s left out (%s)", g.excluded, noun(c.Measurement), strings.Join(eqs, ", "))
	}
	return b.String()
}

// figure: "in 99.5% of 96 lookups", "median 95.2 Mbit/s over 20 tests".
func figure(c standards.Condition, v float64, n int, thr float64) string {
	val := num(v, thr) + unitText(c.Unit)
	of := fmt.Sprintf("%d %s", n, noun(c.Measurement))
	switch c.Stat {
	case standards.StatShare:
		return "in " + val + " of " + of
	case standards.StatLast:
		return val + " at the latest of " + of
	}
	return statWords[c.Stat] + " " + val + " over " + of
}

var statWords = map[string]string{
	standards.StatMin: "lowest", standards.StatMax: "highest", standards.StatMean: "mean",
	standards.StatMedian: "median", standards.StatP10: "10th percentile", standards.StatP90: "90th percentile",
}

func needIf(r condResult, hasData bool) string {
	if !hasData {
		return ""
	}
	return " " + need(r)
}

// need: "(needs at least 99%)"; a share of 100% reads "(needs 100%)".
func need(r condResult) string {
	c := r.cond
	t := num(r.threshold, r.threshold) + unitText(c.Unit)
	if c.Stat == standards.StatShare && (r.threshold == 100 && c.Compare.Op == standards.OpGe ||
		r.threshold == 0 && c.Compare.Op == standards.OpLe) {
		return "(needs " + t + ")"
	}
	return "(needs " + opWords[c.Compare.Op] + " " + t + ")"
}

var opWords = map[string]string{
	standards.OpGe: "at least", standards.OpGt: "more than", standards.OpLe: "at most",
	standards.OpLt: "less than", standards.OpEq: "exactly", standards.OpNe: "other than",
}

func unitText(u string) string {
	switch u {
	case "", "count":
		return ""
	case "%":
		return "%"
	}
	return " " + u
}

// num formats v briefly, but never so that it reads as a round number or
// as the threshold when it is neither: 98.96 does not print as 99, and
// 99.996 against 100 prints 99.996.
func num(v, thr float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	for prec := 1; prec <= 6; prec++ {
		s := strings.TrimRight(strconv.FormatFloat(v, 'f', prec, 64), "0")
		if strings.HasSuffix(s, ".") {
			continue // rounded to a whole number: v is not one
		}
		if v != thr && s == strings.TrimRight(strconv.FormatFloat(thr, 'f', prec, 64), "0") {
			continue
		}
		return s
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// window: 24 h, 7 days, 30 days, 90 min.
func window(d time.Duration) string {
	switch {
	case d >= 48*time.Hour && d%(24*time.Hour) == 0:
		return strconv.Itoa(int(d/(24*time.Hour))) + " days"
	case d%time.Hour == 0:
		return strconv.Itoa(int(d/time.Hour)) + " h"
	case d%time.Minute == 0:
		return strconv.Itoa(int(d/time.Minute)) + " min"
	}
	return d.String()
}

func day(t time.Time) string { return t.Format("2 Jan 2006") }

var nouns = sync.OnceValue(func() map[string]string {
	m := map[string]string{}
	for _, ms := range standards.Measurements().Measurements {
		m[ms.Name] = ms.Noun
	}
	return m
})

// noun is what one point of measurement is called: "lookups".
func noun(measurement string) string {
	if n := nouns()[measurement]; n != "" {
		return n
	}
	return "samples"
}

var phaseNames = map[string][2]string{
	"primary":     {"primary schools", "a primary school"},
	"secondary":   {"secondary schools", "a secondary school"},
	"all-through": {"all-through schools", "an all-through school"},
	"special":     {"special schools", "a special school"},
	"fe":          {"further education colleges", "a further education college"},
}

func phaseList(phases []string) string {
	names := make([]string, len(phases))
	for i, p := range phases {
		names[i] = phaseNames[p][0]
		if names[i] == "" {
			names[i] = p
		}
	}
	return andList(names)
}

func phaseOne(p string) string {
	if n := phaseNames[p][1]; n != "" {
		return n
	}
	return "in phase " + strconv.Quote(p)
}

// andList: "a", "a and b", "a, b and c".
func andList(xs []string) string {
	switch len(xs) {
	case 0:
		return ""
	case 1:
		return xs[0]
	}
	return strings.Join(slices.Clip(xs[:len(xs)-1]), ", ") + " and " + xs[len(xs)-1]
}

func lowerFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToLower(r)) + s[n:]
}

// groupPlural names several groups of a condition's group_by in words.
func groupPlural(c standards.Condition) string {
	tag := c.GroupBy
	if len(c.GroupTags()) > 1 {
		return c.GroupWords() + " pairs"
	}
	switch tag {
	case "ap":
		return "access points"
	case "device":
		return "devices"
	}
	return tag + "s"
}
