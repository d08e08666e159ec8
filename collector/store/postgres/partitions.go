package postgres

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Raw points live in one partition per UTC day, points_pYYYYMMDD, holding
// [day start, next day start) in unix nanoseconds. WriteBatch creates the
// partitions its points need before its transaction (see ensureParts) and
// Prune drops the days that lie wholly before its cut. There is no default
// partition: with one, creating a day's partition would have to scan it,
// and rows there could never be dropped by the day.

const partPrefix = "points_p"

const day = 24 * time.Hour

// dayOf is the start of the UTC day holding ns, in ns.
func dayOf(ns int64) int64 {
	return ns - mod(ns, int64(day))
}

func partName(dayNS int64) string {
	return partPrefix + time.Unix(0, dayNS).UTC().Format("20060102")
}

// ensureParts creates the partitions of the given days that this process
// has not seen yet. Each is created in its own short transaction under an
// advisory lock, so two collectors creating the same day do not race on
// the catalogue; CREATE TABLE ... PARTITION OF briefly locks the parent
// table, which is why it is never done inside a batch's transaction.
func (s *Store) ensureParts(ctx context.Context, days []int64) error {
	var todo []int64
	s.partMu.Lock()
	for _, d := range days {
		if !s.parts[d] {
			todo = append(todo, d)
		}
	}
	s.partMu.Unlock()
	for _, d := range todo {
		err := s.inTx(ctx, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, 0)`, int32(lockPartition)); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s PARTITION OF points FOR VALUES FROM (%d) TO (%d)`,
				partName(d), d, d+int64(day)))
			return err
		})
		if err != nil {
			return fmt.Errorf("create partition %s: %w", partName(d), err)
		}
		s.partMu.Lock()
		s.parts[d] = true
		s.partMu.Unlock()
	}
	return nil
}

// forgetParts empties the cache of known partitions, after a write found
// one missing (another process pruned it).
func (s *Store) forgetParts() {
	s.partMu.Lock()
	clear(s.parts)
	s.partMu.Unlock()
}

func (s *Store) forgetPart(d int64) {
	s.partMu.Lock()
	delete(s.parts, d)
	s.partMu.Unlock()
}

// partitions lists the days that have a points partition, oldest first.
func (s *Store) partitions(ctx context.Context) ([]int64, error) {
	rows, err := s.pool.Query(ctx, `SELECT c.relname FROM pg_inherits i
		JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = 'points'::regclass`)
	if err != nil {
		return nil, err
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	var days []int64
	for _, n := range names {
		ymd, ok := strings.CutPrefix(n, partPrefix)
		if !ok || len(ymd) != 8 {
			continue // not ours: leave it alone
		}
		if _, err := strconv.Atoi(ymd); err != nil {
			continue
		}
		t, err := time.Parse("20060102", ymd)
		if err != nil {
			continue
		}
		days = append(days, t.UnixNano())
	}
	slices.Sort(days)
	return days, nil
}
