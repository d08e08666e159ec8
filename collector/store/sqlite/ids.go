package sqlite

import (
	"database/sql"
	"errors"
	"fmt"
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

// maxCachedIDs bounds the cache: about 150 bytes an entry, so 150 MB at
// most. A collector with more live series than this (about a thousand
// schools with full SNMP) starts again from empty when it fills, and the
// misses cost an indexed lookup each until it warms up.
const maxCachedIDs = 1 << 20

type idCache struct {
	committed map[idKey]int64 // rows that exist in the database
	pending   map[idKey]int64 // rows made in the open transaction
	batch     []idKey         // the pending keys the current batch made
}

func newIDCache() *idCache {
	return &idCache{committed: map[idKey]int64{}, pending: map[idKey]int64{}}
}

// idStmts are the writer's statements that find and make the rows.
type idStmts struct {
	selectStream, insertStream, selectSeries, insertSeries *sql.Stmt
}

const (
	selectStreamSQL = `SELECT id FROM streams WHERE site = ? AND measurement = ?`
	insertStreamSQL = `INSERT INTO streams(site, measurement) VALUES (?, ?) RETURNING id`
	selectSeriesSQL = `SELECT id FROM series WHERE site = ? AND agent = ? AND series = ?`
	insertSeriesSQL = `INSERT INTO series(site, agent, measurement, series, tags) VALUES (?, ?, ?, ?, ?) RETURNING id`
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
	return c.id(idKey{'g', site, measurement, ""}, st.selectStream, st.insertStream, []any{site, measurement}, []any{site, measurement})
}

// series returns the id of a series, making the row if needed.
func (c *idCache) series(st idStmts, site, agent, measurement, series, tags string) (int64, error) {
	return c.id(idKey{'s', site, agent, series}, st.selectSeries, st.insertSeries,
		[]any{site, agent, series}, []any{site, agent, measurement, series, tags})
}

func (c *idCache) id(k idKey, sel, ins *sql.Stmt, selArgs, insArgs []any) (int64, error) {
	if id, ok := c.committed[k]; ok {
		return id, nil
	}
	if id, ok := c.pending[k]; ok {
		return id, nil
	}
	var id int64
	err := sel.QueryRow(selArgs...).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		err = ins.QueryRow(insArgs...).Scan(&id)
		if err == nil {
			c.batch = append(c.batch, k)
		}
	}
	if err != nil {
		return 0, fmt.Errorf("%s id for %s/%s/%s: %w", map[byte]string{'g': "stream", 's': "series"}[k.kind], k.a, k.b, k.c, err)
	}
	c.pending[k] = id
	return id, nil
}

// batchDone ends a batch: a kept one's new rows stay pending, a rolled
// back one's are forgotten with it.
func (c *idCache) batchDone(kept bool) {
	if !kept {
		for _, k := range c.batch {
			delete(c.pending, k)
		}
	}
	c.batch = c.batch[:0]
}

// txDone ends the transaction: what it made is known to exist once it has
// committed, and never otherwise.
func (c *idCache) txDone(committed bool) {
	if committed {
		if len(c.committed)+len(c.pending) > maxCachedIDs {
			c.committed = map[idKey]int64{}
		}
		for k, id := range c.pending {
			c.committed[k] = id
		}
	}
	clear(c.pending)
	c.batch = c.batch[:0]
}
