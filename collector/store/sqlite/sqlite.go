// Package sqlite implements store.Store on one SQLite file through the pure-Go
// driver modernc.org/sqlite, so the collector needs no cgo and no database
// server. The file runs in WAL mode: one writer connection serialises every
// write in Go (no SQLITE_BUSY between our own writers) while a pool of
// read-only connections reads concurrently from snapshots.
package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/probity-edu/probity/collector/rollup"
	"github.com/probity-edu/probity/collector/store"
	"github.com/probity-edu/probity/collector/store/rowcodec"
)

// Options tune Open.
type Options struct {
	Log *slog.Logger // nil: discard
}

// Store is a store.Store on one SQLite database file.
type Store struct {
	w   *sql.DB // exactly one connection: every write goes through it
	r   *sql.DB // read-only pool
	log *slog.Logger

	// Prepared once on the writer and reused by every batch.
	insertChunk             *sql.Stmt // a chunk of points (chunks.go)
	markPending             *sql.Stmt // an hour of a stream written to
	agentKnown, insertBatch *sql.Stmt // writeOne's, for each batch
	touchAgent              *sql.Stmt
	chunkBuf, chunkPacked   []byte // the group writer's, for a chunk's lines and its data
	// Prepared on the read pool: every write request looks its agent up.
	agentByCred *sql.Stmt
	idStmts     idStmts
	ids         *idCache // the group writer's only

	// Rollup series ids by site, measurement, field and series; ids are
	// never deleted, so a cached one stays right.
	sidMu    sync.Mutex
	sidCache map[sidKey]int64

	// One hour is rolled up or sealed at a time: a rebuild reads from
	// snapshots outside the writer, and must not interleave with another.
	rollupMu sync.Mutex
	open     rollup.OpenHours // RollupPending's throttle on open hours
	marked   markedDays       // the rows of rollup_pending_days (marked.go)
	// testHookAggregated, when set by a test, runs after rebuildHour has
	// read a chunk and before it writes the chunk's buckets.
	testHookAggregated func(h time.Time)

	// The group writer (group.go): WriteBatch hands batches to it on queue;
	// stop ends it and writerDone says it has.
	queue      chan *writeReq
	waiting    atomic.Int64 // batches handed to the writer and not yet answered
	stop       chan struct{}
	writerDone chan struct{}
	closeOnce  sync.Once

	// ckpt is the checkpointer's connection (checkpoint.go); ckptDone
	// says the checkpointer has stopped.
	ckpt     *sql.DB
	ckptDone chan struct{}
}

var _ store.Store = (*Store)(nil)

// busyTimeout covers other processes on the same file (the collector CLI
// creating a token while the server runs); our own writers never contend.
const busyTimeout = 10 * time.Second

// Open opens (creating if needed) the database at path and applies pending
// migrations. A database written by a newer build is refused.
func Open(ctx context.Context, path string, o Options) (*Store, error) {
	if path == "" {
		return nil, errors.New("sqlite: open: empty path")
	}
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	pragmas := []string{
		fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()),
		"foreign_keys(1)",
		// In WAL mode NORMAL loses no committed data on a process crash,
		// only possibly the last transactions on power loss, and saves an
		// fsync per commit.
		"synchronous(NORMAL)",
	}
	w, err := sql.Open("sqlite", dsn(path, append(pragmas, "journal_mode(WAL)", "cache_size(-32768)",
		fmt.Sprintf("wal_autocheckpoint(%d)", walBackstopPages)), "immediate"))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	s := &Store{w: w, log: log}
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if err := s.migrate(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	// Readers are opened after migrating so they never see a half-made schema.
	r, err := sql.Open("sqlite", dsn(path, append(pragmas, "query_only(1)"), ""))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s readers: %w", path, err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	s.r = r
	for _, p := range []struct {
		st  **sql.Stmt
		sql string
	}{
		{&s.insertChunk, insertChunkSQL},
		{&s.idStmts.selectStream, selectStreamSQL}, {&s.idStmts.insertStream, insertStreamSQL},
		{&s.idStmts.selectSeries, selectSeriesSQL}, {&s.idStmts.insertSeries, insertSeriesSQL},
		{&s.markPending, `INSERT INTO rollup_pending_streams(hour, gid) VALUES (?, ?) ON CONFLICT DO UPDATE SET seq = seq + 1`},
		{&s.agentKnown, agentKnownSQL}, {&s.insertBatch, insertBatchSQL}, {&s.touchAgent, touchAgentSQL},
	} {
		if err == nil {
			*p.st, err = w.PrepareContext(ctx, p.sql)
		}
	}
	if err == nil {
		s.agentByCred, err = r.PrepareContext(ctx, `SELECT `+agentCols+` FROM agents WHERE cred_hash = ?`)
	}
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("sqlite: open %s: prepare: %w", path, err)
	}
	s.ids = newIDCache()
	began := time.Now()
	if err := s.ids.load(ctx, s.r); err != nil {
		s.Close()
		return nil, fmt.Errorf("sqlite: open %s: loading series ids: %w", path, err)
	}
	// A store of millions of series takes seconds here: say so then.
	if took := time.Since(began); took > time.Second {
		s.log.Info("series ids loaded", "ids", len(s.ids.committed), "all", s.ids.complete, "took", took.Round(time.Millisecond))
	}
	// The checkpointer's connection (checkpoint.go): not a reader, which
	// is query_only, and not the writer, whose path it keeps clear.
	s.ckpt, err = sql.Open("sqlite", dsn(path, pragmas, ""))
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("sqlite: open %s checkpointer: %w", path, err)
	}
	s.ckpt.SetMaxOpenConns(1)
	s.queue, s.stop, s.writerDone, s.ckptDone = make(chan *writeReq), make(chan struct{}), make(chan struct{}), make(chan struct{})
	go s.groupWriter()
	go s.checkpointer()
	return s, nil
}

func dsn(path string, pragmas []string, txlock string) string {
	q := url.Values{}
	for _, p := range pragmas {
		q.Add("_pragma", p)
	}
	if txlock != "" {
		// BEGIN IMMEDIATE takes the write lock up front, so a transaction
		// that reads first never fails to upgrade against another process.
		q.Set("_txlock", txlock)
	}
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

// Close closes both pools.
func (s *Store) Close() error {
	if s.stop != nil {
		s.closeOnce.Do(func() { close(s.stop) })
		<-s.writerDone // the group in hand is committed first
		<-s.ckptDone
	}
	var errs []error
	// Refreshes planner statistics where they are stale, as SQLite
	// recommends doing before closing a long-lived connection.
	if _, err := s.w.Exec(`PRAGMA optimize`); err != nil {
		errs = append(errs, err)
	}
	for _, st := range []*sql.Stmt{s.insertChunk, s.markPending, s.agentKnown, s.insertBatch, s.touchAgent, s.agentByCred} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	errs = append(errs, s.idStmts.close())
	if s.r != nil {
		errs = append(errs, s.r.Close())
	}
	if s.ckpt != nil {
		errs = append(errs, s.ckpt.Close())
	}
	errs = append(errs, s.w.Close())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sqlite: close: %w", err)
	}
	return nil
}

// inTx runs fn in a write transaction and commits when fn returns nil.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// isUnique reports a UNIQUE or PRIMARY KEY constraint violation.
func isUnique(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
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
