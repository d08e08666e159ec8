package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/probity-edu/probity/collector/store"
)

const userCols = `id, name, role, trust_id, site_id, password_hash, created, disabled`

func scanUser(sc interface{ Scan(...any) error }) (store.User, error) {
	var u store.User
	var created, disabled int64
	if err := sc.Scan(&u.ID, &u.Name, &u.Role, &u.TrustID, &u.SiteID, &u.PasswordHash, &created, &disabled); err != nil {
		return store.User{}, err
	}
	u.CreatedAt, u.Disabled = fromNS(created), disabled != 0
	return u, nil
}

// CreateUser adds a user; names are unique.
func (s *Store) CreateUser(ctx context.Context, u store.User) (store.User, error) {
	u.Name = strings.TrimSpace(u.Name)
	switch {
	case u.Name == "" || u.PasswordHash == "":
		return store.User{}, errors.New("postgres: create user: name and password hash are required")
	case !slices.Contains(store.Roles, u.Role):
		return store.User{}, fmt.Errorf("postgres: create user %q: role %q is not one of %s", u.Name, u.Role, strings.Join(store.Roles, ", "))
	}
	if u.CreatedAt.IsZero() {
		u.CreatedAt = time.Now()
	}
	u.CreatedAt = u.CreatedAt.UTC()
	var disabled int64
	if u.Disabled {
		disabled = toNS(u.CreatedAt)
	}
	err := s.pool.QueryRow(ctx, `INSERT INTO users(name, role, trust_id, site_id, password_hash, created, disabled)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
		u.Name, u.Role, u.TrustID, u.SiteID, u.PasswordHash, toNS(u.CreatedAt), disabled).Scan(&u.ID)
	if isUnique(err) {
		return store.User{}, fmt.Errorf("postgres: create user %q: %w", u.Name, store.ErrExists)
	}
	if err != nil {
		return store.User{}, fmt.Errorf("postgres: create user %q: %w", u.Name, err)
	}
	return u, nil
}

// UserByName finds a user by exact name.
func (s *Store) UserByName(ctx context.Context, name string) (store.User, error) {
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userCols+` FROM users WHERE name = $1`, name))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.User{}, fmt.Errorf("postgres: user %q: %w", name, store.ErrNotFound)
	}
	if err != nil {
		return store.User{}, fmt.Errorf("postgres: user %q: %w", name, err)
	}
	return u, nil
}

// UserByID finds a user by id.
func (s *Store) UserByID(ctx context.Context, id int64) (store.User, error) {
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userCols+` FROM users WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.User{}, fmt.Errorf("postgres: user %d: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.User{}, fmt.Errorf("postgres: user %d: %w", id, err)
	}
	return u, nil
}

// Users lists every user by name.
func (s *Store) Users(ctx context.Context) ([]store.User, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+userCols+` FROM users ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("postgres: users: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.User, error) { return scanUser(r) })
	if err != nil {
		return nil, fmt.Errorf("postgres: users: %w", err)
	}
	return out, nil
}

// updateUser runs set on the user called name and ends their sessions, in
// one transaction: a changed password or a disabled account must not
// leave a signed-in browser behind.
func (s *Store) updateUser(ctx context.Context, what, name, set string, args ...any) error {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var id int64
		err := tx.QueryRow(ctx, `SELECT id FROM users WHERE name = $1`, name).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE users SET `+set+` WHERE id = $`+strconv.Itoa(len(args)+1), append(args, id)...); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1`, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: %s %q: %w", what, name, err)
	}
	return nil
}

// SetUserPassword replaces the user's password hash and ends their sessions.
func (s *Store) SetUserPassword(ctx context.Context, name, hash string) error {
	if hash == "" {
		return fmt.Errorf("postgres: set password of %q: empty hash", name)
	}
	return s.updateUser(ctx, "set password of", name, `password_hash = $1`, hash)
}

// DisableUser disables the user and ends their sessions.
func (s *Store) DisableUser(ctx context.Context, name string) error {
	return s.updateUser(ctx, "disable user", name, `disabled = CASE disabled WHEN 0 THEN $1 ELSE disabled END`, toNS(time.Now()))
}

// CreateSession stores a session.
func (s *Store) CreateSession(ctx context.Context, se store.Session) error {
	if se.TokenHash == "" || se.CSRF == "" || se.UserID == 0 {
		return errors.New("postgres: create session: token hash, csrf and user are required")
	}
	if se.LastSeen.IsZero() {
		se.LastSeen = se.Created
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO sessions(token_hash, user_id, csrf, created, expires, last_seen) VALUES ($1, $2, $3, $4, $5, $6)`,
		se.TokenHash, se.UserID, se.CSRF, toNS(se.Created), toNS(se.Expires), toNS(se.LastSeen))
	if isUnique(err) {
		return fmt.Errorf("postgres: create session: %w", store.ErrExists)
	}
	if err != nil {
		return fmt.Errorf("postgres: create session: %w", err)
	}
	return nil
}

// Session finds a session by its token hash.
func (s *Store) Session(ctx context.Context, tokenHash string) (store.Session, error) {
	se := store.Session{TokenHash: tokenHash}
	var created, expires, seen int64
	err := s.pool.QueryRow(ctx, `SELECT user_id, csrf, created, expires, last_seen FROM sessions WHERE token_hash = $1`, tokenHash).
		Scan(&se.UserID, &se.CSRF, &created, &expires, &seen)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Session{}, fmt.Errorf("postgres: session: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.Session{}, fmt.Errorf("postgres: session: %w", err)
	}
	se.Created, se.Expires, se.LastSeen = fromNS(created), fromNS(expires), fromNS(seen)
	return se, nil
}

// TouchSession records activity on a session.
func (s *Store) TouchSession(ctx context.Context, tokenHash string, at time.Time) error {
	res, err := s.pool.Exec(ctx, `UPDATE sessions SET last_seen = $1 WHERE token_hash = $2`, toNS(at), tokenHash)
	if err != nil {
		return fmt.Errorf("postgres: touch session: %w", err)
	}
	if res.RowsAffected() == 0 {
		return fmt.Errorf("postgres: touch session: %w", store.ErrNotFound)
	}
	return nil
}

// DeleteSession ends a session.
func (s *Store) DeleteSession(ctx context.Context, tokenHash string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM sessions WHERE token_hash = $1`, tokenHash); err != nil {
		return fmt.Errorf("postgres: delete session: %w", err)
	}
	return nil
}

// PruneSessions deletes expired sessions.
func (s *Store) PruneSessions(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.pool.Exec(ctx, `DELETE FROM sessions WHERE expires <= $1`, toNS(now))
	if err != nil {
		return 0, fmt.Errorf("postgres: prune sessions: %w", err)
	}
	return res.RowsAffected(), nil
}
