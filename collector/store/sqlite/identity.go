package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/probity-edu/probity/collector/store"
)

// CreateTrust adds a trust; names are unique.
func (s *Store) CreateTrust(ctx context.Context, name string) (store.Trust, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return store.Trust{}, errors.New("sqlite: create trust: empty name")
	}
	t := store.Trust{Name: name, Created: time.Now().UTC()}
	err := s.w.QueryRowContext(ctx, `INSERT INTO trusts(name, created) VALUES (?, ?) RETURNING id`,
		name, toNS(t.Created)).Scan(&t.ID)
	if isUnique(err) {
		return store.Trust{}, fmt.Errorf("sqlite: create trust %q: %w", name, store.ErrExists)
	}
	if err != nil {
		return store.Trust{}, fmt.Errorf("sqlite: create trust %q: %w", name, err)
	}
	return t, nil
}

// Trusts lists every trust by name.
func (s *Store) Trusts(ctx context.Context) ([]store.Trust, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, name, created FROM trusts ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: trusts: %w", err)
	}
	defer rows.Close()
	var ts []store.Trust
	for rows.Next() {
		var t store.Trust
		var created int64
		if err := rows.Scan(&t.ID, &t.Name, &created); err != nil {
			return nil, fmt.Errorf("sqlite: trusts: %w", err)
		}
		t.Created = fromNS(created)
		ts = append(ts, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: trusts: %w", err)
	}
	return ts, nil
}

// TrustByName finds a trust by its exact name.
func (s *Store) TrustByName(ctx context.Context, name string) (store.Trust, error) {
	t := store.Trust{Name: name}
	var created int64
	err := s.r.QueryRowContext(ctx, `SELECT id, created FROM trusts WHERE name = ?`, name).Scan(&t.ID, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Trust{}, fmt.Errorf("sqlite: trust %q: %w", name, store.ErrNotFound)
	}
	if err != nil {
		return store.Trust{}, fmt.Errorf("sqlite: trust %q: %w", name, err)
	}
	t.Created = fromNS(created)
	return t, nil
}

// CreateSite adds a site to an existing trust. Without an ID the site gets
// a slug of its name, made unique with a numeric suffix.
func (s *Store) CreateSite(ctx context.Context, site store.Site) (store.Site, error) {
	site.Name = strings.TrimSpace(site.Name)
	site.URN = strings.TrimSpace(site.URN)
	if site.Name == "" {
		return store.Site{}, errors.New("sqlite: create site: empty name")
	}
	if !slices.Contains(store.Phases, site.Phase) {
		return store.Site{}, fmt.Errorf("sqlite: create site %q: phase %q is not one of %s",
			site.Name, site.Phase, strings.Join(store.Phases, ", "))
	}
	if site.ID != "" && !store.ValidSlug(site.ID) {
		return store.Site{}, fmt.Errorf("sqlite: create site %q: id %q must be lower-case letters, digits and inner hyphens, at most %d long",
			site.Name, site.ID, store.MaxSlug)
	}
	site.Created = time.Now().UTC()
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM trusts WHERE id = ?`, site.TrustID).Scan(new(int)); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("trust %d: %w", site.TrustID, store.ErrNotFound)
			}
			return err
		}
		if site.ID == "" {
			id, err := uniqueSlug(ctx, tx, store.Slugify(site.Name))
			if err != nil {
				return err
			}
			site.ID = id
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO sites(id, trust_id, name, urn, phase, created) VALUES (?, ?, ?, ?, ?, ?)`,
			site.ID, site.TrustID, site.Name, site.URN, site.Phase, toNS(site.Created))
		if isUnique(err) {
			return fmt.Errorf("id %q or URN %q: %w", site.ID, site.URN, store.ErrExists)
		}
		return err
	})
	if err != nil {
		return store.Site{}, fmt.Errorf("sqlite: create site %q: %w", site.Name, err)
	}
	return site, nil
}

func uniqueSlug(ctx context.Context, tx *sql.Tx, base string) (string, error) {
	for n := 1; ; n++ {
		id := base
		if n > 1 {
			id = base + "-" + strconv.Itoa(n)
		}
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM sites WHERE id = ?`, id).Scan(new(int))
		if errors.Is(err, sql.ErrNoRows) {
			return id, nil
		}
		if err != nil {
			return "", err
		}
	}
}

const siteCols = `id, trust_id, name, urn, phase, created`

func scanSite(row interface{ Scan(...any) error }) (store.Site, error) {
	var st store.Site
	var created int64
	if err := row.Scan(&st.ID, &st.TrustID, &st.Name, &st.URN, &st.Phase, &created); err != nil {
		return store.Site{}, err
	}
	st.Created = fromNS(created)
	return st, nil
}

// Sites lists every site by id.
func (s *Store) Sites(ctx context.Context) ([]store.Site, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+siteCols+` FROM sites ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: sites: %w", err)
	}
	defer rows.Close()
	var out []store.Site
	for rows.Next() {
		st, err := scanSite(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: sites: %w", err)
		}
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: sites: %w", err)
	}
	return out, nil
}

// Site finds a site by id or, failing that, by URN.
func (s *Store) Site(ctx context.Context, id string) (store.Site, error) {
	st, err := scanSite(s.r.QueryRowContext(ctx, `SELECT `+siteCols+` FROM sites
		WHERE id = ?1 OR (urn = ?1 AND urn <> '') ORDER BY id = ?1 DESC LIMIT 1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Site{}, fmt.Errorf("sqlite: site %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.Site{}, fmt.Errorf("sqlite: site %q: %w", id, err)
	}
	return st, nil
}

// CreateEnrolToken stores a token hash for a site.
func (s *Store) CreateEnrolToken(ctx context.Context, siteID, tokenHash string, expires time.Time) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM sites WHERE id = ?`, siteID).Scan(new(int)); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return store.ErrNotFound
			}
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO enrol_tokens(hash, site_id, expires) VALUES (?, ?, ?)`,
			tokenHash, siteID, toNS(expires))
		if isUnique(err) {
			return store.ErrExists
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: create enrolment token for site %q: %w", siteID, err)
	}
	return nil
}

// ConsumeEnrolToken marks the token used and creates the agent in one
// transaction; the single writer connection makes concurrent consumers
// queue, so exactly one of them finds the token unused.
func (s *Store) ConsumeEnrolToken(ctx context.Context, tokenHash string, a store.Agent, credHash string, now time.Time) (store.Agent, error) {
	if credHash == "" {
		return store.Agent{}, errors.New("sqlite: enrol agent: empty credential hash")
	}
	if a.ID == "" {
		a.ID = randomID()
	}
	a.Created = now.UTC()
	a.LastSeen = time.Time{}
	a.LastAddress, a.LastSeenAddressAt = "", time.Time{}
	a.Revoked = false
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `UPDATE enrol_tokens SET used_at = ?1
			WHERE hash = ?2 AND used_at IS NULL AND expires > ?1 RETURNING site_id`,
			toNS(now), tokenHash).Scan(&a.SiteID)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrTokenInvalid
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO agents(id, site_id, hostname, version, cred_hash, created)
			VALUES (?, ?, ?, ?, ?, ?)`, a.ID, a.SiteID, a.Hostname, a.Version, credHash, toNS(a.Created))
		if isUnique(err) {
			return fmt.Errorf("agent id %q or credential: %w", a.ID, store.ErrExists)
		}
		return err
	})
	if err != nil {
		return store.Agent{}, fmt.Errorf("sqlite: enrol agent: %w", err)
	}
	return a, nil
}

const agentCols = `id, site_id, hostname, version, created, last_seen, revoked, last_address, last_address_at`

func scanAgent(row interface{ Scan(...any) error }) (store.Agent, error) {
	var a store.Agent
	var created, lastSeen, addrAt int64
	if err := row.Scan(&a.ID, &a.SiteID, &a.Hostname, &a.Version, &created, &lastSeen, &a.Revoked, &a.LastAddress, &addrAt); err != nil {
		return store.Agent{}, err
	}
	a.Created, a.LastSeen, a.LastSeenAddressAt = fromNS(created), fromNS(lastSeen), fromNS(addrAt)
	return a, nil
}

// AgentByCredential finds the agent holding a credential, revoked or not:
// the caller decides what a revoked agent may do.
func (s *Store) AgentByCredential(ctx context.Context, credHash string) (store.Agent, error) {
	a, err := scanAgent(s.agentByCred.QueryRowContext(ctx, credHash))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Agent{}, fmt.Errorf("sqlite: agent by credential: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.Agent{}, fmt.Errorf("sqlite: agent by credential: %w", err)
	}
	return a, nil
}

// Agents lists a site's agents, oldest first.
func (s *Store) Agents(ctx context.Context, siteID string) ([]store.Agent, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+agentCols+` FROM agents WHERE site_id = ? ORDER BY created, id`, siteID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: agents of %q: %w", siteID, err)
	}
	defer rows.Close()
	var out []store.Agent
	for rows.Next() {
		a, err := scanAgent(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: agents of %q: %w", siteID, err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: agents of %q: %w", siteID, err)
	}
	return out, nil
}

// RevokeAgent marks an agent revoked; its credential stops working.
func (s *Store) RevokeAgent(ctx context.Context, id string) error {
	res, err := s.w.ExecContext(ctx, `UPDATE agents SET revoked = 1 WHERE id = ?`, id)
	if err == nil {
		var n int64
		if n, err = res.RowsAffected(); err == nil && n == 0 {
			err = store.ErrNotFound
		}
	}
	if err != nil {
		return fmt.Errorf("sqlite: revoke agent %q: %w", id, err)
	}
	return nil
}

// SetAgentAddress records the address an agent was last seen from.
func (s *Store) SetAgentAddress(ctx context.Context, agentID, addr string, at time.Time) error {
	if addr == "" {
		return fmt.Errorf("sqlite: set address of agent %q: empty address", agentID)
	}
	res, err := s.w.ExecContext(ctx, `UPDATE agents SET last_address = ?, last_address_at = ? WHERE id = ?`, addr, toNS(at), agentID)
	if err == nil {
		var n int64
		if n, err = res.RowsAffected(); err == nil && n == 0 {
			err = store.ErrNotFound
		}
	}
	if err != nil {
		return fmt.Errorf("sqlite: set address of agent %q: %w", agentID, err)
	}
	return nil
}
