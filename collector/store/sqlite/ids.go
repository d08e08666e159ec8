package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/maphash"
)

// Series and stream ids for the writer (migration 0007): a point row holds
// the id of its site's measurement (streams) and of its series (series)
// instead of their names and tags. Only the group writer's goroutine uses
// an idCache, so it needs no lock.

// idKey names a streams row (kind 'g': site, measurement) or a series row
// (kind 's': site, agent, series key).
type idKey struct {
	kind    byte
	a, b, c string
}

// The cache holds a 64-bit hash of each key, not the key: a few tens of
// bytes an entry instead of a few hundred, so it can hold a national
// collector's series. A second, independent 32-bit hash is kept beside the
// id and checked, so two keys whose first hashes collide are told apart (a
// miss, then the database answers) rather than sharing a series.
type idEntry struct {
	id    int64
	check uint32
}

// maxCachedIDs bounds the cache at about 300 MB: 8 million series, some
// 8,000 schools with full SNMP. Past that it starts again from empty when
// it fills, and each miss costs an indexed lookup until it warms up.
const maxCachedIDs = 1 << 23

type idCache struct {
	// complete: every streams and series row is in committed (loaded at
	// Open and kept since), so a miss is a new row and is inserted without
	// looking it up first.
	complete        bool
	seed, checkSeed maphash.Seed
	committed       map[uint64]idEntry // rows that exist in the database
	pending         map[uint64]idEntry // rows found or made in the open transaction
}

func newIDCache() *idCache {
	return &idCache{seed: maphash.MakeSeed(), checkSeed: maphash.MakeSeed(),
		committed: map[uint64]idEntry{}, pending: map[uint64]idEntry{}}
}

// hash returns k's cache key and its check value.
func (c *idCache) hash(k idKey) (uint64, uint32) {
	return c.hashParts(k.kind, k.a, k.b, k.c, nil)
}

// hashParts is hash of the key (kind, a, b, c+cb): the writer hands a
// series key as bytes, so that a cache hit makes no string of it.
func (c *idCache) hashParts(kind byte, a, b, cs string, cb []byte) (uint64, uint32) {
	var h maphash.Hash
	sum := func(seed maphash.Seed) uint64 {
		h.SetSeed(seed)
		h.WriteByte(kind)
		h.WriteString(a)
		h.WriteByte(0) // ("ab","c") and ("a","bc") differ
		h.WriteString(b)
		h.WriteByte(0)
		h.WriteString(cs)
		h.Write(cb)
		h.WriteByte(0)
		return h.Sum64()
	}
	return sum(c.seed), uint32(sum(c.checkSeed))
}

// idStmts are the writer's statements that find and make the rows.
type idStmts struct {
	selectStream, insertStream, selectSeries, insertSeries *sql.Stmt
}

const (
	selectStreamSQL = `SELECT id FROM streams WHERE site = ? AND measurement = ?`
	insertStreamSQL = `INSERT INTO streams(site, measurement) VALUES (?, ?) ON CONFLICT DO NOTHING RETURNING id`
	selectSeriesSQL = `SELECT id FROM series WHERE site = ? AND agent = ? AND series = ?`
	insertSeriesSQL = `INSERT INTO series(site, agent, measurement, series, tags) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id`
)

// inTx binds the statements to a transaction.
func (st idStmts) inTx(tx *sql.Tx) idStmts {
	return idStmts{tx.Stmt(st.selectStream), tx.Stmt(st.insertStream), tx.Stmt(st.selectSeries), tx.Stmt(st.insertSeries)}
}

func (st idStmts) close() error {
	var errs []error
	for _, s := range []*sql.Stmt{st.selectStream, st.insertStream, st.selectSeries, st.insertSeries} {
		if s != nil {
			errs = append(errs, s.Close())
		}
	}
	return errors.Join(errs...)
}

// stream returns the id of a site's measurement, making the row if needed.
func (c *idCache) stream(st idStmts, site, measurement string) (int64, error) {
	h, check := c.hashParts('g', site, measurement, "", nil)
	if id, ok := c.cached(h, check); ok {
		return id, nil
	}
	return c.find(idKey{'g', site, measurement, ""}, h, check, st.selectStream, st.insertStream, []any{site, measurement}, []any{site, measurement})
}

// series returns the id of a series (its key given as bytes), making the
// row if needed; tags, the series' tags JSON, is called only then.
func (c *idCache) series(st idStmts, site, agent, measurement string, series []byte, tags func() string) (int64, error) {
	h, check := c.hashParts('s', site, agent, "", series)
	if id, ok := c.cached(h, check); ok {
		return id, nil
	}
	key := string(series)
	return c.find(idKey{'s', site, agent, key}, h, check, st.selectSeries, st.insertSeries,
		[]any{site, agent, key}, []any{site, agent, measurement, key, tags()})
}

func (c *idCache) cached(h uint64, check uint32) (int64, bool) {
	if e, ok := c.committed[h]; ok && e.check == check {
		return e.id, true
	}
	if e, ok := c.pending[h]; ok && e.check == check {
		return e.id, true
	}
	return 0, false
}

// find looks k (hashed h, check) up in the database, or inserts it.
func (c *idCache) find(k idKey, h uint64, check uint32, sel, ins *sql.Stmt, selArgs, insArgs []any) (int64, error) {
	// Insert first when the cache is complete: the row is new unless
	// another process made it (then the insert returns no row).
	first, second, firstArgs, secondArgs := sel, ins, selArgs, insArgs
	if c.complete {
		first, second, firstArgs, secondArgs = ins, sel, insArgs, selArgs
	}
	var id int64
	err := first.QueryRow(firstArgs...).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		err = second.QueryRow(secondArgs...).Scan(&id)
	}
	if err != nil {
		return 0, fmt.Errorf("%s id for %s/%s/%s: %w", map[byte]string{'g': "stream", 's': "series"}[k.kind], k.a, k.b, k.c, err)
	}
	c.pending[h] = idEntry{id, check}
	return id, nil
}

// txDone ends the transaction: what it made is known to exist once it has
// committed, and never otherwise.
func (c *idCache) txDone(committed bool) {
	if committed {
		if len(c.committed)+len(c.pending) > maxCachedIDs {
			c.committed, c.complete = map[uint64]idEntry{}, false
		}
		for k, id := range c.pending {
			c.committed[k] = id
		}
	}
	clear(c.pending)
}

// load fills the cache with every existing row, so that after a restart
// the writer neither looks up nor re-inserts the series it already has. A
// store with more rows than the cache holds is loaded only on demand.
func (c *idCache) load(ctx context.Context, db *sql.DB) error {
	var n int
	if err := db.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM streams) + (SELECT COUNT(*) FROM series)`).Scan(&n); err != nil {
		return err
	}
	if n > maxCachedIDs {
		return nil
	}
	rows, err := db.QueryContext(ctx, `SELECT 'g', id, site, measurement, '' FROM streams
		UNION ALL SELECT 's', id, site, agent, series FROM series`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var k idKey
		var kind string
		var id int64
		if err := rows.Scan(&kind, &id, &k.a, &k.b, &k.c); err != nil {
			return err
		}
		k.kind = kind[0]
		h, check := c.hash(k)
		c.committed[h] = idEntry{id, check}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	c.complete = true
	return nil
}
