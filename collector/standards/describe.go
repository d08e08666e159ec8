package standards

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Describe says in plain English what the condition checks, for a site of
// any phase; per-phase thresholds are listed. For example:
//
//	median of throughput.mbps where direction=download over 7 days, at least 5 samples, must be ≥ 100 Mbit/s
//
// A trust policy's change is not part of it: see Policy.Describe.
func (c Condition) Describe() string { return c.DescribeFor(nil) }

// DescribeFor is Describe for a requirement limited to phases (empty: every
// phase): the threshold names the phases it applies to, as in "must be ≥ 100
// Mbit/s for primary schools".
func (c Condition) DescribeFor(phases []string) string {
	var b strings.Builder
	m, _ := embeddedTable().Lookup(c.Measurement)
	noun := m.Noun
	if noun == "" {
		noun = "samples"
	}
	if c.Stat == StatShare {
		subject := c.Measurement + " " + noun
		if strings.HasPrefix(noun, c.Measurement+" ") {
			subject = noun // "ping rounds", not "ping ping rounds"
		}
		b.WriteString("share of " + subject)
	} else {
		fmt.Fprintf(&b, "%s of %s.%s", statWords[c.Stat], c.Measurement, c.Field)
	}
	if len(c.Where) > 0 {
		var eqs []string
		for _, k := range sortedKeys(c.Where) {
			eqs = append(eqs, k+"="+c.Where[k])
		}
		b.WriteString(" where " + strings.Join(eqs, " and "))
	}
	if len(c.Exclude) > 0 {
		var eqs []string
		for _, k := range sortedKeys(c.Exclude) {
			eqs = append(eqs, k+"="+c.Exclude[k])
		}
		b.WriteString(" leaving out " + strings.Join(eqs, " and "))
	}
	if c.Stat == StatShare && c.Match != nil {
		b.WriteString(" whose " + c.Field + " " + matchWords(c.Match, fieldUnit(m, c.Field)))
	}
	if c.OnlyOK {
		b.WriteString(", ok " + noun + " only,")
	}
	fmt.Fprintf(&b, " over %s, at least %d sample%s, must be %s", durationWords(c.Window), c.MinSamples, plural(c.MinSamples), c.thresholdWords(phases))
	return b.String()
}

// thresholdWords is "≥ 100 Mbit/s", with the phases when the threshold
// depends on them or the requirement is limited to some.
func (c Condition) thresholdWords(phases []string) string {
	scope := phases
	if len(scope) == 0 {
		scope = Phases
	}
	type group struct {
		value  float64
		phases []string
	}
	var groups []group
	for _, ph := range scope {
		v := c.Threshold(ph)
		i := slices.IndexFunc(groups, func(g group) bool { return g.value == v })
		if i < 0 {
			groups = append(groups, group{value: v})
			i = len(groups) - 1
		}
		groups[i].phases = append(groups[i].phases, ph)
	}
	var parts []string
	for _, g := range groups {
		s := opSymbols[c.Compare.Op] + " " + quantity(g.value, c.Unit)
		if len(groups) > 1 || len(phases) > 0 {
			s += " for " + PhaseWords(g.phases)
		}
		parts = append(parts, s)
	}
	s := joinAnd(parts)
	if c.GroupBy != "" {
		s += " for every " + c.GroupWords()
	}
	return s
}

// Describe lists the rule in plain English: how conditions combine, then
// one line per condition ("Download speed: median of ..."), then what a
// partial rule leaves out. phases are the requirement's.
func (r *Rule) Describe(phases []string) []string {
	lines := []string{r.Combination()}
	for _, c := range r.Conditions {
		lines = append(lines, c.Name+": "+c.DescribeFor(phases))
		if c.Policy != nil {
			lines = append(lines, c.Policy.Describe())
		}
	}
	if s := r.Remark(); s != "" {
		lines = append(lines, s)
	}
	return lines
}

// Combination says how the conditions combine: "Met when all of these
// hold:".
func (r *Rule) Combination() string {
	switch {
	case len(r.Conditions) == 1:
		return "Met when this holds:"
	case r.Combine == CombineAny:
		return "Met when any of these holds:"
	}
	return "Met when all of these hold:"
}

// Remark is what a partial rule leaves out, or the rule's note; empty when
// there is neither.
func (r *Rule) Remark() string {
	if r.Partial {
		return "Only part of the requirement is measured, so meeting the rule gives partly met: " + r.Note
	}
	return r.Note
}

// DescribeRule is the rule's Describe for the requirement's phases; nil
// when there is no rule.
func (r Requirement) DescribeRule() []string {
	if r.Rule == nil {
		return nil
	}
	return r.Rule.Describe(r.Phases)
}

var statWords = map[string]string{
	StatLast: "latest value", StatMin: "minimum", StatMax: "maximum", StatMean: "mean",
	StatMedian: "median", StatP10: "10th percentile", StatP90: "90th percentile",
}

var opSymbols = map[string]string{OpEq: "=", OpNe: "≠", OpLt: "<", OpLe: "≤", OpGt: ">", OpGe: "≥"}

func matchWords(m *Match, unit string) string {
	switch m.Op {
	case OpContainsAny:
		return "contains any of " + strings.Join(m.Values, ", ")
	case OpIn:
		return "is one of " + strings.Join(m.Values, ", ")
	}
	v := fmt.Sprint(m.Value)
	if f, ok := m.Value.(float64); ok {
		v = quantity(f, unit)
	}
	switch m.Op {
	case OpEq:
		return "is " + v
	case OpNe:
		return "is not " + v
	}
	return opSymbols[m.Op] + " " + v
}

func fieldUnit(m Measurement, field string) string {
	f, _ := m.Field(field)
	return f.Unit
}

// quantity writes a number with its unit: "100 Mbit/s", "99%", "3".
func quantity(v float64, unit string) string {
	n := strconv.FormatFloat(v, 'f', -1, 64)
	switch unit {
	case "", "count":
		return n
	case "%":
		return n + "%"
	}
	return n + " " + unit
}

// durationWords writes a window as people say it: "24 hours", "7 days".
func durationWords(d time.Duration) string {
	day := 24 * time.Hour
	switch {
	case d <= 0:
		return d.String()
	case d%day == 0 && d > day:
		return fmt.Sprintf("%d days", d/day)
	case d%time.Hour == 0:
		return fmt.Sprintf("%d hour%s", d/time.Hour, plural(int(d/time.Hour)))
	case d%time.Minute == 0:
		return fmt.Sprintf("%d minute%s", d/time.Minute, plural(int(d/time.Minute)))
	}
	return d.String()
}

var phaseNames = map[string]string{
	"primary": "primary schools", "secondary": "secondary schools", "all-through": "all-through schools",
	"special": "special schools", "fe": "FE colleges",
}

// PhaseWords names phases in plain English: "primary schools and FE
// colleges"; "every phase" for none or all of them.
func PhaseWords(phases []string) string {
	if len(phases) == 0 || len(phases) == len(Phases) && !slices.ContainsFunc(Phases, func(p string) bool { return !slices.Contains(phases, p) }) {
		return "every phase"
	}
	words := make([]string, len(phases))
	for i, p := range phases {
		words[i] = p
		if w, ok := phaseNames[p]; ok {
			words[i] = w
		}
	}
	return joinAnd(words)
}

// joinAnd joins "a", "b" and "c" as "a, b and c".
func joinAnd(s []string) string {
	switch len(s) {
	case 0:
		return ""
	case 1:
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// embeddedTable is the measurement table without the copy Measurements
// makes; an invalid embedded table (ruled out by a test) gives an empty one.
func embeddedTable() Table {
	t, _ := embedded()
	return t
}
