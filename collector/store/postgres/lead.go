package postgres

import (
	"context"
	"fmt"
	"time"
)

// TryLead takes a background job's turn across every collector on this
// database, so rollups, scoring and pruning run once per round however
// many collectors there are: a session advisory lock held on one pooled
// connection until release. ok is false when another collector holds it.
func (s *Store) TryLead(ctx context.Context, job string) (release func(), ok bool, err error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("postgres: lead %s: %w", job, err)
	}
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1, hashtext($2))`, int32(lockJob), job).Scan(&ok); err != nil {
		conn.Release()
		return nil, false, fmt.Errorf("postgres: lead %s: %w", job, err)
	}
	if !ok {
		conn.Release()
		return nil, false, nil
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := conn.Exec(ctx, `SELECT pg_advisory_unlock($1, hashtext($2))`, int32(lockJob), job); err != nil {
			// A session lock outlives its job only on this connection:
			// close it rather than hand the lock back to the pool.
			_ = conn.Conn().Close(ctx)
		}
		conn.Release()
	}, true, nil
}
