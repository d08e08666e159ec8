package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/probity-edu/probity/collector/store"
)

// AddAttestation records a, superseding the current attestation of the
// same site and requirement in the same transaction, and returns a with its
// id and recording time.
func (s *Store) AddAttestation(ctx context.Context, a store.Attestation) (store.Attestation, error) {
	if a.ReqID == "" || a.By == "" {
		return store.Attestation{}, fmt.Errorf("postgres: add attestation for %q: requirement and attester are required", a.Site)
	}
	if a.RecordedAt.IsZero() {
		a.RecordedAt = time.Now()
	}
	a.SupersededBy, a.SupersededAt = 0, time.Time{}
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := siteExists(ctx, tx, a.Site); err != nil {
			return err
		}
		var prev int64
		err := tx.QueryRow(ctx, `SELECT id FROM attestations WHERE site = $1 AND req_id = $2 AND superseded_by IS NULL`,
			a.Site, a.ReqID).Scan(&prev)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("current attestation: %w", err)
		}
		// Mark the old one first: the unique index allows one current row.
		// Its own id is a placeholder that satisfies the foreign key; the
		// new id replaces it below, in this transaction, so no reader sees it.
		if prev != 0 {
			if _, err := tx.Exec(ctx, `UPDATE attestations SET superseded_by = id, superseded_at = $1 WHERE id = $2`,
				toNS(a.RecordedAt), prev); err != nil {
				return fmt.Errorf("supersede %d: %w", prev, err)
			}
		}
		err = tx.QueryRow(ctx, `INSERT INTO attestations(site, req_id, by_name, role, note, link, at, expires, recorded_by, recorded_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
			a.Site, a.ReqID, a.By, a.Role, a.Note, a.Link, toNS(a.At), toNS(a.Expires), a.RecordedBy, toNS(a.RecordedAt)).Scan(&a.ID)
		if err != nil {
			return err
		}
		if prev != 0 {
			if _, err := tx.Exec(ctx, `UPDATE attestations SET superseded_by = $1 WHERE id = $2`, a.ID, prev); err != nil {
				return fmt.Errorf("supersede %d: %w", prev, err)
			}
		}
		return nil
	})
	if err != nil {
		return store.Attestation{}, fmt.Errorf("postgres: add attestation %s for %q: %w", a.ReqID, a.Site, err)
	}
	a.At, a.Expires, a.RecordedAt = fromNS(toNS(a.At)), fromNS(toNS(a.Expires)), fromNS(toNS(a.RecordedAt))
	return a, nil
}

const attestationCols = `id, site, req_id, by_name, role, note, link, at, expires, recorded_by, recorded_at,
	COALESCE(superseded_by, 0), superseded_at`

// Attestations returns the site's current attestations, newest first.
func (s *Store) Attestations(ctx context.Context, site string) ([]store.Attestation, error) {
	as, err := scanAttestations(s.pool.Query(ctx, `SELECT `+attestationCols+`
		FROM attestations WHERE site = $1 AND superseded_by IS NULL ORDER BY at DESC, id DESC`, site))
	if err != nil {
		return nil, fmt.Errorf("postgres: attestations of %q: %w", site, err)
	}
	return as, nil
}

// AttestationHistory returns every attestation of the site (of one
// requirement unless reqID is empty), the latest recorded first.
func (s *Store) AttestationHistory(ctx context.Context, site, reqID string) ([]store.Attestation, error) {
	q := `SELECT ` + attestationCols + ` FROM attestations WHERE site = $1`
	args := []any{site}
	if reqID != "" {
		q += ` AND req_id = $2`
		args = append(args, reqID)
	}
	as, err := scanAttestations(s.pool.Query(ctx, q+` ORDER BY id DESC`, args...))
	if err != nil {
		return nil, fmt.Errorf("postgres: attestation history of %q: %w", site, err)
	}
	return as, nil
}

func scanAttestations(rows pgx.Rows, err error) ([]store.Attestation, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Attestation
	for rows.Next() {
		var a store.Attestation
		var at, expires, recorded, superseded int64
		if err := rows.Scan(&a.ID, &a.Site, &a.ReqID, &a.By, &a.Role, &a.Note, &a.Link, &at, &expires,
			&a.RecordedBy, &recorded, &a.SupersededBy, &superseded); err != nil {
			return nil, err
		}
		a.At, a.Expires, a.RecordedAt, a.SupersededAt = fromNS(at), fromNS(expires), fromNS(recorded), fromNS(superseded)
		out = append(out, a)
	}
	return out, rows.Err()
}
