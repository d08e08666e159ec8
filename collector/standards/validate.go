package standards

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"
)

var idPattern = regexp.MustCompile(`^([A-Z]{2})-([1-9][0-9]*)$`)

// validateRequirement checks everything about a row except its rule's body.
func validateRequirement(r Requirement, hasRule bool, path string, p *problems) {
	m := idPattern.FindStringSubmatch(r.ID)
	switch {
	case r.ID == "":
		p.add(path+".id", "required")
	case m == nil:
		p.add(path+".id", "%q is not an id like FM-15", r.ID)
	}
	switch {
	case r.Standard == "":
		p.add(path+".standard", "required")
	case !slices.Contains(Standards, r.Standard):
		p.add(path+".standard", "%q is not one of %s", r.Standard, strings.Join(Standards, ", "))
	default:
		if m != nil && Prefixes[r.Standard] != m[1] {
			p.add(path+".id", "ids of the %s standard start with %s-", r.Standard, Prefixes[r.Standard])
		}
		// Core is a property of the standard; the row repeats it so reports
		// need no lookup, and a mismatch is a typo.
		if core := slices.Contains(CoreStandards, r.Standard); core != r.Core {
			p.add(path+".core", "must be %t: %s is %s", core, r.Standard, map[bool]string{true: "a core standard", false: "not a core standard"}[core])
		}
	}
	if r.Title == "" {
		p.add(path+".title", "required")
	}
	if r.Text == "" {
		p.add(path+".text", "required")
	}
	for i, ph := range r.Phases {
		if !slices.Contains(Phases, ph) {
			p.add(fmt.Sprintf("%s.phases[%d]", path, i), "%q is not one of %s", ph, strings.Join(Phases, ", "))
		} else if slices.Index(r.Phases, ph) != i {
			p.add(fmt.Sprintf("%s.phases[%d]", path, i), "%s listed twice", ph)
		}
	}
	switch r.Evidence {
	case EvidenceMeasured:
		if !hasRule && r.AwaitingProbe == "" {
			p.add(path+".evidence", "a measured requirement needs a rule, or awaiting_probe naming the probe that will feed it")
		}
		if r.AttestationLife != "" {
			p.add(path+".attestation_life", "a measured requirement has no attestation")
		}
	case EvidencePartly, EvidenceAttested:
		if hasRule && r.Evidence == EvidenceAttested {
			p.add(path+".rule", "an attested requirement cannot have a rule")
		}
		switch r.AttestationLife {
		case LifeYearly, LifeTermly:
		case "":
			p.add(path+".attestation_life", "required for a%s requirement: yearly or termly", map[bool]string{true: "n attested", false: " partly measured"}[r.Evidence == EvidenceAttested])
		default:
			p.add(path+".attestation_life", "%q is not yearly or termly", r.AttestationLife)
		}
	case "":
		p.add(path+".evidence", "required: measured, partly or attested")
	default:
		p.add(path+".evidence", "%q is not measured, partly or attested", r.Evidence)
	}
	switch r.Due {
	case DueAlready, DueAtReplacement, DueBy2030:
	case "":
		p.add(path+".due", "required: already, at_replacement or by_2030")
	default:
		p.add(path+".due", "%q is not already, at_replacement or by_2030", r.Due)
	}
	if !strings.HasPrefix(r.Source, "https://") {
		p.add(path+".source", "required: the https:// address of the DfE page")
	}
	// An empty Checked means the catalogue's own date was missing or bad,
	// which is reported once at the top.
	if _, err := time.Parse(time.DateOnly, r.Checked); r.Checked != "" && err != nil {
		p.add(path+".checked", "%q is not a date (YYYY-MM-DD)", r.Checked)
	}
	if r.AwaitingProbe != "" {
		switch _, ok := Planned(r.AwaitingProbe); {
		case r.Evidence == EvidenceAttested:
			p.add(path+".awaiting_probe", "an attested requirement is not fed by a probe")
		case !ok:
			p.add(path+".awaiting_probe", "%q is not a planned probe (%s)", r.AwaitingProbe, strings.Join(plannedNames(), ", "))
		}
	}
}

func plannedNames() []string {
	names := make([]string, len(PlannedProbes))
	for i, pp := range PlannedProbes {
		names[i] = pp.Name
	}
	return names
}

// buildCondition converts one condition, applies its defaults and checks it
// against the measurement table.
func buildCondition(rc rawCondition, req Requirement, path string, tab Table, p *problems) Condition {
	c := Condition{
		Name: rc.Name, Measurement: rc.Measurement, Where: rc.Where, Exclude: rc.Exclude, Also: rc.Also, Field: rc.Field,
		Stat: rc.Stat, Thresholds: rc.Thresholds, MinSamples: 1, GroupBy: rc.GroupBy, Unit: rc.Unit,
	}
	if rc.Name == "" {
		p.add(path+".name", "required: plain English, such as \"Google SafeSearch enforced\"")
	}
	switch w, err := time.ParseDuration(rc.Window); {
	case rc.Window == "":
		p.add(path+".window", "required: a duration such as 24h or 720h")
	case err != nil:
		p.add(path+".window", "%q is not a duration such as 24h or 720h", rc.Window)
	case w <= 0:
		p.add(path+".window", "must be positive")
	default:
		c.Window = w
	}
	if rc.MinSamples != nil {
		if *rc.MinSamples < 1 {
			p.add(path+".min_samples", "must be at least 1")
		}
		c.MinSamples = *rc.MinSamples
	}

	m, ok := tab.Lookup(rc.Measurement)
	if !ok {
		if rc.Measurement == "" {
			p.add(path+".measurement", "required")
		} else {
			p.add(path+".measurement", "unknown measurement %q (see measurements.yaml)", rc.Measurement)
		}
		return c // nothing below can be checked without it
	}
	for _, k := range sortedKeys(rc.Where) {
		tg, ok := tab.Tag(m, k)
		switch {
		case !ok:
			p.add(path+".where."+k, "%s has no tag %q", m.Name, k)
		case k == "site":
			p.add(path+".where.site", "the engine selects the site; a rule cannot")
		case k == "agent":
			p.add(path+".where.agent", "rollups merge a site's agents; a rule cannot select one")
		case len(tg.Values) > 0 && !slices.Contains(tg.Values, rc.Where[k]):
			p.add(path+".where."+k, "%q is not a value of %s.%s (%s)", rc.Where[k], m.Name, k, strings.Join(tg.Values, ", "))
		}
	}
	for _, k := range sortedKeys(rc.Exclude) {
		tg, ok := tab.Tag(m, k)
		switch {
		case !ok:
			p.add(path+".exclude."+k, "%s has no tag %q", m.Name, k)
		case rc.Where[k] != "":
			p.add(path+".exclude."+k, "tag %q is already selected by where", k)
		case len(tg.Values) > 0 && !slices.Contains(tg.Values, rc.Exclude[k]):
			p.add(path+".exclude."+k, "%q is not a value of %s.%s (%s)", rc.Exclude[k], m.Name, k, strings.Join(tg.Values, ", "))
		}
	}
	for i, s := range rc.Also {
		if !slices.Contains(Stats, s) || s == StatShare {
			p.add(fmt.Sprintf("%s.also[%d]", path, i), "%q is not a statistic to show (%s)", s, strings.Join(Stats[:len(Stats)-1], ", "))
		}
	}
	if rc.GroupBy != "" {
		seen := map[string]bool{}
		for _, g := range strings.Split(rc.GroupBy, ",") {
			switch _, ok := tab.Tag(m, g); {
			case !ok:
				p.add(path+".group_by", "%s has no tag %q", m.Name, g)
			case g == "site" || g == "agent":
				p.add(path+".group_by", "rollups merge a site's agents; a rule cannot group by %s", g)
			case seen[g]:
				p.add(path+".group_by", "tag %q named twice", g)
			}
			seen[g] = true
		}
	}

	_, hasOK := m.Field("ok")
	c.OnlyOK = hasOK && rc.Field != "ok"
	if rc.OnlyOK != nil {
		c.OnlyOK = *rc.OnlyOK
		switch {
		case *rc.OnlyOK && !hasOK:
			p.add(path+".only_ok", "%s has no ok field", m.Name)
		case *rc.OnlyOK && rc.Field == "ok":
			p.add(path+".only_ok", "cannot be true when the field is ok itself: every sample would pass")
		}
	}

	f, ok := m.Field(rc.Field)
	if !ok {
		if rc.Field == "" {
			p.add(path+".field", "required")
		} else {
			p.add(path+".field", "%s has no field %q", m.Name, rc.Field)
		}
		return c
	}

	switch {
	case rc.Stat == "":
		p.add(path+".stat", "required: one of %s", strings.Join(Stats, ", "))
	case !slices.Contains(Stats, rc.Stat):
		p.add(path+".stat", "%q is not one of %s", rc.Stat, strings.Join(Stats, ", "))
	case rc.Stat == StatShare:
		if rc.Match == nil {
			p.add(path+".match", "required for share: which samples count")
		} else {
			c.Match = buildMatch(*rc.Match, f, path+".match", p)
		}
		if c.Unit == "" {
			c.Unit = "%"
		}
	default:
		if rc.Match != nil {
			p.add(path+".match", "only share uses a match; %s is computed over every sample", rc.Stat)
		}
		if !f.Numeric() {
			p.add(path+".stat", "%s needs a numeric field and %s.%s is %s; use share with a match", rc.Stat, m.Name, f.Name, article(f.Type))
		}
		if c.Unit == "" {
			c.Unit = f.Unit
		}
	}

	if rc.Compare == nil {
		p.add(path+".compare", "required: op and value")
	} else {
		c.Compare.Op = rc.Compare.Op
		if !slices.Contains(CompareOps, rc.Compare.Op) {
			p.add(path+".compare.op", "%q is not one of %s", rc.Compare.Op, strings.Join(CompareOps, ", "))
		}
		if rc.Compare.Value == nil {
			p.add(path+".compare.value", "required")
		} else {
			c.Compare.Value = *rc.Compare.Value
			checkPercent(rc.Stat, c.Compare.Value, path+".compare.value", p)
		}
	}
	for _, ph := range sortedKeys(rc.Thresholds) {
		switch {
		case !slices.Contains(Phases, ph):
			p.add(path+".thresholds."+ph, "%q is not one of %s", ph, strings.Join(Phases, ", "))
		case !req.AppliesTo(ph):
			p.add(path+".thresholds."+ph, "the requirement does not apply to %s", ph)
		default:
			checkPercent(rc.Stat, rc.Thresholds[ph], path+".thresholds."+ph, p)
		}
	}
	return c
}

// checkPercent checks a threshold: a finite number, and for a share a
// percentage.
func checkPercent(stat string, v float64, path string, p *problems) {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		p.add(path, "%v is not a finite number: no statistic could be compared with it", v)
	case stat == StatShare && (v < 0 || v > 100):
		p.add(path, "a share is a percentage: %v is outside 0..100", v)
	}
}

// buildMatch checks the operator and value against the field's type and
// normalises numbers to float64.
func buildMatch(rm rawMatch, f Field, path string, p *problems) *Match {
	m := &Match{Op: rm.Op, Values: rm.Values}
	switch rm.Op {
	case OpContainsAny, OpIn:
		if f.Type != TypeString {
			p.add(path+".op", "%s needs a string field and %s is %s", rm.Op, f.Name, article(f.Type))
		}
		if len(rm.Values) == 0 {
			p.add(path+".values", "%s needs a list of values", rm.Op)
		}
		if rm.Value != nil {
			p.add(path+".value", "%s takes values (a list), not value", rm.Op)
		}
		for i, v := range rm.Values {
			if v == "" {
				p.add(fmt.Sprintf("%s.values[%d]", path, i), "empty value")
			}
		}
		return m
	case OpEq, OpNe, OpLt, OpLe, OpGt, OpGe:
	case "":
		p.add(path+".op", "required: one of %s", strings.Join(MatchOps, ", "))
		return m
	default:
		p.add(path+".op", "%q is not one of %s", rm.Op, strings.Join(MatchOps, ", "))
		return m
	}
	if len(rm.Values) > 0 {
		p.add(path+".values", "%s takes one value, not values", rm.Op)
	}
	if rm.Value == nil {
		p.add(path+".value", "required")
		return m
	}
	ordered := rm.Op != OpEq && rm.Op != OpNe
	if ordered && !f.Numeric() {
		p.add(path+".op", "%s needs a numeric field and %s is %s", rm.Op, f.Name, article(f.Type))
		return m
	}
	switch v := rm.Value.(type) {
	case int:
		m.Value = float64(v)
	case float64:
		m.Value = v
	default:
		m.Value = v
	}
	want := map[string]string{TypeFloat: "number", TypeInt: "number", TypeBool: "bool", TypeString: "string"}[f.Type]
	got := ""
	switch m.Value.(type) {
	case float64:
		got = "number"
	case bool:
		got = "bool"
	case string:
		got = "string"
	default:
		got = fmt.Sprintf("%T", m.Value)
	}
	if got != want {
		p.add(path+".value", "%v is %s but %s is %s field", rm.Value, article(got), f.Name, article(f.Type))
	}
	return m
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// article puts a or an before a type name.
func article(s string) string {
	if s != "" && strings.ContainsRune("aeiou", rune(s[0])) {
		return "an " + s
	}
	return "a " + s
}
