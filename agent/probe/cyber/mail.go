package cyber

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/probity-edu/probity/agent/probe"
	"github.com/probity-edu/probity/internal/config/cfgerr"
)

// MailConfig is the `mail` section: the school's mail domains, whose SPF,
// DMARC, MTA-STS and TLS-RPT records are read from DNS.
type MailConfig struct {
	Domains []string `yaml:"domains"`
	// Resolver is ip:port (a bare IP means port 53) of the DNS server to
	// ask; empty: the first nameserver of /etc/resolv.conf.
	Resolver string `yaml:"resolver"`
}

func (c *MailConfig) validate() error {
	var errs []error
	if len(c.Domains) == 0 {
		errs = append(errs, cfgerr.Errorf("domains", "at least one domain is required"))
	}
	seen := map[string]int{}
	for i, d := range c.Domains {
		key := fmt.Sprintf("domains[%d]", i)
		n := normDomain(d)
		if _, ok := mdns.IsDomainName(n); !ok || !strings.Contains(n, ".") || strings.IndexFunc(n, notHostChar) >= 0 {
			errs = append(errs, cfgerr.Errorf(key, "%q is not a mail domain such as school.example", d))
			continue
		}
		if j, dup := seen[n]; dup {
			errs = append(errs, cfgerr.Errorf(key, "%q is already domains[%d]", d, j))
		}
		seen[n] = i
	}
	if c.Resolver != "" {
		if _, err := probe.NormalizeResolver(c.Resolver); err != nil {
			errs = append(errs, cfgerr.Errorf("resolver", "%v", err))
		}
	}
	return errors.Join(errs...)
}

// notHostChar is true for a rune no host name has.
func notHostChar(r rune) bool {
	return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '.' || r == '_')
}

func normDomain(d string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(d)), ".")
}

func (c *MailConfig) build(probe.Deps) (checker, error) {
	m := &mailCheck{}
	for _, d := range c.Domains {
		m.domains = append(m.domains, normDomain(d))
	}
	if c.Resolver != "" {
		m.resolver, _ = probe.NormalizeResolver(c.Resolver) // checked by validate
		return m, nil
	}
	rs, err := probe.SystemResolvers(probe.ResolvConf)
	if err != nil {
		return nil, fmt.Errorf("mail: no resolver configured: %w", err)
	}
	m.resolver = rs[0]
	return m, nil
}

type mailCheck struct {
	domains  []string
	resolver string
}

// mailRecords are the four lookups of one domain, each one result.
const mailRecords = 4

func (m *mailCheck) run(ctx context.Context, e *env) []Result {
	out := make([]Result, len(m.domains)*mailRecords)
	var wg sync.WaitGroup
	for i, d := range m.domains {
		wg.Go(func() { copy(out[i*mailRecords:], m.domain(ctx, d, e.cfg.Timeout)) })
	}
	wg.Wait()
	return out
}

// txtLookup is what one TXT query found: the records that start with the
// wanted version tag, or why there was no answer.
type txtLookup struct {
	records []string
	nx      bool  // NXDOMAIN
	err     error // no usable answer: timeout, SERVFAIL, REFUSED
}

func (m *mailCheck) domain(ctx context.Context, d string, timeout time.Duration) []Result {
	var (
		spf, dmarc, sts, rpt txtLookup
		wg                   sync.WaitGroup
	)
	wg.Go(func() { spf = m.txt(ctx, d, "v=spf1", timeout) })
	wg.Go(func() { dmarc = m.txt(ctx, "_dmarc."+d, "v=DMARC1", timeout) })
	wg.Go(func() { sts = m.txt(ctx, "_mta-sts."+d, "v=STSv1", timeout) })
	wg.Go(func() { rpt = m.txt(ctx, "_smtp._tls."+d, "v=TLSRPTv1", timeout) })
	wg.Wait()
	if spf.nx {
		// The domain itself does not exist: its other records say nothing.
		gone := fmt.Errorf("%s does not exist (NXDOMAIN)", d)
		for _, l := range []*txtLookup{&dmarc, &sts, &rpt} {
			*l = txtLookup{err: gone}
		}
	}
	return []Result{
		spfResult(d, spf),
		dmarcResult(d, dmarc),
		notedResult(CheckMTASTS, d, "_mta-sts."+d, "MTA-STS", sts),
		notedResult(CheckTLSRPT, d, "_smtp._tls."+d, "TLS-RPT", rpt),
	}
}

// txt asks for the TXT records at name and keeps those whose text (the
// strings joined, as RFC 7208 and 7489 say) starts with tag followed by a
// space, a semicolon or nothing.
func (m *mailCheck) txt(ctx context.Context, name, tag string, timeout time.Duration) txtLookup {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	q := new(mdns.Msg)
	q.SetQuestion(mdns.Fqdn(name), mdns.TypeTXT)
	q.SetEdns0(1232, false)
	resp, err := exchangeTXT(ctx, q, m.resolver, timeout)
	if err != nil {
		return txtLookup{err: fmt.Errorf("no answer from %s: %s", m.resolver, probe.Classify(err))}
	}
	switch resp.Rcode {
	case mdns.RcodeSuccess:
	case mdns.RcodeNameError:
		return txtLookup{nx: true}
	default:
		return txtLookup{err: fmt.Errorf("%s answered %s", m.resolver, mdns.RcodeToString[resp.Rcode])}
	}
	var l txtLookup
	for _, rr := range resp.Answer {
		t, ok := rr.(*mdns.TXT) // the TXT at the end of any CNAME chain
		if !ok {
			continue
		}
		s := strings.Join(t.Txt, "")
		if len(s) >= len(tag) && strings.EqualFold(s[:len(tag)], tag) &&
			(len(s) == len(tag) || s[len(tag)] == ' ' || s[len(tag)] == ';') {
			l.records = append(l.records, s)
		}
	}
	return l
}

// exchangeTXT asks over UDP and, when the answer is truncated, over TCP.
func exchangeTXT(ctx context.Context, q *mdns.Msg, resolver string, timeout time.Duration) (*mdns.Msg, error) {
	udp := &mdns.Client{Net: "udp", UDPSize: 1232, Timeout: timeout}
	resp, _, err := udp.ExchangeContext(ctx, q, resolver)
	if err != nil || !resp.Truncated {
		return resp, err
	}
	tcp := &mdns.Client{Net: "tcp", Timeout: timeout}
	resp, _, err = tcp.ExchangeContext(ctx, q, resolver)
	return resp, err
}

// clip keeps a record short enough for a field.
func clip(s string) string {
	const max = 512
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}

func spfResult(d string, l txtLookup) Result {
	r := Result{Check: CheckSPF, Target: d, OK: true, Fields: map[string]any{"records": int64(len(l.records))}}
	switch {
	case l.err != nil:
		r.OK, r.Detail = false, "The SPF record of "+d+" could not be read: "+l.err.Error()+"."
		return r
	case l.nx:
		r.OK, r.Detail = false, d+" does not exist in DNS (NXDOMAIN): check the domain name in the configuration."
		return r
	case len(l.records) == 0:
		r.Finding, r.Severity = true, SeverityHigh
		r.Detail = d + " has no SPF record, so anyone can send mail that claims to come from it."
		r.Fix = "Publish a TXT record at " + d + " such as \"v=spf1 include:<your mail provider> -all\", listing every service that sends mail as " + d + "."
		return r
	case len(l.records) > 1:
		r.Finding, r.Severity = true, SeverityMedium
		r.Detail = fmt.Sprintf("%s has %d SPF records; receivers must then treat SPF as broken (permerror).", d, len(l.records))
		r.Fix = "Merge the SPF records of " + d + " into one TXT record starting \"v=spf1\" and delete the others."
		return r
	}
	rec := l.records[0]
	r.Fields["record"] = clip(rec)
	all, redirect := spfAll(rec)
	r.Fields["all"] = all
	switch all {
	case "-all":
		r.Detail = d + " has an SPF record ending in -all: mail from other servers fails SPF."
	case "~all":
		r.Detail = d + " has an SPF record ending in ~all (soft fail): mail from other servers is marked, not refused; -all is stricter once every sender is listed."
	case "+all", "?all":
		r.Finding, r.Severity = true, SeverityMedium
		r.Detail = d + "'s SPF record ends in " + all + ", which lets any server on the internet pass SPF for it."
		r.Fix = "End the SPF record of " + d + " with -all (or ~all while checking), after listing every service that sends mail as " + d + "."
	default: // no all mechanism
		if redirect != "" {
			r.Fields["redirect"] = redirect
			r.Detail = d + "'s SPF record takes its policy from " + redirect + " (redirect=), which was not followed."
			break
		}
		r.Finding, r.Severity = true, SeverityMedium
		r.Detail = d + "'s SPF record has no all mechanism, which means neutral (?all) for every server not listed."
		r.Fix = "End the SPF record of " + d + " with -all (or ~all while checking)."
	}
	return r
}

// spfAll returns the qualified all mechanism of an SPF record ("-all",
// "~all", "+all", "?all"; "" when there is none) and its redirect= target.
func spfAll(rec string) (all, redirect string) {
	for _, term := range strings.Fields(rec)[1:] {
		t := strings.ToLower(term)
		switch {
		case t == "all":
			all = "+all"
		case len(t) == 4 && strings.ContainsAny(t[:1], "+-~?") && t[1:] == "all":
			all = t
		case strings.HasPrefix(t, "redirect="):
			redirect = term[len("redirect="):]
		}
	}
	return all, redirect
}

// dmarcTags parses "v=DMARC1; p=reject; rua=mailto:..." into lower-case
// keys.
func dmarcTags(rec string) map[string]string {
	tags := map[string]string{}
	for _, part := range strings.Split(rec, ";") {
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			continue
		}
		tags[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
	}
	return tags
}

func dmarcResult(d string, l txtLookup) Result {
	r := Result{Check: CheckDMARC, Target: d, OK: true, Fields: map[string]any{"records": int64(len(l.records))}}
	fixMissing := "Publish a TXT record at _dmarc." + d + " such as \"v=DMARC1; p=none; rua=mailto:dmarc@" + d +
		"\", read the reports for a few weeks, then move to p=quarantine and p=reject."
	switch {
	case l.err != nil:
		r.OK, r.Detail = false, "The DMARC record of "+d+" could not be read: "+l.err.Error()+"."
		return r
	case len(l.records) == 0: // NXDOMAIN at _dmarc is the usual way of having none
		r.Finding, r.Severity = true, SeverityHigh
		r.Detail = d + " has no DMARC record at _dmarc." + d + ", so receivers are not told to refuse mail forged in its name."
		r.Fix = fixMissing
		return r
	case len(l.records) > 1:
		r.Finding, r.Severity = true, SeverityHigh
		r.Detail = fmt.Sprintf("%s has %d DMARC records; receivers then ignore DMARC for it altogether.", d, len(l.records))
		r.Fix = "Keep one TXT record starting \"v=DMARC1\" at _dmarc." + d + " and delete the others."
		return r
	}
	rec := l.records[0]
	tags := dmarcTags(rec)
	p := strings.ToLower(tags["p"])
	r.Fields["record"] = clip(rec)
	r.Fields["p"] = p
	if sp, ok := tags["sp"]; ok {
		r.Fields["sp"] = strings.ToLower(sp)
	}
	r.Fields["rua"] = tags["rua"] != ""
	switch p {
	case "quarantine", "reject":
		r.Detail = d + " has a DMARC policy of p=" + p + "."
		if sp := strings.ToLower(tags["sp"]); sp == "none" {
			r.Detail += " Its subdomains are left at sp=none."
		}
	case "none":
		r.Finding, r.Severity = true, SeverityMedium
		r.Detail = d + " has a DMARC record with p=none: forged mail is reported, not stopped."
		r.Fix = "Once the DMARC reports show every real sender passing, change the policy at _dmarc." + d + " to p=quarantine, then p=reject."
	default:
		r.Finding, r.Severity = true, SeverityMedium
		r.Detail = d + "'s DMARC record has no valid p= tag (found " + fmt.Sprintf("%q", tags["p"]) + "); receivers treat it as p=none at best."
		r.Fix = "Set p=quarantine or p=reject in the DMARC record at _dmarc." + d + "."
	}
	if r.Fields["rua"] == false {
		r.Detail += " It asks for no aggregate reports (no rua=)."
	}
	return r
}

// notedResult reports whether an optional record is present; never a
// finding, since neither MTA-STS nor TLS-RPT is required.
func notedResult(check, d, name, what string, l txtLookup) Result {
	r := Result{Check: check, Target: d, OK: l.err == nil}
	if l.err != nil {
		r.Detail = "The " + what + " record of " + d + " could not be read: " + l.err.Error() + "."
		return r
	}
	present := len(l.records) > 0
	r.Fields = map[string]any{"present": present}
	if present {
		r.Fields["record"] = clip(l.records[0])
		r.Detail = d + " publishes " + what + " at " + name + "."
	} else {
		r.Detail = d + " publishes no " + what + " record at " + name + "."
	}
	return r
}
