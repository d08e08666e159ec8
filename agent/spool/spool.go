// Package spool is the agent's durable on-disk queue of encoded batches.
//
// Every batch is one file in one directory, written to a temporary file,
// fsynced, renamed into place and made durable with an fsync of the
// directory before Put returns: a batch is never offered for shipping before
// it would survive a power cut. A batch is removed only by Ack, after the
// collector acknowledged it.
//
// The queue is bounded in bytes and in age, as VictoriaMetrics'
// lib/persistentqueue is: the oldest batches are dropped first, and every
// dropped point is counted in totals that survive restarts. A corrupt or
// unreadable batch file is moved aside with a .bad suffix and counted as
// dropped; it never blocks the queue.
package spool

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/probity-edu/probity/internal/point"
	"github.com/probity-edu/probity/internal/wire"
)

// Options bound the queue. Zero values take the defaults.
type Options struct {
	// MaxBytes bounds the total size of the batch files on disk. A Put that
	// would exceed it drops the oldest batches first. Default 256 MiB.
	MaxBytes int64
	// MaxAge is how long a batch may wait for the collector; older batches
	// are dropped on Put and on Open. Default 7 days.
	MaxAge time.Duration
	// Now stamps new batches and judges their age. Default time.Now.
	Now func() time.Time
	// Log receives drops and repairs. Default: discard.
	Log *slog.Logger
}

// Defaults for Options.
const (
	DefaultMaxBytes = 256 << 20
	DefaultMaxAge   = 7 * 24 * time.Hour
)

// Batch is one spooled batch: a line protocol body of Points lines.
type Batch struct {
	ID      string
	Body    []byte
	Points  int
	Created time.Time
}

// Stats describe the queue now and the drops since it was first created.
type Stats struct {
	Batches        int
	Bytes          int64
	DroppedPoints  int64
	DroppedBatches int64
}

// Errors returned by the queue.
var (
	ErrClosed   = errors.New("spool: closed")
	ErrLocked   = errors.New("spool: directory in use by another process")
	ErrTooLarge = errors.New("spool: batch larger than the queue's max bytes")
	ErrEmpty    = errors.New("spool: empty batch")
)

// Queue is a durable FIFO of batches. It is safe for concurrent use.
type Queue struct {
	dir  string
	o    Options
	log  *slog.Logger
	lock *os.File

	mu      sync.Mutex
	entries []entry // oldest first
	bytes   int64
	next    uint64
	drops   counters
	closed  bool
}

// Open opens or creates the queue in dir, removes stale temporary files,
// moves aside unparsable batch files and enforces the bounds.
func Open(dir string, o Options) (*Queue, error) {
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.MaxAge <= 0 {
		o.MaxAge = DefaultMaxAge
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("spool %s: create: %w", dir, err)
	}
	lock, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("spool %s: open lock: %w", dir, err)
	}
	if err := lockDir(lock); err != nil {
		lock.Close()
		return nil, fmt.Errorf("spool %s: lock: %w", dir, err)
	}
	q := &Queue{dir: dir, o: o, log: o.Log, lock: lock}
	if err := q.load(); err != nil {
		lock.Close()
		return nil, fmt.Errorf("spool %s: load: %w", dir, err)
	}
	return q, nil
}

func (q *Queue) load() error {
	c, err := loadCounters(q.dir)
	if err != nil {
		// Losing the totals must not stop the agent; start again from zero.
		q.log.Warn("spool counters unreadable, starting from zero", "err", err)
	}
	q.drops = c
	des, err := os.ReadDir(q.dir)
	if err != nil {
		return err
	}
	var bad int
	for _, de := range des {
		name := de.Name()
		switch {
		case de.IsDir():
		case strings.HasSuffix(name, tempExt):
			// A crash between create and rename: the batch was never
			// acknowledged to the caller, so nothing is lost.
			if err := os.Remove(filepath.Join(q.dir, name)); err != nil {
				q.log.Warn("spool: cannot remove stale temp file", "file", name, "err", err)
			}
		case strings.HasSuffix(name, batchExt):
			e, err := parseName(name)
			if err == nil {
				var fi fs.FileInfo
				if fi, err = de.Info(); err == nil {
					e.size = fi.Size()
				}
			}
			if err != nil {
				q.log.Error("spool: unusable batch file moved aside", "file", name, "err", err)
				q.moveAside(name)
				bad++
				continue
			}
			q.entries = append(q.entries, e)
			q.bytes += e.size
		}
	}
	slices.SortFunc(q.entries, func(a, b entry) int {
		switch {
		case a.seq < b.seq:
			return -1
		case a.seq > b.seq:
			return 1
		}
		return 0
	})
	if n := len(q.entries); n > 0 {
		q.next = q.entries[n-1].seq + 1
	}
	if bad > 0 {
		q.drops.DroppedBatches += int64(bad)
		q.saveCounters()
	}
	q.enforce(0)
	return syncDir(q.dir)
}

// Put encodes pts as one batch and makes it durable before returning it.
func (q *Queue) Put(pts []point.Point) (Batch, error) {
	if len(pts) == 0 {
		return Batch{}, ErrEmpty
	}
	buf := make([]byte, hdrLen, hdrLen+len(pts)*96)
	buf, err := point.Encode(buf, pts)
	if err != nil {
		return Batch{}, fmt.Errorf("spool: encode batch: %w", err)
	}
	frame(buf)
	size := int64(len(buf))
	if size > q.o.MaxBytes {
		q.mu.Lock()
		q.countDrop(1, len(pts))
		q.mu.Unlock()
		return Batch{}, fmt.Errorf("%w: %d bytes > %d", ErrTooLarge, size, q.o.MaxBytes)
	}
	// The expensive fsync of the body happens outside the lock, so the
	// shipper is not held up by it.
	tmp, err := writeTemp(q.dir, "put-*"+tempExt, buf)
	if err != nil {
		return Batch{}, fmt.Errorf("spool %s: write batch: %w", q.dir, err)
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		_ = os.Remove(tmp)
		return Batch{}, ErrClosed
	}
	q.enforce(size)
	e := entry{seq: q.next, created: q.o.Now(), points: len(pts), id: wire.NewBatchID(), size: size}
	if err := os.Rename(tmp, filepath.Join(q.dir, e.name())); err != nil {
		_ = os.Remove(tmp)
		return Batch{}, fmt.Errorf("spool %s: publish batch: %w", q.dir, err)
	}
	if err := syncDir(q.dir); err != nil {
		// Not durable, so not offered: withdraw the file.
		_ = os.Remove(filepath.Join(q.dir, e.name()))
		return Batch{}, fmt.Errorf("spool %s: sync directory: %w", q.dir, err)
	}
	q.next++
	q.entries = append(q.entries, e)
	q.bytes += size
	return Batch{ID: e.id, Body: buf[hdrLen:], Points: e.points, Created: e.created}, nil
}

// Oldest returns the oldest batch; ok is false when the queue is empty.
// Unreadable batches met on the way are moved aside and counted as dropped.
func (q *Queue) Oldest() (b Batch, ok bool, err error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return Batch{}, false, ErrClosed
	}
	for len(q.entries) > 0 {
		e := q.entries[0]
		body, err := readBody(filepath.Join(q.dir, e.name()))
		if err == nil {
			return Batch{ID: e.id, Body: body, Points: e.points, Created: e.created}, true, nil
		}
		q.log.Error("spool: unreadable batch dropped", "batch", e.id, "points", e.points, "err", err)
		if !errors.Is(err, fs.ErrNotExist) {
			q.moveAside(e.name())
		}
		q.entries = q.entries[1:]
		q.bytes -= e.size
		q.countDrop(1, e.points)
	}
	return Batch{}, false, nil
}

// Ack removes the batch id after the collector acknowledged it. Acking a
// batch that is no longer queued (already acked, or dropped by a bound
// while it was in flight) is not an error.
func (q *Queue) Ack(id string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return ErrClosed
	}
	i := slices.IndexFunc(q.entries, func(e entry) bool { return e.id == id })
	if i < 0 {
		return nil
	}
	e := q.entries[i]
	// No directory fsync: if the removal is lost in a crash the batch is
	// sent again and the collector answers "duplicate".
	if err := os.Remove(filepath.Join(q.dir, e.name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("spool %s: ack %s: %w", q.dir, id, err)
	}
	q.entries = slices.Delete(q.entries, i, i+1)
	q.bytes -= e.size
	return nil
}

// Stats returns the queue's size and drop totals.
func (q *Queue) Stats() Stats {
	q.mu.Lock()
	defer q.mu.Unlock()
	return Stats{
		Batches:        len(q.entries),
		Bytes:          q.bytes,
		DroppedPoints:  q.drops.DroppedPoints,
		DroppedBatches: q.drops.DroppedBatches,
	}
}

// Close releases the directory. Batches stay on disk for the next Open.
func (q *Queue) Close() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return nil
	}
	q.closed = true
	return q.lock.Close() // closing the descriptor releases the flock
}

// enforce drops batches past MaxAge, then the oldest while the queue plus
// incoming bytes would exceed MaxBytes. Called with mu held.
func (q *Queue) enforce(incoming int64) {
	cutoff := q.o.Now().Add(-q.o.MaxAge)
	var aged, full, points int
	keep := q.entries[:0]
	for _, e := range q.entries {
		if e.created.Before(cutoff) {
			q.remove(e)
			aged++
			points += e.points
			continue
		}
		keep = append(keep, e)
	}
	q.entries = keep
	for len(q.entries) > 0 && q.bytes+incoming > q.o.MaxBytes {
		e := q.entries[0]
		q.remove(e)
		q.entries = q.entries[1:]
		full++
		points += e.points
	}
	if aged+full == 0 {
		return
	}
	q.log.Warn("spool: dropped oldest batches", "expired", aged, "over_size", full, "points", points,
		"max_age", q.o.MaxAge, "max_bytes", q.o.MaxBytes)
	q.countDrop(aged+full, points)
}

// remove deletes one batch file and forgets its bytes; the caller fixes the
// index and the counters.
func (q *Queue) remove(e entry) {
	if err := os.Remove(filepath.Join(q.dir, e.name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
		q.log.Warn("spool: cannot remove dropped batch", "batch", e.id, "err", err)
	}
	q.bytes -= e.size
}

// moveAside renames a bad file out of the queue, deleting it if even that
// fails, so it can never block the head of the queue again.
func (q *Queue) moveAside(name string) {
	p := filepath.Join(q.dir, name)
	if err := os.Rename(p, p+badExt); err != nil {
		_ = os.Remove(p)
	}
}

// countDrop adds to the persistent drop totals. Called with mu held.
func (q *Queue) countDrop(batches, points int) {
	q.drops.DroppedBatches += int64(batches)
	q.drops.DroppedPoints += int64(points)
	q.saveCounters()
}

func (q *Queue) saveCounters() {
	if err := q.drops.save(q.dir); err != nil {
		q.log.Warn("spool: cannot save drop counters", "err", err)
	}
}
