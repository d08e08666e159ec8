package standards

import (
	"slices"
	"strings"
	"time"

	"github.com/probity-edu/probity/collector/store"
)

// Catalogue is one version of the requirement catalogue. Reports name the
// version they were scored with.
type Catalogue struct {
	// Version names the catalogue; with a trust policy applied it reads
	// 2026.12.1+policy:<name> (see WithOverlay).
	Version      string        `json:"version"`
	Checked      string        `json:"checked"`          // YYYY-MM-DD the rows were last checked against the DfE pages
	Policy       string        `json:"policy,omitempty"` // the trust policy applied, if any
	Requirements []Requirement `json:"requirements"`
}

// Requirement returns the requirement with id, or false.
func (c *Catalogue) Requirement(id string) (Requirement, bool) {
	for _, r := range c.Requirements {
		if r.ID == id {
			return r, true
		}
	}
	return Requirement{}, false
}

// Requirement is one row of the DfE standards, as in shared/standards.
type Requirement struct {
	ID              string   `json:"id"`       // BB-2, FM-15...: prefix names the standard
	Standard        string   `json:"standard"` // one of Standards
	Title           string   `json:"title"`    // short plain English
	Text            string   `json:"text"`     // the requirement, paraphrased
	Core            bool     `json:"core"`     // one of the six core standards due by 2030
	Phases          []string `json:"phases,omitempty"`
	Evidence        string   `json:"evidence"` // EvidenceMeasured, EvidencePartly or EvidenceAttested
	Due             string   `json:"due"`      // DueAlready, DueAtReplacement or DueBy2030
	AttestationLife string   `json:"attestation_life,omitempty"`
	Source          string   `json:"source"`  // the DfE page
	Checked         string   `json:"checked"` // YYYY-MM-DD the row was last checked against the DfE page; the catalogue's by default
	// Note says what is unconfirmed or a judgement, for readers of the
	// report: a figure only secondary sources give, a mapping of "When".
	Note string `json:"note,omitempty"`
	// AwaitingProbe names the planned probe (one of PlannedProbes) that will
	// feed this row, or its measured part, once it exists. A measured row
	// without a rule must name one: it scores as awaiting that probe.
	AwaitingProbe string `json:"awaiting_probe,omitempty"`
	Rule          *Rule  `json:"rule,omitempty"`
}

// AppliesTo reports whether the requirement applies to a site of phase.
// Empty Phases means every phase.
func (r Requirement) AppliesTo(phase string) bool {
	return len(r.Phases) == 0 || slices.Contains(r.Phases, phase)
}

// AttestationExpiry is when an attestation made at at stops counting: a
// term and its holiday (4 months) for termly rows, else 12 months.
func (r Requirement) AttestationExpiry(at time.Time) time.Time {
	if r.AttestationLife == LifeTermly {
		return at.AddDate(0, 4, 0)
	}
	return at.AddDate(1, 0, 0)
}

// Rule says how a requirement is judged from measurements.
type Rule struct {
	Combine string `json:"combine"` // CombineAll (default) or CombineAny
	// Partial: the rule measures only part of the requirement, so meeting
	// it gives partly_met; Note says what is not yet measured.
	Partial    bool        `json:"partial,omitempty"`
	Note       string      `json:"note,omitempty"`
	Conditions []Condition `json:"conditions"`
}

// Window is the longest window of the rule's conditions.
func (r *Rule) Window() time.Duration {
	var w time.Duration
	for _, c := range r.Conditions {
		w = max(w, c.Window)
	}
	return w
}

// Condition is one check: a statistic over the samples of one measurement
// field in a window, compared with a threshold.
type Condition struct {
	Name        string            `json:"name"` // plain English, reads in a sentence: "Google SafeSearch enforced"
	Measurement string            `json:"measurement"`
	Where       map[string]string `json:"where,omitempty"` // tag equality
	// Exclude leaves out series whose tags equal all of these, and the
	// evidence counts what it left out (probe-limited speed tests).
	Exclude map[string]string `json:"exclude,omitempty"`
	// Also lists further statistics shown beside Stat, not judged (a p10
	// beside a median).
	Also  []string `json:"also,omitempty"`
	Field string   `json:"field"`
	// OnlyOK counts only samples whose ok field is true. It defaults to
	// true when the measurement has an ok field and Field is not ok.
	OnlyOK     bool               `json:"only_ok"`
	Window     time.Duration      `json:"window"`
	Stat       string             `json:"stat"`            // one of Stats
	Match      *Match             `json:"match,omitempty"` // per-sample test, for StatShare only
	Compare    Compare            `json:"compare"`         // threshold on the statistic; for share, a percentage
	Thresholds map[string]float64 `json:"thresholds,omitempty"`
	MinSamples int                `json:"min_samples"`        // at least 1
	GroupBy    string             `json:"group_by,omitempty"` // tags, comma separated: every group must pass
	Unit       string             `json:"unit,omitempty"`     // of the statistic; filled from the field ("%" for share)
	// Policy is set when a trust policy changed this condition (see
	// WithOverlay); it keeps the DfE's own limits so both can be shown.
	Policy *Policy `json:"policy,omitempty"`
}

// Threshold is the value the statistic is compared with for a site of phase.
func (c Condition) Threshold(phase string) float64 {
	if v, ok := c.Thresholds[phase]; ok {
		return v
	}
	return c.Compare.Value
}

// Match is a per-sample test. Value is a float64, bool or string matching
// the field's type; Values serve contains_any and in.
type Match struct {
	Op     string   `json:"op"`
	Value  any      `json:"value,omitempty"`
	Values []string `json:"values,omitempty"`
}

// Compare is an operator and a threshold.
type Compare struct {
	Op    string  `json:"op"`
	Value float64 `json:"value"`
}

// The standards, in the DfE's order, with their id prefixes.
var (
	Standards = []string{"broadband", "wireless", "switching", "cabling", "cyber", "filtering",
		"cloud", "servers", "leadership", "devices", "accessibility", "it-support"}
	// CoreStandards are the six the DfE expects every school and college to meet by 2030.
	CoreStandards = []string{"broadband", "wireless", "switching", "cyber", "filtering", "leadership"}
	// Prefixes maps a standard to the prefix of its requirement ids.
	Prefixes = map[string]string{
		"broadband": "BB", "wireless": "WL", "switching": "SW", "cabling": "CB", "cyber": "CY",
		"filtering": "FM", "cloud": "CL", "servers": "SV", "leadership": "DL", "devices": "DV",
		"accessibility": "AC", "it-support": "IT",
	}
)

// Phases a requirement may be limited to: the store's site phases.
var Phases = store.Phases

// Evidence kinds.
const (
	EvidenceMeasured = "measured" // an agent can measure it with no human input
	EvidencePartly   = "partly"   // measured in part; a person attests the rest
	EvidenceAttested = "attested" // only a named person's evidence will do
)

// Due dates, from each row's "When".
const (
	DueAlready       = "already"        // expected now
	DueAtReplacement = "at_replacement" // when kit or a contract is replaced or upgraded
	DueBy2030        = "by_2030"        // the core-standards target date
)

// Attestation lifetimes.
const (
	LifeYearly = "yearly"
	LifeTermly = "termly"
)

// Rule combinations.
const (
	CombineAll = "all"
	CombineAny = "any"
)

// Statistics over a window's samples.
const (
	StatLast   = "last"
	StatMin    = "min"
	StatMax    = "max"
	StatMean   = "mean"
	StatMedian = "median"
	StatP10    = "p10"
	StatP90    = "p90"
	StatShare  = "share" // percentage of samples for which Match holds
)

// Stats lists every statistic.
var Stats = []string{StatLast, StatMin, StatMax, StatMean, StatMedian, StatP10, StatP90, StatShare}

// Operators. Compare uses the first six; Match uses all.
const (
	OpEq          = "eq"
	OpNe          = "ne"
	OpLt          = "lt"
	OpLe          = "le"
	OpGt          = "gt"
	OpGe          = "ge"
	OpContainsAny = "contains_any" // the field is a comma-separated list with an element equal to one of Values
	OpIn          = "in"           // the field equals one of Values
)

// CompareOps are the operators a threshold can use.
var CompareOps = []string{OpEq, OpNe, OpLt, OpLe, OpGt, OpGe}

// MatchOps are the operators a per-sample match can use.
var MatchOps = []string{OpEq, OpNe, OpLt, OpLe, OpGt, OpGe, OpContainsAny, OpIn}

// GroupTags returns the tags of GroupBy in order; nil without one.
func (c Condition) GroupTags() []string {
	if c.GroupBy == "" {
		return nil
	}
	return strings.Split(c.GroupBy, ",")
}

// GroupWords names GroupBy in words: "target", "profile and target".
func (c Condition) GroupWords() string {
	tags := c.GroupTags()
	if len(tags) <= 1 {
		return c.GroupBy
	}
	return strings.Join(tags[:len(tags)-1], ", ") + " and " + tags[len(tags)-1]
}
