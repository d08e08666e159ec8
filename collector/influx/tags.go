package influx

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/probity-edu/probity/collector/store"
)

// Tags the collector adds or relies on in InfluxDB.
const (
	TagSite   = store.TagSite
	TagAgent  = store.TagAgent
	TagTrust  = "trust"  // the school's trust, by name
	TagSchool = "school" // the school's name, on the collector's own measurements
)

// Directory is what TagCache reads: sites and trusts.
type Directory interface {
	Sites(ctx context.Context) ([]store.Site, error)
	Trusts(ctx context.Context) ([]store.Trust, error)
}

// TagCache knows each school's trust, reloading from the directory at most
// every Refresh (and sooner for a school it has not seen, at most once a
// MissRefresh) so a school added after start gets its trust tag.
type TagCache struct {
	Dir         Directory
	Refresh     time.Duration // default 5m
	MissRefresh time.Duration // default 30s
	Log         *slog.Logger
	Now         func() time.Time

	mu     sync.Mutex
	trusts map[string]string // site id → trust name
	loaded time.Time
}

// Trust is the trust name of site, or "" when it has none or the
// directory cannot say.
func (c *TagCache) Trust(ctx context.Context, site string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	refresh, miss := c.Refresh, c.MissRefresh
	if refresh <= 0 {
		refresh = 5 * time.Minute
	}
	if miss <= 0 {
		miss = 30 * time.Second
	}
	name, known := c.trusts[site]
	if c.trusts == nil || now.Sub(c.loaded) >= refresh || (!known && now.Sub(c.loaded) >= miss) {
		c.load(ctx, now)
		name = c.trusts[site]
	}
	return name
}

// load reads the directory; on failure it keeps what it had and tries
// again at the next miss.
func (c *TagCache) load(ctx context.Context, now time.Time) {
	c.loaded = now
	ts, err := c.Dir.Trusts(ctx)
	if err != nil {
		c.logErr(err)
		return
	}
	sites, err := c.Dir.Sites(ctx)
	if err != nil {
		c.logErr(err)
		return
	}
	names := make(map[int64]string, len(ts))
	for _, t := range ts {
		names[t.ID] = t.Name
	}
	m := make(map[string]string, len(sites))
	for _, s := range sites {
		m[s.ID] = names[s.TrustID]
	}
	c.trusts = m
}

func (c *TagCache) logErr(err error) {
	if c.Log != nil {
		c.Log.Warn("InfluxDB sink: reading schools' trusts", "err", err)
	}
	if c.trusts == nil {
		c.trusts = map[string]string{}
	}
}

func (c *TagCache) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}
