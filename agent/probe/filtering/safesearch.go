package filtering

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/probity-edu/probity/agent/probe"
	"github.com/probity-edu/probity/agent/probe/filtering/classify"
	"github.com/probity-edu/probity/agent/probe/filtering/suite"
	"github.com/probity-edu/probity/internal/point"
)

// SafeSearch methods, as the safesearch measurement's method field.
const (
	MethodDNS     = "dns"     // the resolver answers with the engine's enforced name or address
	MethodBlocked = "blocked" // the resolver refuses the engine altogether (NXDOMAIN): nobody searches it
	MethodNone    = "none"    // not enforced
	// Verify pages report the method named in the suite (header, cookie,
	// query): what a proxy does that the page shows.
)

// ssResult is what one SafeSearch check found.
type ssResult struct {
	enforced bool
	method   string
	level    string
	detail   []string
	errs     []string
	answered bool // DNS answered or the verify page loaded: we can tell
}

// safeSearch checks one engine host as one profile: first the DNS answer
// pupils' devices get, then, when DNS shows nothing and the suite has a
// verify page, that page fetched through the profile's path, which sees
// header, cookie or query rewriting by an intercepting proxy.
func (p *Prober) safeSearch(ctx context.Context, t task) point.Point {
	began := time.Now()
	tg := t.target
	r := p.safeSearchDNS(ctx, tg)
	if !r.enforced && tg.Verify != nil {
		p.safeSearchVerify(ctx, t, &r)
	}
	if r.method == "" {
		r.method = MethodNone
	}
	f := map[string]any{
		"ok":          r.answered,
		"enforced":    r.enforced,
		"method":      r.method,
		"duration_ms": probe.Ms(time.Since(began)),
	}
	if r.level != "" {
		f["level"] = r.level
	}
	if len(r.detail) > 0 {
		f["detail"] = strings.Join(r.detail, "; ")
	}
	if len(r.errs) > 0 {
		f["error"] = strings.Join(r.errs, "; ")
	}
	if r.answered && !r.enforced {
		p.log.Warn("SafeSearch not enforced", "profile", t.prof.name, "engine", tg.Engine, "host", tg.Host, "detail", f["detail"])
	}
	tags := map[string]string{"suite": t.suite.Name, "engine": tg.Engine, "target": tg.ID, "host": tg.Host, "profile": t.prof.name}
	return point.New("safesearch", tags, f, p.now())
}

func (p *Prober) safeSearchDNS(ctx context.Context, tg *suite.Target) ssResult {
	ctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()
	ans, err := classify.Lookup(ctx, p.resolver, tg.Host)
	if err != nil {
		return ssResult{errs: []string{"dns: " + err.Error()}}
	}
	r := ssResult{answered: true}
	if ans.NXDomain {
		r.enforced, r.method = true, MethodBlocked
		r.detail = append(r.detail, "dns: NXDOMAIN")
		return r
	}
	chain := ans.Chain()
	r.detail = append(r.detail, "dns: "+strings.Join(chain, ","))
	if e, ok := enforcedBy(tg.Enforced, ans); ok {
		r.enforced, r.method, r.level = true, MethodDNS, e.Level
	}
	return r
}

// enforcedBy returns the enforcement an answer shows: a CNAME to an
// enforced name or an enforced address anywhere in the chain.
func enforcedBy(es []suite.Enforcement, ans classify.Answer) (suite.Enforcement, bool) {
	for _, e := range es {
		if e.CNAME != "" && slices.Contains(ans.CNAMEs, strings.ToLower(e.CNAME)) {
			return e, true
		}
		for _, s := range e.Addresses {
			if slices.Contains(ans.Addrs, netip.MustParseAddr(s)) { // checked by the suite loader
				return e, true
			}
		}
	}
	return suite.Enforcement{}, false
}

func (p *Prober) safeSearchVerify(ctx context.Context, t task, r *ssResult) {
	v := t.target.Verify
	body, err := p.fetch(ctx, v.URL, t.prof.opts)
	if err != nil {
		r.errs = append(r.errs, "verify: "+err.Error())
		return
	}
	r.answered = true
	for _, m := range v.Markers {
		// Patterns were compiled once by the suite loader's check; compile
		// again here rather than carry a cache for a handful of checks a day.
		if regexp.MustCompile("(?i)" + m.Pattern).Match(body) {
			r.enforced, r.level = true, m.Level
			r.method = v.Method
			if r.method == "" {
				r.method = "outcome"
			}
			r.detail = append(r.detail, "verify page shows "+orDefault(m.Level, "restriction"))
			return
		}
	}
	r.detail = append(r.detail, "verify page shows no restriction")
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// maxVerifyBody bounds how much of a verify page is read.
const maxVerifyBody = 1 << 20

// fetch GETs url along a profile's path (its proxy, or directly with names
// resolved by the school's resolver) and returns the body of a 2xx answer.
// The certificate must chain to the public roots or the school's
// inspection CA: a page nobody vouches for proves nothing.
func (p *Prober) fetch(ctx context.Context, url string, o classify.Options) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()
	tr := &http.Transport{
		DialContext:       p.dial,
		DisableKeepAlives: true,
		TLSClientConfig: &tls.Config{
			InsecureSkipVerify: true, // verified below against either pool
			VerifyConnection:   p.verifyEither,
		},
	}
	if o.Proxy != nil {
		tr.Proxy = http.ProxyURL(o.Proxy)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", "probity-filtering/1")
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("%s answered %s", url, resp.Status)
	}
	return io.ReadAll(io.LimitReader(resp.Body, maxVerifyBody))
}

// dial connects to addr, resolving a name through the school's resolver.
func (p *Prober) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if _, err := netip.ParseAddr(host); err != nil {
		ans, err := classify.Lookup(ctx, p.resolver, host)
		switch {
		case err != nil:
			return nil, err
		case ans.NXDomain || len(ans.Addrs) == 0:
			return nil, fmt.Errorf("%s: no address (%s)", host, map[bool]string{true: "NXDOMAIN", false: "NODATA"}[ans.NXDomain])
		}
		host = ans.Addrs[0].String()
	}
	return (&net.Dialer{}).DialContext(ctx, network, net.JoinHostPort(host, port))
}

// verifyEither accepts a chain to the public roots or to the inspection CA.
func (p *Prober) verifyEither(cs tls.ConnectionState) error {
	if len(cs.PeerCertificates) == 0 {
		return errors.New("no certificate")
	}
	leaf := cs.PeerCertificates[0]
	inter := x509.NewCertPool()
	for _, c := range cs.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	_, err := leaf.Verify(x509.VerifyOptions{Roots: p.roots, Intermediates: inter, DNSName: cs.ServerName})
	if err != nil && p.inspect != nil {
		if _, ierr := leaf.Verify(x509.VerifyOptions{Roots: p.inspect, Intermediates: inter, DNSName: cs.ServerName}); ierr == nil {
			return nil
		}
	}
	if err != nil {
		return fmt.Errorf("certificate from %q not trusted (set inspect_ca_file to the school's inspection CA): %w", leaf.Issuer.String(), err)
	}
	return nil
}
