package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/probity-edu/probity/collector/store"
)

// CreateAdminToken stores an admin token's hash under a unique name.
func (s *Store) CreateAdminToken(ctx context.Context, t store.AdminToken) error {
	t.Name = strings.TrimSpace(t.Name)
	if t.Name == "" || t.Hash == "" {
		return errors.New("postgres: create admin token: name and hash are required")
	}
	if t.Created.IsZero() {
		t.Created = time.Now()
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO admin_tokens(hash, name, created) VALUES ($1, $2, $3)`,
		t.Hash, t.Name, toNS(t.Created))
	if isUnique(err) {
		return fmt.Errorf("postgres: create admin token %q: %w", t.Name, store.ErrExists)
	}
	if err != nil {
		return fmt.Errorf("postgres: create admin token %q: %w", t.Name, err)
	}
	return nil
}

// AdminByToken finds an unrevoked admin token by its hash.
func (s *Store) AdminByToken(ctx context.Context, hash string) (store.AdminToken, error) {
	t := store.AdminToken{Hash: hash}
	var created int64
	err := s.pool.QueryRow(ctx, `SELECT name, created FROM admin_tokens WHERE hash = $1 AND revoked = 0`, hash).
		Scan(&t.Name, &created)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.AdminToken{}, fmt.Errorf("postgres: admin token: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.AdminToken{}, fmt.Errorf("postgres: admin token: %w", err)
	}
	t.Created = fromNS(created)
	return t, nil
}

// AdminTokens lists every admin token, revoked ones too, oldest first.
func (s *Store) AdminTokens(ctx context.Context) ([]store.AdminToken, error) {
	rows, err := s.pool.Query(ctx, `SELECT hash, name, created, revoked FROM admin_tokens ORDER BY created, name`)
	if err != nil {
		return nil, fmt.Errorf("postgres: admin tokens: %w", err)
	}
	defer rows.Close()
	var out []store.AdminToken
	for rows.Next() {
		var t store.AdminToken
		var created, revoked int64
		if err := rows.Scan(&t.Hash, &t.Name, &created, &revoked); err != nil {
			return nil, fmt.Errorf("postgres: admin tokens: %w", err)
		}
		t.Created, t.Revoked = fromNS(created), fromNS(revoked)
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: admin tokens: %w", err)
	}
	return out, nil
}

// RevokeAdminToken revokes the unrevoked token called name.
func (s *Store) RevokeAdminToken(ctx context.Context, name string, at time.Time) error {
	if at.IsZero() {
		at = time.Now()
	}
	res, err := s.pool.Exec(ctx, `UPDATE admin_tokens SET revoked = $1 WHERE name = $2 AND revoked = 0`, toNS(at), name)
	if err != nil {
		return fmt.Errorf("postgres: revoke admin token %q: %w", name, err)
	}
	if res.RowsAffected() == 0 {
		return fmt.Errorf("postgres: revoke admin token %q: %w", name, store.ErrNotFound)
	}
	return nil
}
