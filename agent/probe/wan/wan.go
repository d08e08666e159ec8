// Package wan watches the school's internet connection continuously, for
// the DfE broadband requirements on a backup connection (BB-5) and
// automatic failover (BB-6). Each run is an observation window that fills
// the job's interval: one TCP connect per `every` to a target (by default
// the collector), summarised as one `reachability` point with the outages
// seen; and, once near the end of the window, the collector is asked from
// which public address the agent reaches it (wire.WhoamiPath). A new
// address is a `wan_path` point carrying the length of the outage that
// came before it, so a failover shows as a path change with a measured gap.
//
// The probe keeps state between runs, in memory only: a failure streak
// still going when a window closes carries into the next run, so an
// outage that crosses a minute boundary is measured whole; the last
// address seen is what a new one is compared with.
package wan

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/probity-edu/probity/agent/probe"
	"github.com/probity-edu/probity/internal/config/cfgerr"
	"github.com/probity-edu/probity/internal/point"
)

// Config is the `wan` section of a probe.
type Config struct {
	// Target is host:port to connect to; empty means the collector's host
	// and port, taken from its URL.
	Target         string        `yaml:"target"`
	Every          time.Duration `yaml:"every"`           // between connect attempts
	ConnectTimeout time.Duration `yaml:"connect_timeout"` // per attempt
	Whoami         bool          `yaml:"whoami"`          // ask the collector for the public address each run
}

// Defaults are the values a `wan` section starts from.
var Defaults = Config{
	Every:          time.Second,
	ConnectTimeout: time.Second,
	Whoami:         true,
}

// Timing of a run, counted back from its deadline.
const (
	// margin is left unused at the end of a run for the scheduler.
	margin = time.Second
	// whoamiTimeout bounds the whoami request: enough for a TLS handshake
	// over a geostationary satellite backup.
	whoamiTimeout = 3 * time.Second
	// minWindow is the shortest job interval or timeout accepted whatever
	// the section says; MinWindow may ask for more.
	minWindow = 10 * time.Second
	// carrySlack is how much longer than the normal spacing two attempts
	// may be apart for a failure streak to carry across them (the gap
	// between two runs is normally about margin + connect_timeout).
	carrySlack = 10 * time.Second
)

var hostnameRe = regexp.MustCompile(`^(?i)[a-z0-9_]([a-z0-9_-]{0,62})(\.[a-z0-9_]([a-z0-9_-]{0,62}))*\.?$`)

// validTarget checks host:port, the host an IP address or a host name.
func validTarget(s string) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Errorf("%q is not host:port (an IPv6 address goes in brackets: [2001:db8::1]:443)", s)
	}
	if net.ParseIP(host) == nil && (len(host) > 253 || !hostnameRe.MatchString(host)) {
		return fmt.Errorf("%q: %q is neither an IP address nor a host name", s, host)
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
		return fmt.Errorf("%q: port must be 1 to 65535", s)
	}
	return nil
}

// Validate checks the section; paths are relative to it.
func (c Config) Validate() error {
	var errs []error
	if c.Target != "" {
		if err := validTarget(c.Target); err != nil {
			errs = append(errs, cfgerr.Errorf("target", "%v", err))
		}
	}
	if c.Every < 100*time.Millisecond || c.Every > time.Minute {
		errs = append(errs, cfgerr.Errorf("every", "must be between 100ms and 1m, not %s", c.Every))
	}
	if c.ConnectTimeout < 10*time.Millisecond || c.ConnectTimeout > 30*time.Second {
		errs = append(errs, cfgerr.Errorf("connect_timeout", "must be between 10ms and 30s, not %s", c.ConnectTimeout))
	}
	return errors.Join(errs...)
}

// MinWindow is the shortest job interval (and timeout) this section can
// run under: room for the margin, the whoami request and a few attempts,
// and never under 10s.
func (c Config) MinWindow() time.Duration {
	return max(minWindow, margin+max(c.ConnectTimeout, whoamiTimeout)+3*c.Every)
}

// collectorTarget is host:port of a collector URL, the port from the
// scheme when the URL has none.
func collectorTarget(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Hostname() == "" {
		return "", fmt.Errorf("collector URL %q has no host", raw)
	}
	port := u.Port()
	if port == "" {
		switch u.Scheme {
		case "https":
			port = "443"
		case "http":
			port = "80"
		default:
			return "", fmt.Errorf("collector URL %q: no port and scheme %q has no default", raw, u.Scheme)
		}
	}
	return net.JoinHostPort(u.Hostname(), port), nil
}

// Prober watches the path to one target. Its state (the failure streak and
// the last address) lives as long as the Prober.
type Prober struct {
	cfg    Config
	log    *slog.Logger
	now    func() time.Time
	target string // host:port; empty when neither configured nor enrolled
	coll   *probe.Collector
	client *http.Client // coll.Client with a fresh connection per request
	dialer net.Dialer

	// whoamiWait bounds the whoami request; tests shorten it.
	whoamiWait time.Duration

	mu       sync.Mutex // one Run at a time owns the state below
	tr       tracker
	path     pathState
	resolved string // target's ip:port for this run; empty until resolved
}

var _ probe.Probe = (*Prober)(nil)

// New builds a Prober from a valid Config. Without a target and without a
// collector it still builds, so that `check` before enrolment can say why
// it cannot measure; Run then returns that error.
func New(c Config, d probe.Deps) (*Prober, error) {
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("wan: %w", err)
	}
	d = d.WithDefaults()
	p := &Prober{cfg: c, log: d.Log, now: d.Now, target: c.Target, coll: d.Collector, whoamiWait: whoamiTimeout}
	p.tr.maxGap = c.Every + c.ConnectTimeout + carrySlack
	if p.target == "" && d.Collector != nil {
		t, err := collectorTarget(d.Collector.URL)
		if err != nil {
			return nil, fmt.Errorf("wan: target: %w", err)
		}
		p.target = t
	}
	if d.Collector != nil {
		p.client = freshConnections(d.Collector.Client)
	}
	return p, nil
}

// Target is host:port the probe connects to; empty when it has none.
func (p *Prober) Target() string { return p.target }

// Run observes the path until shortly before ctx's deadline and returns a
// `reachability` point, and a `wan_path` point when the public address
// changed (or was first seen). It returns an error only when it cannot
// measure at all: no target, or no deadline long enough for a window.
func (p *Prober) Run(ctx context.Context) ([]point.Point, error) {
	if p.target == "" {
		return nil, errors.New("wan: no target: set wan.target, or enrol the agent so the collector's address is used")
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		return nil, errors.New("wan: run has no deadline: its observation window is taken from it")
	}
	need := margin + max(p.cfg.ConnectTimeout, p.whoamiWait) + p.cfg.Every
	if left := time.Until(deadline); left < need {
		return nil, fmt.Errorf("wan: the run's deadline leaves %s, less than the %s a window needs (give the job a longer interval; 1m is recommended)",
			left.Round(time.Millisecond), need)
	}
	p.mu.Lock()
	defer p.mu.Unlock()

	start := p.now()
	// The last attempt starts by lastStart so it ends by deadline-margin;
	// the whoami request starts by whoamiStart for the same reason, and
	// attempts go on while it is in flight.
	lastStart := deadline.Add(-margin - p.cfg.ConnectTimeout)
	whoamiStart := deadline.Add(-margin - p.whoamiWait)
	p.resolved = ""

	var (
		who     chan whoamiResult // in flight; nil before and after
		asked   bool
		whoRes  *whoamiResult
		pathPts []point.Point
	)
	handle := func(r whoamiResult) {
		whoRes = &r
		if r.err == nil {
			if pt, changed := p.observe(r.address, r.at); changed {
				pathPts = append(pathPts, pt)
			}
		}
	}
	tick := time.NewTicker(p.cfg.Every)
	defer tick.Stop()
	for {
		a := p.attempt(ctx)
		if a.Outcome != probe.OK && ctx.Err() != nil {
			break // cut short by the agent stopping: not an observation
		}
		p.tr.record(a)
		if p.cfg.Whoami && !asked && !time.Now().Before(whoamiStart) {
			asked, who = true, p.startWhoami(ctx)
		}
		if !time.Now().Before(lastStart) {
			break
		}
		wait := true
		for wait {
			select {
			case <-ctx.Done():
				wait = false
			case r := <-who:
				who = nil
				handle(r)
			case <-tick.C:
				wait = false
			}
		}
		if ctx.Err() != nil || !time.Now().Before(lastStart) {
			break
		}
	}
	if p.cfg.Whoami && !asked && ctx.Err() == nil {
		asked, who = true, p.startWhoami(ctx)
	}
	if who != nil {
		handle(<-who)
	}

	sum := p.tr.finish()
	if sum.Attempts == 0 {
		// Only when ctx ended before the first attempt could complete.
		return nil, fmt.Errorf("wan: run ended before any attempt: %w", context.Cause(ctx))
	}
	fields := sum.fields()
	if p.cfg.Whoami {
		switch {
		case whoRes == nil:
			fields["whoami_ok"] = false
			fields["whoami_error"] = "not asked: the run was cut short"
		case whoRes.err != nil:
			fields["whoami_ok"] = false
			fields["whoami_error"] = whoRes.err.Error()
			p.log.Debug("wan: whoami failed", "err", whoRes.err)
		default:
			fields["whoami_ok"] = true
		}
	}
	pts := []point.Point{point.New("reachability", map[string]string{"target": p.target}, fields, start)}
	return append(pts, pathPts...), nil
}

// attempt makes one TCP connect to the target and closes it at once.
func (p *Prober) attempt(ctx context.Context) attempt {
	at := time.Now()
	actx, cancel := context.WithTimeout(ctx, p.cfg.ConnectTimeout)
	defer cancel()
	if p.resolved == "" {
		addr, err := resolve(actx, p.target)
		if err != nil {
			p.log.Debug("wan: resolving target", "target", p.target, "err", err)
			return attempt{At: at, Took: time.Since(at), Outcome: probe.DNSError}
		}
		p.resolved = addr
	}
	began := time.Now()
	c, err := p.dialer.DialContext(actx, "tcp", p.resolved)
	took := time.Since(began)
	if err != nil {
		return attempt{At: at, Took: time.Since(at), Outcome: probe.Classify(err)}
	}
	c.Close()
	return attempt{At: at, Took: took, Outcome: probe.OK}
}

// resolve turns host:port into ip:port once per run, so that connect times
// never include a lookup; IPv4 is preferred, as for ping.
func resolve(ctx context.Context, target string) (string, error) {
	host, port, err := net.SplitHostPort(target)
	if err != nil {
		return "", err
	}
	if net.ParseIP(host) != nil {
		return target, nil
	}
	addrs, err := net.DefaultResolver.LookupIPAddr(ctx, host)
	if err != nil {
		return "", err
	}
	if len(addrs) == 0 {
		return "", &net.DNSError{Err: "no addresses", Name: host, IsNotFound: true}
	}
	ip := addrs[0].IP
	for _, a := range addrs {
		if a.IP.To4() != nil {
			ip = a.IP
			break
		}
	}
	return net.JoinHostPort(ip.String(), port), nil
}

// observe compares a freshly seen public address with the last one and
// returns the wan_path point to emit, if any.
func (p *Prober) observe(addr string, at time.Time) (point.Point, bool) {
	ch, ok := p.path.observe(addr, p.tr.takeGap())
	if !ok {
		return point.Point{}, false
	}
	if ch.Changed {
		p.log.Info("internet path changed", "address", ch.Address, "previous", ch.Previous, "gap_s", ch.Gap.Seconds())
	} else {
		p.log.Info("internet path first seen", "address", ch.Address)
	}
	// The event tag lets a rule select changes only: no change seen is "not
	// enough data" about failover, never a failed one.
	event := "first"
	if ch.Changed {
		event = "change"
	}
	return point.New("wan_path", map[string]string{"event": event}, ch.fields(), at), true
}
