// Package ping measures reachability, packet loss, latency and jitter to a
// list of targets with ICMP echo (github.com/prometheus-community/pro-bing).
// Each run sends Count echo requests to every target, several targets at a
// time, and emits one `ping` point per target.
package ping

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"regexp"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/probity-edu/probity/agent/probe"
	"github.com/probity-edu/probity/internal/config/cfgerr"
	"github.com/probity-edu/probity/internal/point"
)

// Socket modes. Unprivileged ICMP uses datagram sockets, which Linux allows
// to the groups in net.ipv4.ping_group_range; privileged uses raw sockets
// (root or CAP_NET_RAW).
const (
	ModeAuto         = "auto"
	ModePrivileged   = "privileged"
	ModeUnprivileged = "unprivileged"
)

// Roles say what a target stands for, so scoring can tell the school's
// gateway from its ISP and the internet beyond.
var Roles = []string{"gateway", "isp", "internet", "collector"}

// maxParallel bounds how many targets are pinged at once.
const maxParallel = 8

// Target is one host to ping.
type Target struct {
	Host string `yaml:"host"` // IP address or host name (resolved at each run)
	Role string `yaml:"role"` // gateway, isp, internet, collector, or empty
}

// Config is the `ping` section of a probe.
type Config struct {
	Targets  []Target      `yaml:"targets"`
	Count    int           `yaml:"count"`    // echo requests per target and run
	Interval time.Duration `yaml:"interval"` // between requests to one target
	Timeout  time.Duration `yaml:"timeout"`  // per target; 0 means Count*Interval + 2s
	Size     int           `yaml:"size"`     // ICMP payload bytes
	Mode     string        `yaml:"mode"`     // auto, privileged or unprivileged
}

// Defaults are the values a `ping` section starts from.
var Defaults = Config{
	Count:    10,
	Interval: 200 * time.Millisecond,
	Size:     56,
	Mode:     ModeAuto,
}

// minSize is what pro-bing needs in each payload: a timestamp and a tracker.
const minSize = 24

// TargetTimeout is the time one target may take: Timeout, or the time to
// send every request plus two seconds for the last reply.
func (c Config) TargetTimeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return time.Duration(c.Count)*c.Interval + 2*time.Second
}

var hostnameRe = regexp.MustCompile(`^(?i)[a-z0-9_]([a-z0-9_-]{0,62})(\.[a-z0-9_]([a-z0-9_-]{0,62}))*\.?$`)

// validHost accepts an IP address or a syntactically valid host name.
func validHost(h string) bool {
	if net.ParseIP(h) != nil {
		return true
	}
	return len(h) <= 253 && hostnameRe.MatchString(h)
}

// Validate checks the section; paths are relative to it (targets[0].host).
func (c Config) Validate() error {
	var errs []error
	if len(c.Targets) == 0 {
		errs = append(errs, cfgerr.Errorf("targets", "at least one target is required"))
	}
	for i, t := range c.Targets {
		base := fmt.Sprintf("targets[%d]", i)
		switch {
		case t.Host == "":
			errs = append(errs, cfgerr.Errorf(base+".host", "required"))
		case !validHost(t.Host):
			errs = append(errs, cfgerr.Errorf(base+".host", "%q is neither an IP address nor a host name", t.Host))
		}
		if t.Role != "" && !slices.Contains(Roles, t.Role) {
			errs = append(errs, cfgerr.Errorf(base+".role", "unknown role %q (known: gateway, isp, internet, collector, or empty)", t.Role))
		}
	}
	if c.Count < 1 || c.Count > 1000 {
		errs = append(errs, cfgerr.Errorf("count", "must be between 1 and 1000, not %d", c.Count))
	}
	if c.Interval < time.Millisecond || c.Interval > time.Minute {
		errs = append(errs, cfgerr.Errorf("interval", "must be between 1ms and 1m, not %s", c.Interval))
	}
	if c.Timeout < 0 {
		errs = append(errs, cfgerr.Errorf("timeout", "must not be negative (0 means count*interval + 2s)"))
	}
	if c.Size < minSize || c.Size > 65500 {
		errs = append(errs, cfgerr.Errorf("size", "must be between %d and 65500 bytes, not %d", minSize, c.Size))
	}
	switch c.Mode {
	case ModeAuto, ModePrivileged, ModeUnprivileged:
	default:
		errs = append(errs, cfgerr.Errorf("mode", "must be auto, privileged or unprivileged, not %q", c.Mode))
	}
	return errors.Join(errs...)
}

// Prober pings the configured targets.
type Prober struct {
	cfg  Config
	log  *slog.Logger
	now  func() time.Time
	auto autoMode
	// slow says, by target, that the last run was not all prompt replies
	// (measure.go): the next one starts with one Pinger for the run.
	slow []atomic.Bool
	// promptRTT is the package's promptRTT; tests raise it, so that a busy
	// machine's slower loopback does not change which way a run goes.
	promptRTT time.Duration
	// pingers counts the pro-bing Pingers run, for tests.
	pingers atomic.Int64
	// resolver looks up host names; tests point it at a loopback server.
	resolver *net.Resolver
}

var _ probe.Probe = (*Prober)(nil)

// New builds a Prober from a valid Config.
func New(c Config, d probe.Deps) (*Prober, error) {
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("ping: %w", err)
	}
	d = d.WithDefaults()
	c.Targets = append([]Target(nil), c.Targets...)
	return &Prober{cfg: c, log: d.Log, now: d.Now, resolver: net.DefaultResolver,
		slow: make([]atomic.Bool, len(c.Targets)), promptRTT: promptRTT}, nil
}

// Run pings every target and returns one point per target. It returns an
// error only when no ICMP socket could be opened.
func (p *Prober) Run(ctx context.Context) ([]point.Point, error) {
	privileged, err := p.socketMode()
	if err != nil {
		return nil, err
	}
	pts := make([]point.Point, len(p.cfg.Targets))
	errs := make([]error, len(p.cfg.Targets))
	sem := make(chan struct{}, maxParallel)
	var wg sync.WaitGroup
	for i, t := range p.cfg.Targets {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			pts[i], errs[i] = p.measure(ctx, i, t, privileged)
		})
	}
	wg.Wait()
	out := pts[:0]
	for i := range pts {
		if errs[i] == nil {
			out = append(out, pts[i])
		}
	}
	return out, errors.Join(errs...)
}
