// Package postgres implements store.Store on PostgreSQL through pgx, for
// collectors that outgrow one SQLite file or run as several processes on
// one database. It mirrors collector/store/sqlite table for table (times
// are unix nanoseconds), adds what a server gives: raw points partitioned
// by day so retention drops whole partitions, COPY for ingest, and
// transaction-scoped advisory locks where SQLite relied on its single
// writer. See README.md.
package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/probity-edu/probity/collector/rollup"
	"github.com/probity-edu/probity/collector/store"
	"github.com/probity-edu/probity/collector/store/rowcodec"
)

// Options tune Open.
type Options struct {
	Log *slog.Logger // nil: discard
	// MaxConns bounds the connections the store opens; 0 means the larger
	// of 8 and twice the number of CPUs.
	MaxConns int
}

// Store is a store.Store on one PostgreSQL database.
type Store struct {
	pool *pgxpool.Pool
	log  *slog.Logger

	// Rollup series ids by site, measurement and series; ids are
	// never deleted, so a cached one stays right.
	sidMu    sync.Mutex
	sidCache map[sidKey]int64

	// Days whose points partition is known to exist, by day start (ns).
	partMu sync.Mutex
	parts  map[int64]bool

	open rollup.OpenHours // RollupPending's throttle on open hours

	// testHookAggregated, when set by a test, runs after rebuildHour has
	// read a chunk of sites and before it writes their buckets.
	testHookAggregated func(h time.Time, sites []string)
}

var _ store.Store = (*Store)(nil)

// Open connects to the database dsn names (a postgres:// URL or key=value
// string, see pgx) and applies pending migrations. A database written by a
// newer build is refused.
func Open(ctx context.Context, dsn string, o Options) (*Store, error) {
	if strings.TrimSpace(dsn) == "" {
		return nil, errors.New("postgres: open: empty DSN")
	}
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	pcfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's message may quote the DSN, password included: keep ours.
		return nil, fmt.Errorf("postgres: open: DSN is not a postgres:// URL or key=value string: %w", redact(err, dsn))
	}
	cfg := pcfg.ConnConfig
	// Points are partitioned by day: a custom plan prunes to the days a
	// query asks for, while a generic plan of a prepared statement (pgx
	// prepares every statement) would lock every partition on each run.
	if _, set := cfg.RuntimeParams["plan_cache_mode"]; !set {
		cfg.RuntimeParams["plan_cache_mode"] = "force_custom_plan"
	}
	n := o.MaxConns
	if n <= 0 {
		n = max(8, 2*runtime.GOMAXPROCS(0))
	}
	pcfg.MaxConns = int32(n)
	where := fmt.Sprintf("database %q on %s:%d as %q", cfg.Database, cfg.Host, cfg.Port, cfg.User)
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open %s: %w", where, redact(err, dsn))
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: open %s: %w", where, err)
	}
	s := &Store{pool: pool, log: log, parts: map[int64]bool{}}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: open %s: %w", where, err)
	}
	return s, nil
}

// redact keeps a password in the DSN out of an error message.
func redact(err error, dsn string) error {
	msg := err.Error()
	if cfg, perr := pgconn.ParseConfig(dsn); perr == nil && cfg.Password != "" {
		msg = strings.ReplaceAll(msg, cfg.Password, "xxxxx")
	}
	return errors.New(msg)
}

// Close closes the pool.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// inTx runs fn in a transaction and commits when fn returns nil.
func (s *Store) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, s.pool, fn)
}

// Advisory lock classes (the first key of pg_advisory_xact_lock(int, int)),
// so our locks never collide with another application's on the server.
const (
	lockMigrate   = 0x50524230 // "PRB0": migrations, key 0
	lockHour      = 0x50524231 // "PRB1": one hour of raw points, key hour number
	lockRollup    = 0x50524232 // "PRB2": rollup bookkeeping, key 0
	lockPartition = 0x50524233 // "PRB3": creating partitions, key 0
	lockJob       = 0x50524234 // "PRB4": a background job's turn (TryLead), key hashtext(job)
)

// hourKey is the second advisory lock key of the hour holding ns: hours
// since 1970, which fit an int32 for every time a nanosecond int64 holds.
func hourKey(ns int64) int32 {
	return int32((ns - mod(ns, int64(time.Hour))) / int64(time.Hour))
}

// lockRollups serialises rollup bookkeeping (pending days, horizons) among
// every process on the database, for the rest of tx.
func lockRollups(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, 0)`, int32(lockRollup))
	return err
}

// isUnique reports a UNIQUE or PRIMARY KEY constraint violation.
func isUnique(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// noPartition reports an insert whose row has no partition: another
// process dropped one this process thought was there.
func noPartition(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23514" && strings.Contains(pe.Message, "no partition")
}

// toNS stores a time as unix nanoseconds; the zero time is 0, so an unset
// time (LastSeen, Expires) reads back as zero.
func toNS(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return clampNS(t)
}

func fromNS(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}

// clampNS is UnixNano without overflow, for query bounds such as a zero From.
func clampNS(t time.Time) int64 { return rowcodec.NS(t) }

// randomID is 16 hex digits from crypto/rand: unguessable and short enough
// for a tag value.
func randomID() string {
	var b [8]byte
	rand.Read(b[:]) // never fails: crypto/rand crashes the program instead
	return hex.EncodeToString(b[:])
}

// pgText makes s storable in a text column: PostgreSQL refuses NUL bytes
// and invalid UTF-8, which tag values may carry (the tags JSON keeps them
// escaped and exact; only the series key and names are made safe).
func pgText(s string) string {
	if !strings.ContainsRune(s, 0) && utf8.ValidString(s) {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}
