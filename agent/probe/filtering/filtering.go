// Package filtering is the `filtering` probe: it runs test suites (package
// suite) against the school's web filter as each configured profile
// (student, staff, guest: a path and an identity), classifies every target
// (package classify, with block pages recognised by package blockpage) and
// writes one `filter` point per target and profile and one `safesearch`
// point per search-engine host and profile. The points are the record of
// each check that FM-6 asks for: when (the time), who (profile and agent),
// what (suite, category, target) and the outcome with its mechanism.
package filtering

import (
	"context"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"sync"
	"time"

	"github.com/probity-edu/probity/agent/probe"
	"github.com/probity-edu/probity/agent/probe/filtering/blockpage"
	"github.com/probity-edu/probity/agent/probe/filtering/classify"
	"github.com/probity-edu/probity/agent/probe/filtering/suite"
	"github.com/probity-edu/probity/internal/point"
)

// Prober runs the suites.
type Prober struct {
	cfg      Config
	suites   []*suite.Suite
	pages    *blockpage.Set
	profiles []profile
	resolver string
	sinkhole []netip.Addr
	roots    *x509.CertPool // nil: the system's
	inspect  *x509.CertPool
	log      *slog.Logger
	now      func() time.Time
}

// profile is a Profile made ready: its proxy URL carries the credentials.
type profile struct {
	name string
	opts classify.Options
}

var _ probe.Probe = (*Prober)(nil)

// New builds a Prober: it loads suites and block pages, reads the CA and
// password files and fixes the resolver, so that a broken file stops the
// agent at start rather than at the first run.
func New(c Config, d probe.Deps) (*Prober, error) {
	set, err := c.validate()
	if err != nil {
		return nil, fmt.Errorf("filtering: %w", err)
	}
	d = d.WithDefaults()
	p := &Prober{cfg: c, log: d.Log, now: d.Now}
	for _, n := range c.Suites {
		p.suites = append(p.suites, fill(set.Get(n), c.Targets))
	}
	if p.pages, err = blockpage.Load(c.BlockPagesDir); err != nil {
		return nil, fmt.Errorf("filtering: %w", err)
	}
	if c.CAFile != "" {
		if p.roots, err = loadPool(c.CAFile); err != nil {
			return nil, fmt.Errorf("filtering: ca_file: %w", err)
		}
	}
	if c.InspectCAFile != "" {
		if p.inspect, err = loadPool(c.InspectCAFile); err != nil {
			return nil, fmt.Errorf("filtering: inspect_ca_file: %w", err)
		}
	}
	if c.Resolver != "" {
		p.resolver, _ = probe.NormalizeResolver(c.Resolver) // checked by Validate
	} else {
		rs, err := probe.SystemResolvers(probe.ResolvConf)
		if err != nil {
			return nil, fmt.Errorf("filtering: no resolver configured: %w", err)
		}
		p.resolver = rs[0]
	}
	for _, a := range c.SinkholeAddresses {
		p.sinkhole = append(p.sinkhole, netip.MustParseAddr(a)) // checked by Validate
	}
	for _, pr := range c.profiles() {
		u, err := pr.proxyURL()
		if err != nil {
			return nil, fmt.Errorf("filtering: %w", err)
		}
		o := classify.Options{
			Resolver: p.resolver, SinkholeAddrs: p.sinkhole, AllowPrivate: c.AllowPrivate,
			Timeout: c.Timeout, TimeoutIsBlock: c.TimeoutIsBlock, RootCAs: p.roots, InspectCAs: p.inspect,
			Proxy: u, BlockPages: p.pages,
		}
		p.profiles = append(p.profiles, profile{name: pr.Name, opts: o})
	}
	return p, nil
}

func loadPool(file string) (*x509.CertPool, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("%s holds no PEM certificate", file)
	}
	return pool, nil
}

// fill returns a copy of s whose placeholder targets have the addresses
// the school configured; the shipped suite is never changed.
func fill(s *suite.Suite, targets map[string]string) *suite.Suite {
	out := *s
	out.Categories = make([]suite.Category, len(s.Categories))
	for i, c := range s.Categories {
		c.Targets = append([]suite.Target(nil), c.Targets...)
		for j := range c.Targets {
			t := &c.Targets[j]
			v, ok := targets[t.ID]
			if !ok || !t.Placeholder {
				continue
			}
			if len(t.Ports) > 0 {
				t.Host = v
			} else {
				t.URL = v
			}
		}
		out.Categories[i] = c
	}
	return &out
}

// task is one target checked as one profile.
type task struct {
	suite  *suite.Suite
	cat    *suite.Category
	target *suite.Target
	prof   *profile
}

// Run checks every configured target of every suite as every profile.
// Unconfigured placeholders are skipped: no point is evidence of nothing,
// and the rules that need them say "not enough data".
func (p *Prober) Run(ctx context.Context) ([]point.Point, error) {
	var tasks []task
	for i := range p.profiles {
		for _, s := range p.suites {
			for ci := range s.Categories {
				c := &s.Categories[ci]
				for ti := range c.Targets {
					if t := &c.Targets[ti]; t.Configured() {
						tasks = append(tasks, task{suite: s, cat: c, target: t, prof: &p.profiles[i]})
					}
				}
			}
		}
	}
	results := make([][]point.Point, len(tasks))
	work := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < min(p.cfg.Workers, len(tasks)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				results[i] = p.check(ctx, tasks[i])
			}
		}()
	}
	for i := range tasks {
		work <- i
	}
	close(work)
	wg.Wait()

	var pts []point.Point
	counts := map[string]int{}
	for _, rs := range results {
		for _, pt := range rs {
			if pass, ok := pt.Fields["pass"].(bool); ok {
				if pass {
					counts["as_expected"]++
				} else if pt.Fields["ok"] == true {
					counts["unexpected"]++
				} else {
					counts["error"]++
				}
			}
		}
		pts = append(pts, rs...)
	}
	p.log.Info("filtering suite run", "checks", len(tasks), "as_expected", counts["as_expected"],
		"unexpected", counts["unexpected"], "errors", counts["error"])
	return pts, nil
}

// check runs one task and returns its points.
func (p *Prober) check(ctx context.Context, t task) []point.Point {
	tags := map[string]string{"suite": t.suite.Name, "category": t.cat.ID, "kind": t.cat.Kind, "target": t.target.ID, "profile": t.prof.name}
	switch {
	case t.cat.Kind == suite.KindSafeSearch:
		return []point.Point{p.safeSearch(ctx, t)}
	case len(t.target.Ports) > 0:
		return p.ports(ctx, t, tags)
	case t.target.DNSOnly:
		began := time.Now()
		r := p.dnsOnly(ctx, t.target.Host)
		r.DurationMs = probe.Ms(time.Since(began))
		return []point.Point{p.filterPoint(tags, t, t.target.Host, r)}
	}
	target := t.target.URL
	if target == "" {
		target = t.target.Host
		if t.cat.Kind == suite.KindCircumvention {
			// A DNS-over-HTTPS or proxy service is used over HTTPS.
			target = "https://" + t.target.Host + "/"
		}
	}
	r := classify.Check(ctx, target, t.prof.opts)
	return []point.Point{p.filterPoint(tags, t, target, r)}
}

// filterPoint writes one `filter` point. pass says whether the outcome is
// the expected one; ok is false when we could not tell (outcome error).
func (p *Prober) filterPoint(tags map[string]string, t task, target string, r classify.Result) point.Point {
	tags["expect"] = t.cat.Expect
	pass := false
	switch t.cat.Expect {
	case suite.ExpectBlock:
		pass = r.Outcome == classify.Blocked
	case suite.ExpectAllow:
		pass = r.Outcome == classify.Allowed
	}
	f := map[string]any{
		"ok":          r.Outcome != classify.Error,
		"pass":        pass,
		"outcome":     string(r.Outcome),
		"url":         target,
		"duration_ms": r.DurationMs,
	}
	if r.Mechanism != "" {
		f["mechanism"] = string(r.Mechanism)
	}
	if r.Detail != "" {
		f["detail"] = r.Detail
	}
	if r.Error != "" {
		f["error"] = r.Error
	}
	if r.Outcome != classify.Error && !pass {
		p.log.Warn("filtering check not as expected", "profile", t.prof.name, "target", t.target.ID,
			"expect", t.cat.Expect, "outcome", r.Outcome, "mechanism", r.Mechanism, "detail", r.Detail)
	}
	return point.New("filter", tags, f, p.now())
}
