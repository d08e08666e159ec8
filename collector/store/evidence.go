package store

import (
	"context"
	"time"
)

// Verdict is the stored result of evaluating one requirement for one site.
type Verdict struct {
	Site        string
	ReqID       string
	State       string // met, partly_met, not_met, not_enough_data, attested, attestation_expired, not_applicable, plan_needed
	Summary     string // one plain-English sentence
	Evidence    []byte // JSON, shaped by the scoring engine
	Catalogue   string // catalogue version used
	EvaluatedAt time.Time
}

// Attestation is a named person's evidence for a requirement no probe can
// measure (or for the part of it no probe measures yet). It is never
// changed: a later attestation of the same site and requirement supersedes
// it, and both stay in the history.
type Attestation struct {
	ID      int64
	Site    string
	ReqID   string
	By      string // the person vouching for the evidence
	Role    string // their role, e.g. "headteacher"; optional
	Note    string // the statement: what the evidence is
	Link    string // where the evidence is kept; optional
	At      time.Time
	Expires time.Time

	// Provenance, set by the store's caller: who typed it in, and when.
	// RecordedAt zero means "now" to AddAttestation.
	RecordedBy string
	RecordedAt time.Time

	// Set by the store when a later attestation replaces this one; zero
	// while it is current.
	SupersededBy int64
	SupersededAt time.Time
}

// Current reports whether no later attestation has superseded a.
func (a Attestation) Current() bool { return a.SupersededBy == 0 }

// EvidenceStore keeps verdicts and attestations.
type EvidenceStore interface {
	// SaveVerdicts replaces the site's current verdicts; Verdicts returns
	// the current ones ordered by requirement id.
	//
	// SaveVerdicts also keeps history: a requirement's verdict is appended
	// to it when it is new, its state or catalogue version changed, or its
	// last history entry is HistoryInterval old or more. So every change
	// of state is kept with its time, while a site scored every few
	// minutes adds about one row a day per requirement.
	SaveVerdicts(ctx context.Context, site string, vs []Verdict) error
	Verdicts(ctx context.Context, site string) ([]Verdict, error)
	// VerdictHistory returns the site's history entries evaluated at or
	// after since, for one requirement or, with reqID "", all of them;
	// ordered by requirement id, then time.
	VerdictHistory(ctx context.Context, site, reqID string, since time.Time) ([]Verdict, error)
	// VerdictsAt returns each requirement's verdict as it stood at at: its
	// latest history entry evaluated at or before at, ordered by
	// requirement id. Requirements first scored after at are absent.
	VerdictsAt(ctx context.Context, site string, at time.Time) ([]Verdict, error)

	// AddAttestation records a and, in the same transaction, supersedes
	// the site's current attestation of the same requirement, if any.
	// Superseding goes by recording order, so a correction (a new
	// attestation with an earlier date) replaces the mistaken one.
	AddAttestation(ctx context.Context, a Attestation) (Attestation, error)
	// Attestations returns the site's current attestations, newest first.
	Attestations(ctx context.Context, site string) ([]Attestation, error)
	// AttestationHistory returns every attestation of the site, current
	// and superseded, for one requirement or, with reqID "", all; the
	// most recently recorded first.
	AttestationHistory(ctx context.Context, site, reqID string) ([]Attestation, error)

	// AddFinding records a reviewer's finding for an annual review period
	// (text and author required, From before To); findings are never
	// changed. Findings returns those whose period overlaps [from, to),
	// oldest first.
	AddFinding(ctx context.Context, f Finding) (Finding, error)
	Findings(ctx context.Context, site string, from, to time.Time) ([]Finding, error)

	AdminStore
}

// Finding is a reviewer's own finding in the annual IT support review
// (IT-7), kept with the period it is about.
type Finding struct {
	ID       int64
	Site     string
	From, To time.Time // the review's period
	Text     string
	By       string // the person, as signed in
	At       time.Time
}

// HistoryInterval is how often an unchanged verdict is written to the
// history again, so the history also shows when a state was last confirmed.
const HistoryInterval = 24 * time.Hour

// AdminToken authorises writes people make through the API, such as
// attestations. Like agent credentials it is stored as a hash only.
type AdminToken struct {
	Name    string // unique among unrevoked tokens; names the holder in provenance
	Hash    string // store.HashSecret of the token
	Created time.Time
	Revoked time.Time // zero while valid
}

// AdminStore keeps admin tokens. Evidence writes are their only use so far,
// which is why it belongs to EvidenceStore.
type AdminStore interface {
	// CreateAdminToken stores t; an unrevoked token with the same name is
	// ErrExists.
	CreateAdminToken(ctx context.Context, t AdminToken) error
	// AdminByToken finds an unrevoked token by hash, else ErrNotFound.
	AdminByToken(ctx context.Context, hash string) (AdminToken, error)
	AdminTokens(ctx context.Context) ([]AdminToken, error) // every token, revoked too, by creation
	// RevokeAdminToken revokes the unrevoked token called name, else ErrNotFound.
	RevokeAdminToken(ctx context.Context, name string, at time.Time) error
}
