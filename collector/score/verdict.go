package score

import (
	"github.com/probity-edu/probity/collector/standards"

	"time"

	"github.com/probity-edu/probity/collector/rollup"
	"github.com/probity-edu/probity/internal/point"
)

// Attestation is a named person's evidence for a requirement.
type Attestation struct {
	ReqID   string    `json:"req_id"`
	By      string    `json:"by"`
	Note    string    `json:"note,omitempty"`
	Link    string    `json:"link,omitempty"`
	At      time.Time `json:"at"`
	Expires time.Time `json:"expires,omitzero"` // zero: At plus the requirement's attestation life
}

// Input is everything Evaluate needs about one site.
type Input struct {
	Phase string
	Now   time.Time
	// Buckets holds, per condition index, the rollup buckets fetched for
	// that condition. Evaluate selects them again (measurement, field,
	// window, Where, OnlyOK, kind), so any superset is fine.
	Buckets map[int][]rollup.Bucket
	// Samples, for a condition without Buckets, are raw points that
	// Evaluate rolls up first with the store's own code
	// (rollup.FromPoints): for tests and tools with points at hand.
	Samples      map[int][]point.Point
	Attestations []Attestation // of any requirement; Evaluate picks its own
}

// Verdict is the judgement of one requirement for one site.
type Verdict struct {
	ReqID     string   `json:"req_id"`
	State     State    `json:"state"`
	Summary   string   `json:"summary"` // one plain-English sentence
	Evidence  Evidence `json:"evidence"`
	Catalogue string   `json:"catalogue,omitempty"` // catalogue version; set by Engine
}

// Evidence is what the verdict rests on.
type Evidence struct {
	From        time.Time           `json:"from,omitzero"`
	To          time.Time           `json:"to,omitzero"`
	Samples     int                 `json:"samples"`
	Conditions  []ConditionEvidence `json:"conditions,omitempty"`
	Attestation *Attestation        `json:"attestation,omitempty"`
	Note        string              `json:"note,omitempty"`
}

// ConditionEvidence is one condition's figure; with GroupBy, one per group.
type ConditionEvidence struct {
	Name      string  `json:"name"`
	Group     string  `json:"group,omitempty"` // value of the GroupBy tag
	Stat      string  `json:"stat"`
	Value     float64 `json:"value"` // meaningful when Samples > 0
	Unit      string  `json:"unit,omitempty"`
	Threshold float64 `json:"threshold"`
	Op        string  `json:"op"`
	Samples   int     `json:"samples"`
	Met       *bool   `json:"met"` // nil: not enough data
	// Policy is set when a trust's policy overlay changed this condition's
	// DfE limits; Loosens says the policy relaxed one.
	Policy *standards.Policy `json:"policy,omitempty"`
	// Series the samples came from: point series keys without the site
	// and agent tags.
	Series []string `json:"series,omitempty"`
	// Approximate: the figure was read from histogram bins, or a share
	// counted values beyond a bucket's MaxValues (see collector/rollup).
	Approximate bool `json:"approximate,omitempty"`
	// Also holds further statistics shown, not judged (Condition.Also).
	Also map[string]float64 `json:"also,omitempty"`
	// Excluded counts samples the condition left out, and Exclude says
	// which (probe-limited speed tests).
	Excluded int               `json:"excluded,omitempty"`
	Exclude  map[string]string `json:"exclude,omitempty"`
}
