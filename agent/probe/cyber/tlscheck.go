package cyber

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/probity-edu/probity/agent/probe"
	"github.com/probity-edu/probity/internal/config/cfgerr"
)

// TLSTarget is one TLS service: a URL (https://host[:port]/...) or an
// address (host:port).
type TLSTarget struct {
	Name       string `yaml:"name"`        // the target tag; default: host:port
	URL        string `yaml:"url"`         // https://...; port 443 unless given
	Address    string `yaml:"address"`     // host:port, for services that are not web pages
	ServerName string `yaml:"server_name"` // SNI and the name checked; default: the host
}

// TLSConfig is the `tls` section.
type TLSConfig struct {
	Targets  []TLSTarget `yaml:"targets"`
	WarnDays int         `yaml:"warn_days"` // a certificate with fewer days left is a finding; default 30
	CAFile   string      `yaml:"ca_file"`   // PEM, added to the system roots (a lab or an internal CA)
}

// defaultWarnDays is warn_days when the section leaves it out.
const defaultWarnDays = 30

// addr is host:port of the target.
func (t TLSTarget) addr() (string, error) {
	if t.URL != "" {
		u, err := url.Parse(t.URL)
		if err != nil || u.Scheme != "https" || u.Hostname() == "" {
			return "", fmt.Errorf("must be an https:// URL, not %q", t.URL)
		}
		port := u.Port()
		if port == "" {
			port = "443"
		}
		return net.JoinHostPort(u.Hostname(), port), nil
	}
	host, port, err := net.SplitHostPort(t.Address)
	if err != nil || host == "" || port == "" {
		return "", fmt.Errorf("must be host:port, not %q", t.Address)
	}
	return t.Address, nil
}

func (t TLSTarget) name() string {
	if t.Name != "" {
		return t.Name
	}
	a, _ := t.addr()
	return a
}

func (c *TLSConfig) validate() error {
	var errs []error
	if len(c.Targets) == 0 {
		errs = append(errs, cfgerr.Errorf("targets", "at least one target is required"))
	}
	seen := map[string]int{}
	for i, t := range c.Targets {
		base := fmt.Sprintf("targets[%d]", i)
		switch {
		case t.URL == "" && t.Address == "":
			errs = append(errs, cfgerr.Errorf(base, "needs url or address"))
			continue
		case t.URL != "" && t.Address != "":
			errs = append(errs, cfgerr.Errorf(base, "has both url and address; give one"))
			continue
		}
		if _, err := t.addr(); err != nil {
			key := base + ".url"
			if t.URL == "" {
				key = base + ".address"
			}
			errs = append(errs, cfgerr.Errorf(key, "%v", err))
			continue
		}
		if j, dup := seen[t.name()]; dup {
			errs = append(errs, cfgerr.Errorf(base+".name", "%q is already the name of targets[%d]", t.name(), j))
		}
		seen[t.name()] = i
	}
	if c.WarnDays < 0 || c.WarnDays > 365 {
		errs = append(errs, cfgerr.Errorf("warn_days", "must be between 1 and 365 (0 means %d), not %d", defaultWarnDays, c.WarnDays))
	}
	if c.CAFile != "" {
		if _, err := tlsRoots(c.CAFile); err != nil {
			errs = append(errs, cfgerr.Errorf("ca_file", "%v", err))
		}
	}
	return errors.Join(errs...)
}

// tlsRoots is the system pool plus the certificates of a PEM file.
func tlsRoots(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s holds no PEM certificate", path)
	}
	return pool, nil
}

func (c *TLSConfig) build(probe.Deps) (checker, error) {
	t := &tlsCheck{targets: c.Targets, warnDays: c.WarnDays}
	if t.warnDays == 0 {
		t.warnDays = defaultWarnDays
	}
	if c.CAFile != "" {
		pool, err := tlsRoots(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("tls: ca_file: %w", err)
		}
		t.roots = pool
	}
	return t, nil
}

type tlsCheck struct {
	targets  []TLSTarget
	warnDays int
	roots    *x509.CertPool // nil: the system roots
}

func (c *tlsCheck) run(ctx context.Context, e *env) []Result {
	out := make([]Result, len(c.targets))
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i, t := range c.targets {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			out[i] = c.check(ctx, e, t)
		})
	}
	wg.Wait()
	return out
}

// legacyCiphers are every suite Go implements, insecure ones included, so
// that a server offering TLS 1.0 or 1.1 with only old suites (RSA key
// exchange, 3DES) is still seen to accept the version. The handshake is
// used for nothing else.
func legacyCiphers() []uint16 {
	var ids []uint16
	for _, s := range tls.CipherSuites() {
		ids = append(ids, s.ID)
	}
	for _, s := range tls.InsecureCipherSuites() {
		ids = append(ids, s.ID)
	}
	return ids
}

// handshake connects to addr and completes a TLS handshake limited to
// versions lo..hi. Certificates are not checked here: check verifies the
// chain itself, so that one handshake gives both the chain's problems and
// the certificate's dates.
func handshake(ctx context.Context, addr, serverName string, lo, hi uint16, timeout time.Duration) (tls.ConnectionState, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conf := &tls.Config{
		ServerName:         serverName,
		MinVersion:         lo,
		MaxVersion:         hi,
		InsecureSkipVerify: true, // verified by check, against the roots, after the handshake
	}
	if lo < tls.VersionTLS12 {
		conf.CipherSuites = legacyCiphers()
	}
	d := tls.Dialer{NetDialer: &net.Dialer{Timeout: timeout}, Config: conf}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return tls.ConnectionState{}, err
	}
	defer c.Close()
	return c.(*tls.Conn).ConnectionState(), nil
}

func (c *tlsCheck) check(ctx context.Context, e *env, t TLSTarget) Result {
	addr, _ := t.addr() // checked by validate
	host, _, _ := net.SplitHostPort(addr)
	sni := t.ServerName
	if sni == "" {
		sni = host
	}
	r := Result{Check: CheckTLS, Target: t.name(), OK: true, Fields: map[string]any{"address": addr}}
	timeout := e.cfg.Timeout

	st, err := handshake(ctx, addr, sni, tls.VersionTLS12, tls.VersionTLS13, timeout)
	if err != nil {
		// Perhaps the server speaks only TLS 1.0 or 1.1: then the versions
		// below are the finding, with the chain still checked.
		if st2, err2 := handshake(ctx, addr, sni, tls.VersionTLS10, tls.VersionTLS11, timeout); err2 == nil {
			st, err = st2, nil
		}
	}
	if err != nil {
		r.OK = false
		r.Fields["result"] = string(probe.Classify(err))
		r.Detail = fmt.Sprintf("No TLS handshake with %s: %v.", addr, err)
		return r
	}
	var problems, fixes []string
	sev := ""
	raise := func(s string) {
		if sev != SeverityHigh {
			sev = s
		}
	}

	leaf := st.PeerCertificates[0]
	now := e.deps.Now()
	// Whole days, towards zero: 10.9 days left is 10, expired 3.2 days ago is -3.
	daysLeft := int64(leaf.NotAfter.Sub(now).Hours() / 24)
	r.Fields["days_left"] = daysLeft
	r.Fields["not_after"] = leaf.NotAfter.UTC().Format(time.RFC3339)
	r.Fields["subject"] = leaf.Subject.CommonName
	r.Fields["issuer"] = leaf.Issuer.CommonName

	opts := x509.VerifyOptions{Roots: c.roots, DNSName: sni, Intermediates: x509.NewCertPool(), CurrentTime: now}
	for _, ic := range st.PeerCertificates[1:] {
		opts.Intermediates.AddCert(ic)
	}
	_, verr := leaf.Verify(opts)
	r.Fields["chain_ok"] = verr == nil
	if verr != nil {
		why := chainProblem(verr)
		r.Fields["chain_error"] = why
		raise(SeverityHigh)
		if why != "expired" { // said below, with the date
			problems = append(problems, "the certificate is not valid: "+why)
		}
		switch why {
		case "expired":
		case "not yet valid":
			fixes = append(fixes, "Check the device's clock and the certificate's start date.")
		case "name mismatch":
			fixes = append(fixes, "Install a certificate that names "+sni+" (in its subject alternative names).")
		case "unknown authority":
			fixes = append(fixes, "Install a certificate from a public certificate authority, or give devices the school's own CA, and serve the full chain including intermediates.")
		default:
			fixes = append(fixes, "Replace the certificate with a valid one from a trusted certificate authority.")
		}
	}
	switch {
	case now.After(leaf.NotAfter):
		raise(SeverityHigh)
		problems = append(problems, fmt.Sprintf("the certificate expired on %s", leaf.NotAfter.UTC().Format(time.DateOnly)))
		fixes = append(fixes, "Renew the certificate now, and set up automatic renewal (for example ACME) so it cannot lapse again.")
	case daysLeft < int64(c.warnDays):
		raise(SeverityMedium)
		problems = append(problems, fmt.Sprintf("the certificate expires in %d days (on %s)", daysLeft, leaf.NotAfter.UTC().Format(time.DateOnly)))
		fixes = append(fixes, "Renew the certificate before it expires, and set up automatic renewal.")
	}

	r.Fields["max_version"] = tls.VersionName(st.Version)
	r.Fields["cipher"] = tls.CipherSuiteName(st.CipherSuite)
	var legacy []string
	for _, v := range []struct {
		ver   uint16
		field string
	}{{tls.VersionTLS10, "tls10"}, {tls.VersionTLS11, "tls11"}} {
		_, err := handshake(ctx, addr, sni, v.ver, v.ver, timeout)
		r.Fields[v.field] = err == nil
		if err == nil {
			legacy = append(legacy, tls.VersionName(v.ver))
		}
	}
	if len(legacy) > 0 {
		raise(SeverityMedium)
		problems = append(problems, "it accepts "+strings.Join(legacy, " and "))
		fixes = append(fixes, "Turn off TLS 1.0 and 1.1 on the service: allow TLS 1.2 and 1.3 only.")
	}

	if ctx.Err() != nil {
		// The run ended during the version probes: their "refused" means nothing.
		r.OK = false
		r.Detail = fmt.Sprintf("%s: the probe's run ended before the check finished.", addr)
		return r
	}
	if len(problems) == 0 {
		r.Detail = fmt.Sprintf("%s: valid certificate with %d days left; %s with %s; TLS 1.0 and 1.1 refused.",
			addr, daysLeft, r.Fields["max_version"], r.Fields["cipher"])
		return r
	}
	r.Finding, r.Severity = true, sev
	r.Detail = fmt.Sprintf("%s: %s.", addr, strings.Join(problems, "; "))
	r.Fix = strings.Join(fixes, " ")
	return r
}

// chainProblem names why a certificate did not verify.
func chainProblem(err error) string {
	var invalid x509.CertificateInvalidError
	var unknown x509.UnknownAuthorityError
	var host x509.HostnameError
	switch {
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		if strings.Contains(invalid.Detail, "before") {
			return "not yet valid"
		}
		return "expired"
	case errors.As(err, &host):
		return "name mismatch"
	case errors.As(err, &unknown):
		return "unknown authority"
	case errors.As(err, &invalid):
		return "invalid: " + invalid.Error()
	}
	return err.Error()
}
