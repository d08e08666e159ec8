// Package httpcheck measures HTTP(S) endpoints: whether they answer with
// an expected status, how long each phase takes (DNS, connect, TLS, first
// byte, total, from net/http/httptrace), and how many days the server's
// certificate has left. Every run opens new connections, so each one
// measures a full handshake. One `http` point per target.
package httpcheck

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/probity-edu/probity/agent/probe"
	"github.com/probity-edu/probity/internal/config/cfgerr"
	"github.com/probity-edu/probity/internal/point"
)

// maxParallel bounds how many targets are checked at once.
const maxParallel = 8

// maxRedirects is how many redirects are followed before giving up.
const maxRedirects = 5

// Methods a target may use: probes read, they never change anything.
var Methods = []string{http.MethodGet, http.MethodHead, http.MethodOptions}

// Target is one URL to check.
type Target struct {
	URL          string `yaml:"url"`
	Name         string `yaml:"name"`          // the target tag; default: the URL
	Role         string `yaml:"role"`          // e.g. cloud; optional
	Method       string `yaml:"method"`        // GET (default), HEAD or OPTIONS
	ExpectStatus []int  `yaml:"expect_status"` // default: any 2xx or 3xx
}

// Config is the `http` section of a probe.
type Config struct {
	Targets            []Target      `yaml:"targets"`
	Timeout            time.Duration `yaml:"timeout"` // per target, the whole exchange
	FollowRedirects    bool          `yaml:"follow_redirects"`
	InsecureSkipVerify bool          `yaml:"insecure_skip_verify"`
	CAFile             string        `yaml:"ca_file"`  // PEM, added to the system pool
	Resolver           string        `yaml:"resolver"` // ip:port of a DNS server to use instead of the system's
}

// Defaults are the values an `http` section starts from.
var Defaults = Config{Timeout: 10 * time.Second, FollowRedirects: true}

// name is the target tag: Name, or the URL.
func (t Target) name() string {
	if t.Name != "" {
		return t.Name
	}
	return t.URL
}

// Validate checks the section; paths are relative to it (targets[0].url).
func (c Config) Validate() error {
	var errs []error
	if len(c.Targets) == 0 {
		errs = append(errs, cfgerr.Errorf("targets", "at least one target is required"))
	}
	seen := map[string]int{}
	for i, t := range c.Targets {
		base := fmt.Sprintf("targets[%d]", i)
		if u, err := url.Parse(t.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, cfgerr.Errorf(base+".url", "must be an http:// or https:// URL, not %q", t.URL))
		}
		if j, dup := seen[t.name()]; dup {
			errs = append(errs, cfgerr.Errorf(base+".name", "%q is already the name of targets[%d]", t.name(), j))
		}
		seen[t.name()] = i
		if t.Method != "" && !slices.Contains(Methods, t.Method) {
			errs = append(errs, cfgerr.Errorf(base+".method", "must be GET, HEAD or OPTIONS, not %q", t.Method))
		}
		for k, s := range t.ExpectStatus {
			if s < 100 || s > 599 {
				errs = append(errs, cfgerr.Errorf(fmt.Sprintf("%s.expect_status[%d]", base, k), "%d is not an HTTP status", s))
			}
		}
	}
	if c.Timeout <= 0 || c.Timeout > 5*time.Minute {
		errs = append(errs, cfgerr.Errorf("timeout", "must be between 0 and 5m, not %s", c.Timeout))
	}
	if c.Resolver != "" {
		if _, err := probe.NormalizeResolver(c.Resolver); err != nil {
			errs = append(errs, cfgerr.Errorf("resolver", "%v", err))
		}
	}
	if c.InsecureSkipVerify && c.CAFile != "" {
		errs = append(errs, cfgerr.Errorf("ca_file", "has no effect with insecure_skip_verify: true"))
	}
	return errors.Join(errs...)
}

// Prober checks the configured targets.
type Prober struct {
	cfg    Config
	client *http.Client
	log    *slog.Logger
	now    func() time.Time
}

var _ probe.Probe = (*Prober)(nil)

// New builds a Prober with its own transport. It reads ca_file here.
func New(c Config, d probe.Deps) (*Prober, error) {
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("http: %w", err)
	}
	d = d.WithDefaults()
	client, err := newClient(c)
	if err != nil {
		return nil, fmt.Errorf("http: %w", err)
	}
	c.Targets = append([]Target(nil), c.Targets...)
	for i := range c.Targets {
		if c.Targets[i].Method == "" {
			c.Targets[i].Method = http.MethodGet
		}
	}
	return &Prober{cfg: c, client: client, log: d.Log, now: d.Now}, nil
}

// Run checks every target and returns one point each. A target that fails
// is data, never an error.
func (p *Prober) Run(ctx context.Context) ([]point.Point, error) {
	pts := make([]point.Point, len(p.cfg.Targets))
	sem := make(chan struct{}, maxParallel)
	var wg sync.WaitGroup
	for i, t := range p.cfg.Targets {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			pts[i] = p.check(ctx, t)
		})
	}
	wg.Wait()
	return pts, nil
}

// statusOK reports whether code is what the target expects.
func statusOK(code int, expect []int) bool {
	if len(expect) == 0 {
		return code >= 200 && code < 400
	}
	return slices.Contains(expect, code)
}

// detail is a short description of err for the error field: the URL and
// method that url.Error repeats are dropped, and the length is capped.
func detail(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	s := strings.TrimSpace(err.Error())
	if len(s) > 200 {
		s = s[:197] + "..."
	}
	return s
}
