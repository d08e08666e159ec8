package score

import (
	"time"

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
	// Samples holds, per condition index, the points fetched for that
	// condition. Evaluate filters them again (measurement, window, Where,
	// OnlyOK), so any superset is fine.
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
}
