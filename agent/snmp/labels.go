package snmp

import (
	"context"
	"strings"
	"sync"
)

// DefaultLabelEvery is how many cycles a label table is reused before it is
// read again.
const DefaultLabelEvery = 10

// labelPrefixes are the columns (and the ENTITY-MIB table) whose values
// name things rather than measure them: they change rarely, so they are
// read every few cycles while counters are read every cycle.
var labelPrefixes = []string{
	".1.3.6.1.2.1.2.2.1.2",     // ifDescr
	".1.3.6.1.2.1.31.1.1.1.1",  // ifName
	".1.3.6.1.2.1.31.1.1.1.18", // ifAlias
	".1.3.6.1.2.1.47.1.1.1.1",  // entPhysicalEntry (entPhysical*)
}

// IsLabelColumn reports whether a column OID is a label column.
func IsLabelColumn(oid string) bool {
	o, err := normOID(oid)
	if err != nil {
		return false
	}
	for _, p := range labelPrefixes {
		if o == p || strings.HasPrefix(o, p+".") {
			return true
		}
	}
	return false
}

// SplitColumns separates label columns from the others (counters, states).
func SplitColumns(oids []string) (labels, others []string) {
	for _, o := range oids {
		if IsLabelColumn(o) {
			labels = append(labels, o)
		} else {
			others = append(others, o)
		}
	}
	return labels, others
}

// Table is what Client.Columns returns: column OID → row index → value.
type Table = map[string]map[string]Value

// LabelCache keeps each device's label table and fetches it again every
// `every` cycles, after a failed fetch, or after Invalidate (a reboot may
// renumber interfaces). Safe for concurrent use.
type LabelCache struct {
	every int
	mu    sync.Mutex
	dev   map[string]*labelEntry
}

type labelEntry struct {
	table Table
	age   int  // cycles since the table was fetched
	ok    bool // table is from a successful fetch
}

// NewLabelCache refreshes every `every` cycles (<= 0: DefaultLabelEvery).
func NewLabelCache(every int) *LabelCache {
	if every <= 0 {
		every = DefaultLabelEvery
	}
	return &LabelCache{every: every, dev: map[string]*labelEntry{}}
}

// Get is called once per device and cycle. It returns the cached table or,
// when due, calls fetch. If fetch fails, the stale table (if any) comes back
// with the error, and the next cycle tries again.
func (l *LabelCache) Get(ctx context.Context, device string, fetch func(context.Context) (Table, error)) (Table, error) {
	l.mu.Lock()
	e := l.dev[device]
	if e != nil && e.ok && e.age+1 < l.every {
		e.age++
		t := e.table
		l.mu.Unlock()
		return t, nil
	}
	l.mu.Unlock()

	t, err := fetch(ctx)

	l.mu.Lock()
	defer l.mu.Unlock()
	if e = l.dev[device]; e == nil {
		e = &labelEntry{}
		l.dev[device] = e
	}
	if err != nil {
		e.ok = false
		return e.table, err
	}
	e.table, e.age, e.ok = t, 0, true
	return t, nil
}

// Invalidate makes the next Get of device fetch again.
func (l *LabelCache) Invalidate(device string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e := l.dev[device]; e != nil {
		e.ok = false
	}
}
