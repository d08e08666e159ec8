package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/probity-edu/probity/collector/store"
)

// siteExists turns a missing site into ErrNotFound before a foreign key
// would fail with a generic constraint error.
func siteExists(ctx context.Context, tx pgx.Tx, site string) error {
	err := tx.QueryRow(ctx, `SELECT 1 FROM sites WHERE id = $1`, site).Scan(new(int))
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("site %q: %w", site, store.ErrNotFound)
	}
	return err
}

// SaveVerdicts replaces the site's current verdicts and appends the ones
// worth keeping to the history (see store.EvidenceStore), in one
// transaction.
func (s *Store) SaveVerdicts(ctx context.Context, site string, vs []store.Verdict) error {
	for _, v := range vs {
		if v.Site != "" && v.Site != site {
			return fmt.Errorf("postgres: save verdicts of %q: verdict %s belongs to site %q", site, v.ReqID, v.Site)
		}
	}
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := siteExists(ctx, tx, site); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM verdicts WHERE site = $1`, site); err != nil {
			return err
		}
		const cols = `(site, req_id, state, summary, evidence, catalogue, evaluated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`
		// pgx prepares and caches each statement on the connection. The
		// last-entry query is one index seek per requirement: the history
		// of a site grows for years, so it is never scanned here.
		const last = `SELECT state, catalogue, evaluated_at FROM verdict_history
			WHERE site = $1 AND req_id = $2 ORDER BY evaluated_at DESC, id DESC LIMIT 1`
		for _, v := range vs {
			args := []any{site, v.ReqID, v.State, v.Summary, v.Evidence, v.Catalogue, toNS(v.EvaluatedAt)}
			_, err := tx.Exec(ctx, `INSERT INTO verdicts `+cols, args...)
			if isUnique(err) {
				return fmt.Errorf("requirement %s appears twice: %w", v.ReqID, store.ErrExists)
			}
			if err != nil {
				return fmt.Errorf("requirement %s: %w", v.ReqID, err)
			}
			var state, cat string
			var at int64
			err = tx.QueryRow(ctx, last, site, v.ReqID).Scan(&state, &cat, &at)
			if err != nil && !errors.Is(err, pgx.ErrNoRows) {
				return fmt.Errorf("requirement %s: last history entry: %w", v.ReqID, err)
			}
			keep := errors.Is(err, pgx.ErrNoRows) || state != v.State || cat != v.Catalogue ||
				v.EvaluatedAt.Sub(fromNS(at)) >= store.HistoryInterval
			if !keep {
				continue
			}
			if _, err := tx.Exec(ctx, `INSERT INTO verdict_history `+cols, args...); err != nil {
				return fmt.Errorf("requirement %s: history: %w", v.ReqID, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgres: save verdicts of %q: %w", site, err)
	}
	return nil
}

const verdictCols = `req_id, state, summary, evidence, catalogue, evaluated_at`

// Verdicts returns the site's current verdicts ordered by requirement id.
func (s *Store) Verdicts(ctx context.Context, site string) ([]store.Verdict, error) {
	vs, err := scanVerdicts(s.pool.Query(ctx, `SELECT `+verdictCols+`
		FROM verdicts WHERE site = $1 ORDER BY req_id`, site))
	if err != nil {
		return nil, fmt.Errorf("postgres: verdicts of %q: %w", site, err)
	}
	return withSite(vs, site), nil
}

// VerdictHistory returns history entries from since on, by requirement
// then time.
func (s *Store) VerdictHistory(ctx context.Context, site, reqID string, since time.Time) ([]store.Verdict, error) {
	q := `SELECT ` + verdictCols + ` FROM verdict_history WHERE site = $1 AND evaluated_at >= $2`
	args := []any{site, clampNS(since)}
	if reqID != "" {
		q += ` AND req_id = $3`
		args = append(args, reqID)
	}
	vs, err := scanVerdicts(s.pool.Query(ctx, q+` ORDER BY req_id, evaluated_at, id`, args...))
	if err != nil {
		return nil, fmt.Errorf("postgres: verdict history of %q: %w", site, err)
	}
	return withSite(vs, site), nil
}

// VerdictsAt returns each requirement's latest history entry at or before
// at. The requirement ids come from a loose index scan (one seek each) and
// each entry from one more seek, so the cost does not grow with history.
func (s *Store) VerdictsAt(ctx context.Context, site string, at time.Time) ([]store.Verdict, error) {
	vs, err := scanVerdicts(s.pool.Query(ctx, `WITH RECURSIVE reqs(req) AS (
			SELECT MIN(req_id) FROM verdict_history WHERE site = $1
			UNION ALL
			SELECT (SELECT MIN(req_id) FROM verdict_history WHERE site = $1 AND req_id > reqs.req)
			FROM reqs WHERE reqs.req IS NOT NULL
		)
		SELECT `+verdictCols+` FROM reqs JOIN verdict_history h ON h.id = (
			SELECT id FROM verdict_history WHERE site = $1 AND req_id = reqs.req AND evaluated_at <= $2
			ORDER BY evaluated_at DESC, id DESC LIMIT 1)
		ORDER BY h.req_id`, site, clampNS(at)))
	if err != nil {
		return nil, fmt.Errorf("postgres: verdicts of %q at %s: %w", site, at.Format(time.RFC3339), err)
	}
	return withSite(vs, site), nil
}

func scanVerdicts(rows pgx.Rows, err error) ([]store.Verdict, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Verdict
	for rows.Next() {
		var v store.Verdict
		var at int64
		if err := rows.Scan(&v.ReqID, &v.State, &v.Summary, &v.Evidence, &v.Catalogue, &at); err != nil {
			return nil, err
		}
		v.EvaluatedAt = fromNS(at)
		out = append(out, v)
	}
	return out, rows.Err()
}

func withSite(vs []store.Verdict, site string) []store.Verdict {
	for i := range vs {
		vs[i].Site = site
	}
	return vs
}

// Stats reads the running point and batch totals and counts sites and agents.
func (s *Store) Stats(ctx context.Context) (store.Stats, error) {
	var st store.Stats
	err := s.pool.QueryRow(ctx, `SELECT
		(SELECT SUM(n)::int8 FROM counters WHERE name = 'points'),
		(SELECT SUM(n)::int8 FROM counters WHERE name = 'batches'),
		(SELECT COUNT(*) FROM sites),
		(SELECT COUNT(*) FROM agents)`).Scan(&st.Points, &st.Batches, &st.Sites, &st.Agents)
	if err != nil {
		return store.Stats{}, fmt.Errorf("postgres: stats: %w", err)
	}
	return st, nil
}
