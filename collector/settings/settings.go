// Package settings is the schema of collector.yaml: typed sections with
// their defaults and validation.
package settings

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"path/filepath"
	"time"

	"github.com/probity-edu/probity/internal/config"
	"github.com/probity-edu/probity/internal/config/cfgerr"
	"github.com/probity-edu/probity/internal/logging"
)

// Collector is the whole of collector.yaml.
type Collector struct {
	Listen    string         `yaml:"listen"`
	PublicURL string         `yaml:"public_url"`
	DataDir   string         `yaml:"data_dir"`
	Log       logging.Config `yaml:"log"`
	Store     Store          `yaml:"store"`
	Retention Retention      `yaml:"retention"`
	Ingest    Ingest         `yaml:"ingest"`
	Jobs      Jobs           `yaml:"jobs"`
	Enrolment Enrolment      `yaml:"enrolment"`
	Standards Standards      `yaml:"standards"`
	Server    Server         `yaml:"server"`
	Speedtest Speedtest      `yaml:"speedtest"`
	Web       Web            `yaml:"web"`
	Influx    Influx         `yaml:"influx"`
}

// Influx forwards raw points and verdicts to InfluxDB (docs/grafana.md).
// Off while URL is empty.
type Influx struct {
	// URL of InfluxDB 2.x, Cloud or 3, or of 1.8+ (its v2-compatible API).
	URL string `yaml:"url"`
	// Token with write access to the bucket; on 1.8, user:password (or
	// empty with its auth off). PROBITY_INFLUX_TOKEN keeps it out of the file.
	Token string `yaml:"token" secret:"true"`
	// Org is the organisation (2.x, Cloud); ignored by 1.8 and 3.
	Org string `yaml:"org"`
	// Bucket is the bucket (2.x, Cloud), database (3) or db/retention
	// policy (1.8, for example probity/autogen).
	Bucket string `yaml:"bucket"`
	// QueueSize bounds the points waiting while InfluxDB is slow or down;
	// past it the oldest are dropped (counted on /metrics; the store
	// keeps them).
	QueueSize int `yaml:"queue_size"`
	// BatchSize is the most points in one write request.
	BatchSize int `yaml:"batch_size"`
	// FlushInterval is how long a partial batch waits for more points.
	FlushInterval time.Duration `yaml:"flush_interval"`
	// Timeout bounds one write request.
	Timeout time.Duration `yaml:"timeout"`
	// MaxBackoff caps the wait between retries of a failed write (it
	// doubles from 1s).
	MaxBackoff time.Duration `yaml:"max_backoff"`
	// StatusEvery is how often every school's verdicts, standards,
	// coverage and agents are written (standard_verdict and friends).
	StatusEvery time.Duration `yaml:"status_every"`
}

// Enabled says whether the sink runs.
func (i Influx) Enabled() bool { return i.URL != "" }

// Validate names the key that is wrong.
func (i Influx) Validate() error {
	if !i.Enabled() {
		return nil
	}
	var errs []error
	if u, err := url.Parse(i.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, cfgerr.Errorf("url", "must be an http:// or https:// URL such as http://127.0.0.1:8086, not %q", i.URL))
	}
	if i.Bucket == "" {
		errs = append(errs, cfgerr.Errorf("bucket", "required with url (on InfluxDB 1.8: database/retention_policy, such as probity/autogen)"))
	}
	if i.BatchSize < 1 || i.BatchSize > 50_000 {
		errs = append(errs, cfgerr.Errorf("batch_size", "must be between 1 and 50000, not %d", i.BatchSize))
	}
	if i.QueueSize < i.BatchSize || i.QueueSize > 10_000_000 {
		errs = append(errs, cfgerr.Errorf("queue_size", "must be between batch_size (%d) and 10000000, not %d", i.BatchSize, i.QueueSize))
	}
	for _, d := range []struct {
		key      string
		v, least time.Duration
	}{{"flush_interval", i.FlushInterval, 10 * time.Millisecond}, {"timeout", i.Timeout, time.Second}, {"max_backoff", i.MaxBackoff, time.Second}, {"status_every", i.StatusEvery, time.Second}} {
		if d.v < d.least {
			errs = append(errs, cfgerr.Errorf(d.key, "must be at least %s, not %s", d.least, d.v))
		}
	}
	return errors.Join(errs...)
}

// Server says whom the HTTP server believes about where a request came from.
type Server struct {
	// TrustedProxies are the CIDRs (a bare address is one host) of reverse
	// proxies in front of the collector. Only a request whose TCP peer is in
	// one of them has its X-Forwarded-For believed; otherwise anyone could
	// claim any address. Empty: the TCP peer is always the client.
	TrustedProxies []string `yaml:"trusted_proxies"`
}

// Proxies parses TrustedProxies; errors name the list index.
func (s Server) Proxies() ([]netip.Prefix, error) {
	var out []netip.Prefix
	var errs []error
	for i, c := range s.TrustedProxies {
		p, err := netip.ParsePrefix(c)
		if err != nil {
			a, aerr := netip.ParseAddr(c)
			if aerr != nil || a.Zone() != "" {
				errs = append(errs, cfgerr.Errorf(fmt.Sprintf("trusted_proxies[%d]", i),
					"must be a CIDR such as 10.0.0.0/8 or fd00::/8, or a single address, not %q", c))
				continue
			}
			p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		if p.Addr().Is4In6() {
			// ::ffff:10.0.0.0/104 means 10.0.0.0/8; peers are compared unmapped.
			if p.Bits() < 96 {
				errs = append(errs, cfgerr.Errorf(fmt.Sprintf("trusted_proxies[%d]", i), "an IPv4-mapped prefix needs at least 96 bits, not %q", c))
				continue
			}
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		out = append(out, p.Masked())
	}
	return out, errors.Join(errs...)
}

// Web tunes the web UI's sign-in sessions.
type Web struct {
	// SecureCookies marks the session cookie Secure even when the request
	// reached the collector over plain HTTP, as it does behind a reverse
	// proxy that ends TLS. A request over TLS always gets a Secure cookie.
	SecureCookies bool `yaml:"secure_cookies"`
	// SessionIdle ends a session after this long without a request.
	SessionIdle time.Duration `yaml:"session_idle"`
	// SessionMax ends a session this long after sign-in, however active.
	SessionMax time.Duration `yaml:"session_max"`
}

// Validate names the key that is wrong.
func (w Web) Validate() error {
	var errs []error
	if w.SessionIdle < time.Minute {
		errs = append(errs, cfgerr.Errorf("session_idle", "must be at least 1m, not %s", w.SessionIdle))
	}
	if w.SessionMax < w.SessionIdle {
		errs = append(errs, cfgerr.Errorf("session_max", "must be at least session_idle (%s), not %s", w.SessionIdle, w.SessionMax))
	}
	if w.SessionMax > 90*24*time.Hour {
		errs = append(errs, cfgerr.Errorf("session_max", "must be at most 2160h (90 days), not %s", w.SessionMax))
	}
	return errors.Join(errs...)
}

// Speedtest is the broadband speed-test server the collector runs on its
// own listener (see docs/api.md); `probity-collector speedtest` runs the
// same server on its own at a trust's network edge.
type Speedtest struct {
	Enabled bool `yaml:"enabled"`
	// MaxDuration caps one download or upload, whatever the agent asks.
	MaxDuration time.Duration `yaml:"max_duration"`
	// MaxConcurrent bounds transfers (streams) at once; more get 503.
	MaxConcurrent int `yaml:"max_concurrent"`
}

// Validate names the key that is wrong.
func (s Speedtest) Validate() error {
	var errs []error
	if s.MaxDuration < time.Second || s.MaxDuration > 5*time.Minute {
		errs = append(errs, cfgerr.Errorf("max_duration", "must be between 1s and 5m, not %s", s.MaxDuration))
	}
	if s.MaxConcurrent < 1 || s.MaxConcurrent > 4096 {
		errs = append(errs, cfgerr.Errorf("max_concurrent", "must be between 1 and 4096, not %d", s.MaxConcurrent))
	}
	return errors.Join(errs...)
}

// Standards tunes the requirement catalogue.
type Standards struct {
	// Policy is a trust's overlay file that tightens thresholds for its own
	// policy (docs/scoring.md); empty means the DfE catalogue as shipped.
	Policy string `yaml:"policy"`
}

// Store selects the storage engine.
type Store struct {
	Driver string `yaml:"driver"` // sqlite (embedded, the default) or postgres
	Path   string `yaml:"path"`   // sqlite: default data_dir/probity.db
	// DSN is the PostgreSQL connection string (postgres://user:pass@host/db
	// or key=value); PROBITY_STORE_DSN keeps the password out of the file.
	DSN string `yaml:"dsn" secret:"true"`
}

// Retention says how long raw points and hourly rollups are kept; daily
// rollups are kept for good. Scoring reads rollups only.
type Retention struct {
	Raw    time.Duration `yaml:"raw"`
	Hourly time.Duration `yaml:"hourly"`
}

// Ingest bounds what one write may carry, and how many are in progress.
type Ingest struct {
	MaxBody config.Bytes `yaml:"max_body"`
	// MaxInflightWrites bounds writes in progress (both write endpoints);
	// more are refused with 503 and Retry-After, and agents send them
	// later. The limit adapts below it to WriteLatencyTarget. 0: no limit.
	MaxInflightWrites int `yaml:"max_inflight_writes"`
	// WriteLatencyTarget is the mean write latency (admission to the
	// store's answer) the limit on writes in progress adapts to keep: it
	// shrinks while writes are slower, and grows back while they are
	// faster and the limit holds writes back.
	WriteLatencyTarget time.Duration `yaml:"write_latency_target"`
}

// Jobs are the collector's background work.
type Jobs struct {
	ScoreEvery  time.Duration `yaml:"score_every"`
	RollupEvery time.Duration `yaml:"rollup_every"`
	PruneEvery  time.Duration `yaml:"prune_every"`
}

// Enrolment tunes one-time agent tokens.
type Enrolment struct {
	TokenTTL time.Duration `yaml:"token_ttl"`
}

// Defaults returns a fresh default configuration.
func Defaults() Collector {
	return Collector{
		Listen:    "127.0.0.1:8470",
		DataDir:   "/var/lib/probity/collector",
		Log:       logging.Defaults,
		Store:     Store{Driver: "sqlite"},
		Retention: Retention{Raw: 30 * 24 * time.Hour, Hourly: 400 * 24 * time.Hour},
		// 1,024 writes in progress is two of SQLite's group commits (512
		// batches each): under overload the writer always has the next
		// group ready and a write waits about two commits; in normal
		// operation only tens are in progress (see collector/api/admission.go).
		// A write half a second behind the store is queueing, not storing:
		// a healthy store answers in a few ms.
		Ingest:    Ingest{MaxBody: 16 << 20, MaxInflightWrites: 1024, WriteLatencyTarget: 500 * time.Millisecond},
		Jobs:      Jobs{ScoreEvery: 5 * time.Minute, RollupEvery: 10 * time.Minute, PruneEvery: time.Hour},
		Enrolment: Enrolment{TokenTTL: 7 * 24 * time.Hour},
		Speedtest: Speedtest{Enabled: true, MaxDuration: 60 * time.Second, MaxConcurrent: 32},
		Web:       Web{SessionIdle: 8 * time.Hour, SessionMax: 7 * 24 * time.Hour},
		Influx: Influx{QueueSize: 100_000, BatchSize: 5000, FlushInterval: time.Second, Timeout: 10 * time.Second,
			MaxBackoff: time.Minute, StatusEvery: 5 * time.Minute},
	}
}

// DBPath is the SQLite file.
func (c Collector) DBPath() string {
	if c.Store.Path != "" {
		return c.Store.Path
	}
	return filepath.Join(c.DataDir, "probity.db")
}

// BaseURL is how people and agents reach this collector.
func (c Collector) BaseURL() string {
	if c.PublicURL != "" {
		return c.PublicURL
	}
	return "http://" + c.Listen
}

// Validate names the key that is wrong.
func (c *Collector) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		errs = append(errs, cfgerr.Errorf("listen", "must be host:port, like 127.0.0.1:8470 (%v)", err))
	}
	if c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, cfgerr.Errorf("public_url", "must be an http:// or https:// URL, not %q", c.PublicURL))
		}
	}
	if c.DataDir == "" {
		errs = append(errs, cfgerr.Errorf("data_dir", "required"))
	}
	errs = append(errs, cfgerr.Prefix("log", c.Log.Validate()))
	switch {
	case c.Store.Driver != "sqlite" && c.Store.Driver != "postgres":
		errs = append(errs, cfgerr.Errorf("store.driver", "must be sqlite or postgres, not %q", c.Store.Driver))
	case c.Store.Driver == "postgres" && c.Store.DSN == "":
		errs = append(errs, cfgerr.Errorf("store.dsn", "required with driver postgres: postgres://user:password@host:5432/probity (or set PROBITY_STORE_DSN)"))
	}
	if c.Retention.Raw < 24*time.Hour {
		errs = append(errs, cfgerr.Errorf("retention.raw", "must be at least 24h"))
	}
	// 30-day rules read whole hours at each end of their window.
	if c.Retention.Hourly < 31*24*time.Hour {
		errs = append(errs, cfgerr.Errorf("retention.hourly", "must be at least 744h (31 days)"))
	}
	if c.Ingest.MaxBody < 64<<10 {
		errs = append(errs, cfgerr.Errorf("ingest.max_body", "must be at least 64KiB"))
	}
	if c.Ingest.MaxInflightWrites < 0 {
		errs = append(errs, cfgerr.Errorf("ingest.max_inflight_writes", "must be 0 (no limit) or more, not %d", c.Ingest.MaxInflightWrites))
	}
	if c.Ingest.WriteLatencyTarget <= 0 {
		errs = append(errs, cfgerr.Errorf("ingest.write_latency_target", "must be more than 0, like 500ms, not %s", c.Ingest.WriteLatencyTarget))
	}
	for _, j := range []struct {
		key string
		d   time.Duration
	}{{"jobs.score_every", c.Jobs.ScoreEvery}, {"jobs.rollup_every", c.Jobs.RollupEvery}, {"jobs.prune_every", c.Jobs.PruneEvery}} {
		if j.d < time.Second {
			errs = append(errs, cfgerr.Errorf(j.key, "must be at least 1s"))
		}
	}
	if c.Enrolment.TokenTTL < time.Minute {
		errs = append(errs, cfgerr.Errorf("enrolment.token_ttl", "must be at least 1m"))
	}
	if _, err := c.Server.Proxies(); err != nil {
		errs = append(errs, cfgerr.Prefix("server", err))
	}
	errs = append(errs, cfgerr.Prefix("speedtest", c.Speedtest.Validate()))
	errs = append(errs, cfgerr.Prefix("web", c.Web.Validate()))
	errs = append(errs, cfgerr.Prefix("influx", c.Influx.Validate()))
	return errors.Join(errs...)
}
