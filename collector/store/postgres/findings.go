package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/probity-edu/probity/collector/store"
)

// AddFinding records a reviewer's finding and returns it with its id.
func (s *Store) AddFinding(ctx context.Context, f store.Finding) (store.Finding, error) {
	f.Text, f.By = strings.TrimSpace(f.Text), strings.TrimSpace(f.By)
	if f.Text == "" || f.By == "" {
		return store.Finding{}, fmt.Errorf("postgres: add finding for %q: text and author are required", f.Site)
	}
	if !f.From.Before(f.To) {
		return store.Finding{}, fmt.Errorf("postgres: add finding for %q: the period must end after it starts", f.Site)
	}
	if f.At.IsZero() {
		f.At = time.Now()
	}
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := siteExists(ctx, tx, f.Site); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `INSERT INTO review_findings(site, period_from, period_to, text, by_name, at)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, f.Site, toNS(f.From), toNS(f.To), f.Text, f.By, toNS(f.At)).Scan(&f.ID)
	})
	if err != nil {
		return store.Finding{}, fmt.Errorf("postgres: add finding for %q: %w", f.Site, err)
	}
	f.From, f.To, f.At = fromNS(toNS(f.From)), fromNS(toNS(f.To)), fromNS(toNS(f.At))
	return f, nil
}

// Findings returns the site's findings whose period overlaps [from, to),
// oldest first.
func (s *Store) Findings(ctx context.Context, site string, from, to time.Time) ([]store.Finding, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, site, period_from, period_to, text, by_name, at FROM review_findings
		WHERE site = $1 AND period_from < $2 AND period_to > $3 ORDER BY at, id`, site, toNS(to), toNS(from))
	if err != nil {
		return nil, fmt.Errorf("postgres: findings of %q: %w", site, err)
	}
	defer rows.Close()
	var out []store.Finding
	for rows.Next() {
		var f store.Finding
		var pf, pt, at int64
		if err := rows.Scan(&f.ID, &f.Site, &pf, &pt, &f.Text, &f.By, &at); err != nil {
			return nil, fmt.Errorf("postgres: findings of %q: %w", site, err)
		}
		f.From, f.To, f.At = fromNS(pf), fromNS(pt), fromNS(at)
		out = append(out, f)
	}
	return out, rows.Err()
}
