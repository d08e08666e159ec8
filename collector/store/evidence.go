package store

import (
	"context"
	"time"
)

// Verdict is the stored result of evaluating one requirement for one site.
type Verdict struct {
	Site        string
	ReqID       string
	State       string // met, partly_met, not_met, not_enough_data, attested, attestation_expired, not_applicable
	Summary     string // one plain-English sentence
	Evidence    []byte // JSON, shaped by the scoring engine
	Catalogue   string // catalogue version used
	EvaluatedAt time.Time
}

// Attestation is a named person's evidence for a requirement no probe can measure.
type Attestation struct {
	ID      int64
	Site    string
	ReqID   string
	By      string
	Note    string
	Link    string
	At      time.Time
	Expires time.Time
}

// EvidenceStore keeps verdicts and attestations.
type EvidenceStore interface {
	// SaveVerdicts replaces the site's current verdicts and keeps history;
	// Verdicts returns the current ones ordered by requirement id.
	SaveVerdicts(ctx context.Context, site string, vs []Verdict) error
	Verdicts(ctx context.Context, site string) ([]Verdict, error)

	AddAttestation(ctx context.Context, a Attestation) (Attestation, error)
	Attestations(ctx context.Context, site string) ([]Attestation, error)
}
