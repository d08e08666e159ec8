package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/probity-edu/probity/collector/store"
)

// siteExists turns a missing site into ErrNotFound before a foreign key
// would fail with a generic constraint error.
func siteExists(ctx context.Context, tx *sql.Tx, site string) error {
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM sites WHERE id = ?`, site).Scan(new(int))
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("site %q: %w", site, store.ErrNotFound)
	}
	return err
}

// SaveVerdicts replaces the site's current verdicts and appends them to the
// history, in one transaction.
func (s *Store) SaveVerdicts(ctx context.Context, site string, vs []store.Verdict) error {
	for _, v := range vs {
		if v.Site != "" && v.Site != site {
			return fmt.Errorf("sqlite: save verdicts of %q: verdict %s belongs to site %q", site, v.ReqID, v.Site)
		}
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := siteExists(ctx, tx, site); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM verdicts WHERE site = ?`, site); err != nil {
			return err
		}
		for _, table := range []string{"verdicts", "verdict_history"} {
			ins, err := tx.PrepareContext(ctx, `INSERT INTO `+table+`
				(site, req_id, state, summary, evidence, catalogue, evaluated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`)
			if err != nil {
				return err
			}
			defer ins.Close()
			for _, v := range vs {
				_, err := ins.ExecContext(ctx, site, v.ReqID, v.State, v.Summary, v.Evidence, v.Catalogue, toNS(v.EvaluatedAt))
				if isUnique(err) {
					return fmt.Errorf("requirement %s appears twice: %w", v.ReqID, store.ErrExists)
				}
				if err != nil {
					return fmt.Errorf("requirement %s: %w", v.ReqID, err)
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: save verdicts of %q: %w", site, err)
	}
	return nil
}

// Verdicts returns the site's current verdicts ordered by requirement id.
func (s *Store) Verdicts(ctx context.Context, site string) ([]store.Verdict, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT req_id, state, summary, evidence, catalogue, evaluated_at
		FROM verdicts WHERE site = ? ORDER BY req_id`, site)
	if err != nil {
		return nil, fmt.Errorf("sqlite: verdicts of %q: %w", site, err)
	}
	defer rows.Close()
	var out []store.Verdict
	for rows.Next() {
		v := store.Verdict{Site: site}
		var at int64
		if err := rows.Scan(&v.ReqID, &v.State, &v.Summary, &v.Evidence, &v.Catalogue, &at); err != nil {
			return nil, fmt.Errorf("sqlite: verdicts of %q: %w", site, err)
		}
		v.EvaluatedAt = fromNS(at)
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: verdicts of %q: %w", site, err)
	}
	return out, nil
}

// AddAttestation records an attestation and returns it with its id.
func (s *Store) AddAttestation(ctx context.Context, a store.Attestation) (store.Attestation, error) {
	if a.ReqID == "" || a.By == "" {
		return store.Attestation{}, fmt.Errorf("sqlite: add attestation for %q: requirement and attester are required", a.Site)
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := siteExists(ctx, tx, a.Site); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `INSERT INTO attestations(site, req_id, by_name, note, link, at, expires)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			a.Site, a.ReqID, a.By, a.Note, a.Link, toNS(a.At), toNS(a.Expires)).Scan(&a.ID)
	})
	if err != nil {
		return store.Attestation{}, fmt.Errorf("sqlite: add attestation %s for %q: %w", a.ReqID, a.Site, err)
	}
	a.At, a.Expires = fromNS(toNS(a.At)), fromNS(toNS(a.Expires))
	return a, nil
}

// Attestations returns the site's attestations, newest first.
func (s *Store) Attestations(ctx context.Context, site string) ([]store.Attestation, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, req_id, by_name, note, link, at, expires
		FROM attestations WHERE site = ? ORDER BY at DESC, id DESC`, site)
	if err != nil {
		return nil, fmt.Errorf("sqlite: attestations of %q: %w", site, err)
	}
	defer rows.Close()
	var out []store.Attestation
	for rows.Next() {
		a := store.Attestation{Site: site}
		var at, expires int64
		if err := rows.Scan(&a.ID, &a.ReqID, &a.By, &a.Note, &a.Link, &at, &expires); err != nil {
			return nil, fmt.Errorf("sqlite: attestations of %q: %w", site, err)
		}
		a.At, a.Expires = fromNS(at), fromNS(expires)
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: attestations of %q: %w", site, err)
	}
	return out, nil
}

// Stats reads the running point and batch totals and counts sites and agents.
func (s *Store) Stats(ctx context.Context) (store.Stats, error) {
	var st store.Stats
	err := s.r.QueryRowContext(ctx, `SELECT
		(SELECT n FROM counters WHERE name = 'points'),
		(SELECT n FROM counters WHERE name = 'batches'),
		(SELECT COUNT(*) FROM sites),
		(SELECT COUNT(*) FROM agents)`).Scan(&st.Points, &st.Batches, &st.Sites, &st.Agents)
	if err != nil {
		return store.Stats{}, fmt.Errorf("sqlite: stats: %w", err)
	}
	return st, nil
}
