package score

import (
	"strings"
	"testing"
	"time"

	"github.com/probity-edu/probity/collector/rollup"
	"github.com/probity-edu/probity/collector/standards"
	"github.com/probity-edu/probity/internal/point"
)

// Every row of the combine truth table in the package documentation.
func TestCombineTruthTable(t *testing.T) {
	y, n := ptr(true), ptr(false)
	var u *bool
	for _, c := range []struct {
		how  string
		mets []*bool
		want State
	}{
		{standards.CombineAll, []*bool{y, y, y}, Met},
		{standards.CombineAll, []*bool{y, n, y}, PartlyMet},
		{standards.CombineAll, []*bool{y, n, u}, PartlyMet},
		{standards.CombineAll, []*bool{y, u, u}, PartlyMet},
		{standards.CombineAll, []*bool{n, n}, NotMet},
		{standards.CombineAll, []*bool{n, u}, NotMet},
		{standards.CombineAll, []*bool{u, u}, NotEnoughData},
		{standards.CombineAll, nil, NotEnoughData},
		{standards.CombineAny, []*bool{y, n, u}, Met},
		{standards.CombineAny, []*bool{y, y}, Met},
		{standards.CombineAny, []*bool{n, n}, NotMet},
		{standards.CombineAny, []*bool{n, u}, NotEnoughData},
		{standards.CombineAny, []*bool{u, u}, NotEnoughData},
	} {
		if got := combine(c.how, c.mets); got != c.want {
			t.Errorf("combine(%s, %s) = %s, want %s", c.how, show(c.mets), got, c.want)
		}
	}
}

func show(ms []*bool) string {
	var s []string
	for _, m := range ms {
		switch {
		case m == nil:
			s = append(s, "U")
		case *m:
			s = append(s, "M")
		default:
			s = append(s, "N")
		}
	}
	return strings.Join(s, ",")
}

var now = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// shareRule is one condition on safesearch.enforced: true in 100% of
// samples over 24 h.
func shareRule() *standards.Rule {
	return &standards.Rule{Combine: standards.CombineAll, Conditions: []standards.Condition{{
		Name: "enforced", Measurement: "safesearch", Where: map[string]string{"engine": "google"}, Field: "enforced",
		Window: 24 * time.Hour, Stat: standards.StatShare, Match: &standards.Match{Op: standards.OpEq, Value: true},
		Compare: standards.Compare{Op: standards.OpGe, Value: 100}, MinSamples: 1, Unit: "%",
	}}}
}

func enforced(ok bool, age time.Duration) point.Point {
	return point.New("safesearch", map[string]string{"engine": "google"}, map[string]any{"enforced": ok}, now.Add(-age))
}

// Every row of the requirement truth table in the package documentation.
func TestRequirementTruthTable(t *testing.T) {
	valid := Attestation{ReqID: "X-1", By: "A", At: now.Add(-24 * time.Hour)}
	old := Attestation{ReqID: "X-1", By: "B", At: now.AddDate(-2, 0, 0)}
	pass := map[int][]point.Point{0: {enforced(true, time.Hour)}}
	fail := map[int][]point.Point{0: {enforced(false, time.Hour)}}
	for _, c := range []struct {
		name     string
		evidence string
		rule     *standards.Rule
		partial  bool
		phases   []string
		phase    string
		samples  map[int][]point.Point
		atts     []Attestation
		want     State
	}{
		{"phase excludes the site", standards.EvidenceAttested, nil, false, []string{"primary"}, "secondary", nil, []Attestation{valid}, NotApplicable},
		{"phase unknown", standards.EvidenceMeasured, shareRule(), false, []string{"primary"}, "", pass, nil, NotEnoughData},
		{"phase matches", standards.EvidenceMeasured, shareRule(), false, []string{"primary"}, "primary", pass, nil, Met},
		{"attested, valid", standards.EvidenceAttested, nil, false, nil, "special", nil, []Attestation{old, valid}, Attested},
		{"attested, expired", standards.EvidenceAttested, nil, false, nil, "special", nil, []Attestation{old}, AttestationExpired},
		{"attested, none", standards.EvidenceAttested, nil, false, nil, "special", nil, nil, NotEnoughData},
		{"partly without a rule, valid", standards.EvidencePartly, nil, false, nil, "fe", nil, []Attestation{valid}, Attested},
		{"measured met", standards.EvidenceMeasured, shareRule(), false, nil, "fe", pass, nil, Met},
		{"measured met, partial rule", standards.EvidenceMeasured, shareRule(), true, nil, "fe", pass, nil, PartlyMet},
		{"measured not met, valid attestation", standards.EvidenceMeasured, shareRule(), false, nil, "fe", fail, []Attestation{valid}, NotMet},
		{"measured no data, valid attestation", standards.EvidenceMeasured, shareRule(), false, nil, "fe", nil, []Attestation{valid}, NotEnoughData},
		{"partly: rule met, valid", standards.EvidencePartly, shareRule(), false, nil, "fe", pass, []Attestation{valid}, Met},
		{"partly: rule met, expired", standards.EvidencePartly, shareRule(), false, nil, "fe", pass, []Attestation{old}, PartlyMet},
		{"partly: rule met, none", standards.EvidencePartly, shareRule(), false, nil, "fe", pass, nil, PartlyMet},
		{"partly: rule met but partial, valid", standards.EvidencePartly, shareRule(), true, nil, "fe", pass, []Attestation{valid}, PartlyMet},
		{"partly: rule not met, valid", standards.EvidencePartly, shareRule(), false, nil, "fe", fail, []Attestation{valid}, NotMet},
		{"partly: no data, valid", standards.EvidencePartly, shareRule(), false, nil, "fe", nil, []Attestation{valid}, Attested},
		{"partly: no data, expired", standards.EvidencePartly, shareRule(), false, nil, "fe", nil, []Attestation{old}, AttestationExpired},
		{"partly: no data, none", standards.EvidencePartly, shareRule(), false, nil, "fe", nil, nil, NotEnoughData},
		{"at replacement: not met", standards.EvidenceMeasured, shareRule(), false, nil, "fe", fail, nil, PlanNeeded},
		{"at replacement: not met, valid attestation", standards.EvidenceMeasured, shareRule(), false, nil, "fe", fail, []Attestation{valid}, PlanNeeded},
		{"at replacement: partly, rule not met", standards.EvidencePartly, shareRule(), false, nil, "fe", fail, []Attestation{valid}, PlanNeeded},
		{"at replacement: met", standards.EvidenceMeasured, shareRule(), false, nil, "fe", pass, nil, Met},
		{"at replacement: no data", standards.EvidenceMeasured, shareRule(), false, nil, "fe", nil, nil, NotEnoughData},
		{"at replacement: partly, rule met, none", standards.EvidencePartly, shareRule(), false, nil, "fe", pass, nil, PartlyMet},
		{"at replacement: attested", standards.EvidenceAttested, nil, false, nil, "fe", nil, []Attestation{valid}, Attested},
	} {
		t.Run(c.name, func(t *testing.T) {
			req := standards.Requirement{ID: "X-1", Evidence: c.evidence, Phases: c.phases, Rule: c.rule, AttestationLife: standards.LifeYearly, Due: standards.DueAlready}
			if strings.HasPrefix(c.name, "at replacement") {
				req.Due = standards.DueAtReplacement
			}
			if c.rule != nil {
				c.rule.Partial = c.partial
				c.rule.Note = "not all of it"
			}
			v := Evaluate(req, Input{Phase: c.phase, Now: now, Samples: c.samples, Attestations: c.atts})
			if v.State != c.want {
				t.Errorf("state %s, want %s (%s)", v.State, c.want, v.Summary)
			}
			if v.ReqID != "X-1" || v.Summary == "" || !strings.HasSuffix(v.Summary, ".") {
				t.Errorf("verdict %+v", v)
			}
			if !strings.HasPrefix(v.Summary, c.want.Label()) && c.want != Attested {
				t.Errorf("summary %q does not start with %q", v.Summary, c.want.Label())
			}
			if c.want == PlanNeeded && !strings.Contains(v.Summary, "next replacement") {
				t.Errorf("plan needed without the plan: %q", v.Summary)
			}
			// Measurement wins, but the attestation stays visible.
			if c.rule != nil && len(c.atts) > 0 && c.want != NotApplicable && v.Evidence.Attestation == nil {
				t.Error("attestation missing from the evidence")
			}
		})
	}
}

// Evaluate filters on its own: measurement, window, Where, OnlyOK and
// field presence, whatever the caller handed it.
func TestEvaluateFiltersItsInput(t *testing.T) {
	cond := standards.Condition{
		Name: "canary NXDOMAIN", Measurement: "dns", Where: map[string]string{"qname": "use-application-dns.net"},
		Field: "rcode", OnlyOK: true, Window: 24 * time.Hour, Stat: standards.StatShare,
		Match: &standards.Match{Op: standards.OpEq, Value: "NXDOMAIN"}, Compare: standards.Compare{Op: standards.OpGe, Value: 100},
		MinSamples: 1, Unit: "%",
	}
	req := standards.Requirement{ID: "FM-13", Evidence: standards.EvidenceMeasured, Rule: &standards.Rule{Combine: standards.CombineAll, Conditions: []standards.Condition{cond}}}
	canary := map[string]string{"qname": "use-application-dns.net"}
	pts := []point.Point{
		point.New("dns", canary, map[string]any{"ok": true, "rcode": "NXDOMAIN"}, now.Add(-time.Hour)),                                   // counts
		point.New("dns", canary, map[string]any{"ok": true, "rcode": "NXDOMAIN"}, now.Add(-24*time.Hour)),                                // counts: start of the window
		point.New("dns", canary, map[string]any{"ok": true, "rcode": "NOERROR"}, now.Add(-25*time.Hour)),                                 // too old
		point.New("dns", canary, map[string]any{"ok": true, "rcode": "NOERROR"}, now),                                                    // not before Now
		point.New("dns", canary, map[string]any{"ok": false, "rcode": "NOERROR"}, now.Add(-time.Hour)),                                   // not ok
		point.New("dns", canary, map[string]any{"ok": true}, now.Add(-time.Hour)),                                                        // no rcode
		point.New("dns", canary, map[string]any{"ok": true, "rcode": int64(3)}, now.Add(-time.Hour)),                                     // mistyped
		point.New("dns", map[string]string{"qname": "example.org"}, map[string]any{"ok": true, "rcode": "NOERROR"}, now.Add(-time.Hour)), // other tag
		point.New("http", canary, map[string]any{"ok": true, "rcode": "NOERROR"}, now.Add(-time.Hour)),                                   // other measurement
	}
	v := Evaluate(req, Input{Phase: "primary", Now: now, Samples: map[int][]point.Point{0: pts}})
	if v.State != Met || v.Evidence.Samples != 2 || v.Evidence.Conditions[0].Value != 100 {
		t.Errorf("got %s with %d samples: %s", v.State, v.Evidence.Samples, v.Summary)
	}
	if !v.Evidence.From.Equal(now.Add(-24*time.Hour)) || !v.Evidence.To.Equal(now) {
		t.Errorf("window %v..%v", v.Evidence.From, v.Evidence.To)
	}

	// Without OnlyOK the not-ok NOERROR counts, and fails the share.
	req.Rule.Conditions[0].OnlyOK = false
	v = Evaluate(req, Input{Phase: "primary", Now: now, Samples: map[int][]point.Point{0: pts}})
	if v.State != NotMet || v.Evidence.Samples != 3 {
		t.Errorf("without only_ok: %s with %d samples: %s", v.State, v.Evidence.Samples, v.Summary)
	}
}

func TestMatches(t *testing.T) {
	anyOf := func(vs ...string) *standards.Match { return &standards.Match{Op: standards.OpContainsAny, Values: vs} }
	for _, c := range []struct {
		m         *standards.Match
		v         any
		hit, comp bool
	}{
		{anyOf("forcesafesearch.google.com", "216.239.38.120"), "forcesafesearch.google.com,216.239.38.120", true, true},
		{anyOf("forcesafesearch.google.com"), "ForceSafeSearch.Google.com.", true, true},
		{anyOf("216.239.38.120"), "216.239.38.1200", false, true},                    // elements, not substrings
		{anyOf("restrict.youtube.com"), "restrictmoderate.youtube.com", false, true}, // another name
		{anyOf("forcesafesearch.google.com"), "forcesafesearch.google.com.evil.example", false, true},
		{anyOf("strict.bing.com"), "", false, true},
		{anyOf("strict.bing.com"), int64(1), false, false},
		{&standards.Match{Op: standards.OpIn, Values: []string{"NXDOMAIN", "REFUSED"}}, "REFUSED", true, true},
		{&standards.Match{Op: standards.OpIn, Values: []string{"NXDOMAIN"}}, "nxdomain", false, true},
		{&standards.Match{Op: standards.OpEq, Value: "NXDOMAIN"}, "NXDOMAIN", true, true},
		{&standards.Match{Op: standards.OpNe, Value: "NXDOMAIN"}, "NXDOMAIN", false, true},
		{&standards.Match{Op: standards.OpEq, Value: true}, true, true, true},
		{&standards.Match{Op: standards.OpEq, Value: true}, "true", false, false},
		{&standards.Match{Op: standards.OpLt, Value: 50.0}, 49.9, true, true},
		{&standards.Match{Op: standards.OpLt, Value: 50.0}, int64(50), false, true},
		{&standards.Match{Op: standards.OpGe, Value: 200.0}, uint64(200), true, true},
		{&standards.Match{Op: standards.OpGe, Value: 1.0}, true, false, false}, // a bool is not a number
		{nil, "x", false, false},
	} {
		hit, comp := matches(c.m, c.v)
		if hit != c.hit || comp != c.comp {
			t.Errorf("matches(%+v, %v) = %v, %v; want %v, %v", c.m, c.v, hit, comp, c.hit, c.comp)
		}
	}
}

func TestGroupsMustAllPass(t *testing.T) {
	cond := standards.Condition{Name: "up", Measurement: "http", Field: "ok", Window: time.Hour, Stat: standards.StatShare,
		Match: &standards.Match{Op: standards.OpEq, Value: true}, Compare: standards.Compare{Op: standards.OpGe, Value: 50},
		MinSamples: 2, GroupBy: "target"}
	p := func(target string, ok bool) point.Point {
		return point.New("http", map[string]string{"target": target}, map[string]any{"ok": ok}, now.Add(-time.Minute))
	}
	for _, c := range []struct {
		pts  []point.Point
		want *bool
	}{
		{[]point.Point{p("a", true), p("a", true), p("b", true), p("b", false)}, ptr(true)},
		{[]point.Point{p("a", true), p("a", true), p("b", false), p("b", false)}, ptr(false)},
		{[]point.Point{p("a", true), p("a", true), p("b", true)}, nil},          // b too short
		{[]point.Point{p("a", false), p("a", false), p("b", true)}, ptr(false)}, // a fails, b short: fail wins
		{nil, nil},
	} {
		r := evalCondition(cond, rollup.FromPoints("", c.pts), "", now)
		if (r.met == nil) != (c.want == nil) || r.met != nil && *r.met != *c.want {
			t.Errorf("%d points: met %v, want %v", len(c.pts), deref(r.met), deref(c.want))
		}
	}
}

func deref(b *bool) any {
	if b == nil {
		return nil
	}
	return *b
}

// A hand-built rule the loader would reject gives no figure, not NaN.
func TestUnknownStatIsNoData(t *testing.T) {
	rule := shareRule()
	rule.Conditions[0].Stat = "mode"
	req := standards.Requirement{ID: "X-1", Evidence: standards.EvidenceMeasured, Rule: rule}
	v := Evaluate(req, Input{Now: now, Samples: map[int][]point.Point{0: {enforced(true, time.Hour)}}})
	if v.State != NotEnoughData {
		t.Errorf("state %s", v.State)
	}
}

func TestLabels(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range States {
		l := s.Label()
		if l == string(s) || l == "" || seen[l] {
			t.Errorf("%s has label %q", s, l)
		}
		seen[l] = true
	}
	if len(States) != 8 {
		t.Errorf("%d states", len(States))
	}
}

func TestFormatting(t *testing.T) {
	for _, c := range []struct {
		v, thr float64
		want   string
	}{
		{100, 100, "100"}, {99, 99, "99"}, {98.958333, 100, "98.96"}, {99.72222, 99, "99.7"},
		{99.996, 100, "99.996"}, {95.8333, 100, "95.8"}, {0.5, 1, "0.5"}, {101.5, 100, "101.5"},
	} {
		if got := num(c.v, c.thr); got != c.want {
			t.Errorf("num(%v, %v) = %q, want %q", c.v, c.thr, got, c.want)
		}
	}
	for d, want := range map[time.Duration]string{
		24 * time.Hour: "24 h", 720 * time.Hour: "30 days", 168 * time.Hour: "7 days", time.Hour: "1 h",
		90 * time.Minute: "90 min", 36 * time.Hour: "36 h", 90 * time.Second: "1m30s",
	} {
		if got := window(d); got != want {
			t.Errorf("window(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestAwaitingProbeSummary(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	measured := standards.Requirement{ID: "SW-1", Evidence: standards.EvidenceMeasured, AwaitingProbe: "snmp"}
	v := Evaluate(measured, Input{Phase: "primary", Now: now})
	if v.State != NotEnoughData || !strings.Contains(v.Summary, "snmp probe") || strings.Contains(v.Summary, "attest") {
		t.Errorf("measured row awaiting a probe: %s %q", v.State, v.Summary)
	}
	partly := standards.Requirement{ID: "WL-2", Evidence: standards.EvidencePartly, AwaitingProbe: "wifi"}
	v = Evaluate(partly, Input{Phase: "primary", Now: now})
	if v.State != NotEnoughData || !strings.Contains(v.Summary, "wifi probe") || !strings.Contains(v.Summary, "attest") {
		t.Errorf("partly row awaiting a probe: %s %q", v.State, v.Summary)
	}
	v = Evaluate(partly, Input{Phase: "primary", Now: now, Attestations: []Attestation{{ReqID: "WL-2", By: "IT lead", At: now.Add(-time.Hour)}}})
	if v.State != Attested {
		t.Errorf("attested row awaiting a probe: %s %q", v.State, v.Summary)
	}
}

// An attestation counts up to, not including, its expiry instant: a yearly
// one made at At is valid until At plus 12 months, a termly one 4 months.
func TestAttestationExpiryBoundaries(t *testing.T) {
	at := time.Date(2025, 12, 4, 9, 0, 0, 0, time.UTC)
	f := func(life string, now time.Time, want State) {
		t.Helper()
		req := standards.Requirement{ID: "DL-1", Evidence: standards.EvidenceAttested, AttestationLife: life}
		v := Evaluate(req, Input{Phase: "primary", Now: now, Attestations: []Attestation{{ReqID: "DL-1", By: "Head", At: at}}})
		if v.State != want {
			t.Errorf("%s at %s: %s, want %s (%s)", life, now, v.State, want, v.Summary)
		}
	}
	yearEnd := at.AddDate(1, 0, 0)
	f(standards.LifeYearly, yearEnd.Add(-time.Second), Attested)
	f(standards.LifeYearly, yearEnd, AttestationExpired)
	f(standards.LifeYearly, yearEnd.Add(time.Second), AttestationExpired)
	termEnd := at.AddDate(0, 4, 0)
	f(standards.LifeTermly, termEnd.Add(-time.Second), Attested)
	f(standards.LifeTermly, termEnd, AttestationExpired)
	f(standards.LifeYearly, at, Attested)                        // made this instant
	f(standards.LifeYearly, at.Add(-time.Second), NotEnoughData) // not made yet
}
