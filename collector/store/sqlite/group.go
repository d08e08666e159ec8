package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/probity-edu/probity/collector/store"
)

// The group writer. Every agent batch used to be its own transaction, and
// at a few thousand schools (a thousand small batches a second) the
// commits, each writing the same hot pages to the WAL again, were most of
// the writer's time. One goroutine now takes every batch waiting and
// commits them together; a bad batch is answered alone while the others in
// its group are kept (see commitGroup). Under light load a group is one
// batch and nothing waits; under heavy load groups grow by themselves,
// since batches queue while the previous commit runs.

// Caps on a group, so that one commit stays short and a reader's snapshot
// and the WAL do not grow without bound.
const (
	maxGroupBatches = 512
	maxGroupPoints  = 50_000
)

// groupEvery is how often a busy writer commits at most: the most a batch
// waits for others to share its commit, a small part of a write's latency.
const groupEvery = 8 * time.Millisecond

var errClosed = errors.New("store closed")

// writeReq is one encoded batch waiting for the group writer.
type writeReq struct {
	ctx   context.Context
	b     store.Batch
	now   time.Time
	rows  *store.Rows
	hours []int64             // each row's hour (ns)
	marks map[hourStream]bool // hours and streams written, to mark pending for rollup (writeOne)
	done  chan writeRes       // buffered: the writer never waits on a caller
}

// hourStream is an hour (ns) of a stream (streams.id): a rollup_pending_streams row.
type hourStream struct{ hour, gid int64 }

// groupStmts are the writer's prepared statements bound to a group's
// transaction.
type groupStmts struct {
	chunk        *sql.Stmt // a chunk of points
	pending      *sql.Stmt // marks an hour of a stream pending
	known, batch *sql.Stmt // is the agent known; the batch id, unless seen
	touch        *sql.Stmt // the agent's last contact
	ids          idStmts
}

type writeRes struct {
	dup bool
	err error
}

// submit hands r to the group writer and waits for its answer. Once taken,
// a batch is answered even if ctx ends meanwhile: the caller must learn
// whether it was stored.
func (s *Store) submit(r *writeReq) (writeRes, error) {
	s.waiting.Add(1)
	defer s.waiting.Add(-1)
	select {
	case s.queue <- r:
	case <-s.stop:
		return writeRes{}, errClosed
	case <-r.ctx.Done():
		return writeRes{}, r.ctx.Err()
	}
	return <-r.done, nil
}

// groupWriter runs until Close, committing a group at a time. The queue is
// unbuffered, so no batch is ever accepted and then left unanswered.
func (s *Store) groupWriter() {
	defer close(s.writerDone)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var last time.Time // when the last commit began
	for {
		var first *writeReq
		select {
		case <-s.stop:
			return
		case first = <-s.queue:
		}
		group, points := []*writeReq{first}, len(first.rows.Rows)
		// A writer that committed a moment ago is busy: the batches
		// arriving now wait for more, up to groupEvery after that commit
		// began, and share a commit, which costs as much as writing a few
		// batches (PostgreSQL's commit_delay, in effect). After a quiet
		// spell a batch is committed at once.
		var linger <-chan time.Time
		if wait := groupEvery - time.Since(last); wait > 0 {
			timer.Reset(wait)
			linger = timer.C
		}
	more:
		for len(group) < maxGroupBatches && points < maxGroupPoints {
			select {
			case r := <-s.queue:
				group = append(group, r)
				points += len(r.rows.Rows)
				continue
			default:
			}
			if linger == nil {
				break
			}
			select {
			case r := <-s.queue:
				group = append(group, r)
				points += len(r.rows.Rows)
			case <-linger:
				break more
			}
		}
		timer.Stop() // no stale tick can follow (Go 1.23 timers)
		last = time.Now()
		s.commitGroup(group)
	}
}

// commitGroup writes a group in one transaction and answers every batch.
// A batch refused before it wrote anything (a repeat, an unknown agent)
// is answered and the group goes on. A batch that fails while writing
// (the database refused a row) is answered with its error and the
// transaction is begun again without it, so the rest of the group is kept:
// cheaper than a savepoint around every batch, which made SQLite copy each
// page it touched to a sub-journal first.
func (s *Store) commitGroup(group []*writeReq) {
	res := make([]writeRes, len(group))
	var live []int
	for i, r := range group {
		if err := r.ctx.Err(); err != nil {
			res[i].err = err // the caller has gone: not written
			continue
		}
		live = append(live, i)
	}
	for len(live) > 0 {
		failed := -1
		err := s.inTx(context.Background(), func(tx *sql.Tx) error {
			st := groupStmts{chunk: tx.Stmt(s.insertChunk), pending: tx.Stmt(s.markPending),
				known: tx.Stmt(s.agentKnown), batch: tx.Stmt(s.insertBatch), touch: tx.Stmt(s.touchAgent), ids: s.idStmts.inTx(tx)}
			points, batches := 0, 0
			marks := map[hourStream]bool{}
			for _, i := range live {
				r := group[i]
				err := s.writeOne(st, r)
				switch {
				case errors.Is(err, errDup):
					res[i] = writeRes{dup: true}
				case errors.Is(err, store.ErrNotFound):
					res[i] = writeRes{err: err}
				case err != nil:
					failed, res[i] = i, writeRes{err: err}
					return err
				default:
					res[i] = writeRes{}
					points += len(r.rows.Rows)
					batches++
					maps.Copy(marks, r.marks)
				}
			}
			if batches == 0 {
				return nil
			}
			for m := range marks {
				if _, err := st.pending.Exec(m.hour, m.gid); err != nil {
					return fmt.Errorf("pending hours: %w", err)
				}
			}
			_, err := tx.Exec(`UPDATE counters SET n = n + CASE name WHEN 'points' THEN ?1 ELSE ?2 END
				WHERE name IN ('points', 'batches')`, points, batches)
			return err
		})
		s.ids.txDone(err == nil)
		if err == nil {
			break
		}
		if failed < 0 {
			// The group's own statements or the commit failed: nothing
			// of it was kept. A repeat or an unknown agent stays so.
			for _, i := range live {
				if !res[i].dup && res[i].err == nil {
					res[i].err = err
				}
			}
			break
		}
		live = slices.DeleteFunc(live, func(i int) bool { return i == failed })
	}
	for i, r := range group {
		r.done <- res[i]
	}
}
