// Package dns measures name resolution through given resolvers with the
// miekg/dns client: for each resolver and query it records whether an
// answer came back, its rcode, how long it took, and the resolution chain
// (CNAMEs and addresses), which is how SafeSearch enforcement and the
// use-application-dns.net canary are observed. One `dns` point per
// resolver and query.
package dns

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/probity-edu/probity/agent/probe"
	"github.com/probity-edu/probity/internal/config/cfgerr"
	"github.com/probity-edu/probity/internal/point"
)

// QueryTypes are the record types a query may ask for.
var QueryTypes = map[string]uint16{
	"A":     mdns.TypeA,
	"AAAA":  mdns.TypeAAAA,
	"CNAME": mdns.TypeCNAME,
	"TXT":   mdns.TypeTXT,
	"MX":    mdns.TypeMX,
	"NS":    mdns.TypeNS,
}

// maxParallel bounds how many queries are in flight at once.
const maxParallel = 8

// Query is one name to resolve.
type Query struct {
	Name string `yaml:"name"`
	Type string `yaml:"type"` // A (default), AAAA, CNAME, TXT, MX or NS
}

// Config is the `dns` section of a probe.
type Config struct {
	Resolvers []string      `yaml:"resolvers"` // ip:port (a bare IP means port 53); empty: /etc/resolv.conf
	Queries   []Query       `yaml:"queries"`
	Timeout   time.Duration `yaml:"timeout"` // per query, including a retry over TCP
}

// Defaults are the values a `dns` section starts from.
var Defaults = Config{Timeout: 2 * time.Second}

// Validate checks the section; paths are relative to it (queries[0].name).
func (c Config) Validate() error {
	var errs []error
	for i, r := range c.Resolvers {
		if _, err := probe.NormalizeResolver(r); err != nil {
			errs = append(errs, cfgerr.Errorf(fmt.Sprintf("resolvers[%d]", i), "%v", err))
		}
	}
	if len(c.Queries) == 0 {
		errs = append(errs, cfgerr.Errorf("queries", "at least one query is required"))
	}
	for i, q := range c.Queries {
		base := fmt.Sprintf("queries[%d]", i)
		if q.Name == "" {
			errs = append(errs, cfgerr.Errorf(base+".name", "required"))
		} else if _, ok := mdns.IsDomainName(q.Name); !ok {
			errs = append(errs, cfgerr.Errorf(base+".name", "%q is not a domain name", q.Name))
		}
		if _, ok := QueryTypes[strings.ToUpper(q.Type)]; q.Type != "" && !ok {
			errs = append(errs, cfgerr.Errorf(base+".type", "unknown type %q (known: A, AAAA, CNAME, TXT, MX, NS)", q.Type))
		}
	}
	if c.Timeout <= 0 || c.Timeout > time.Minute {
		errs = append(errs, cfgerr.Errorf("timeout", "must be between 0 and 1m, not %s", c.Timeout))
	}
	return errors.Join(errs...)
}

// Prober resolves the configured queries through every resolver.
type Prober struct {
	resolvers []string
	queries   []Query // names without the trailing dot, lower case; types upper case
	timeout   time.Duration
	log       *slog.Logger
	now       func() time.Time
}

var _ probe.Probe = (*Prober)(nil)

// New builds a Prober. With no resolvers configured it uses the name
// servers of /etc/resolv.conf, read once here.
func New(c Config, d probe.Deps) (*Prober, error) {
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("dns: %w", err)
	}
	d = d.WithDefaults()
	p := &Prober{timeout: c.Timeout, log: d.Log, now: d.Now}
	for _, r := range c.Resolvers {
		n, _ := probe.NormalizeResolver(r) // checked by Validate
		p.resolvers = append(p.resolvers, n)
	}
	if len(p.resolvers) == 0 {
		rs, err := probe.SystemResolvers(probe.ResolvConf)
		if err != nil {
			return nil, fmt.Errorf("dns: no resolvers configured: %w", err)
		}
		p.resolvers = rs
	}
	for _, q := range c.Queries {
		q.Name = strings.TrimSuffix(strings.ToLower(q.Name), ".")
		q.Type = strings.ToUpper(q.Type)
		if q.Type == "" {
			q.Type = "A"
		}
		p.queries = append(p.queries, q)
	}
	return p, nil
}

// Run sends every query to every resolver and returns one point each. A
// resolver that does not answer is data, never an error.
func (p *Prober) Run(ctx context.Context) ([]point.Point, error) {
	pts := make([]point.Point, len(p.resolvers)*len(p.queries))
	sem := make(chan struct{}, maxParallel)
	var wg sync.WaitGroup
	for i, r := range p.resolvers {
		for j, q := range p.queries {
			wg.Go(func() {
				sem <- struct{}{}
				defer func() { <-sem }()
				pts[i*len(p.queries)+j] = p.query(ctx, r, q)
			})
		}
	}
	wg.Wait()
	return pts, nil
}
