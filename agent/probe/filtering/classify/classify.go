// Package classify decides, for one target, whether the school's filter
// allowed it, blocked it, or whether we cannot tell (error), and by which
// mechanism it was blocked.
//
// The decision rules, in order:
//
//  1. DNS (skipped for IP literals and when going through an explicit proxy,
//     which resolves for us): NXDOMAIN → blocked dns_nxdomain. An answer that
//     is one of Options.SinkholeAddrs → blocked dns_sinkhole. Unless
//     Options.AllowPrivate, an answer where every address is unspecified
//     (0.0.0.0, ::), loopback, private or link-local → blocked dns_sinkhole:
//     the suite tests public sites, which never live there. Any other DNS
//     failure → error; a resolver that does not answer in time is judged
//     like a silent server (rule 2), with Detail "dns".
//  2. TCP: refused (RST to the SYN) or reset during the exchange → blocked
//     tcp_reset. No answer in time → outcome error, mechanism timeout, unless
//     Options.TimeoutIsBlock: a slow or down site must never pass for a
//     blocked one, so silence counts as blocking only when the operator knows
//     the filter drops silently.
//  3. TLS: the certificate is verified against the system roots (or
//     Options.RootCAs). When it does not verify, the page is still fetched:
//     a block page behind it → blocked tls_intercept (Detail: vendor and
//     issuer); anything else → error tls_intercept with the issuer in Detail,
//     because a certificate nobody vouches for proves nothing about
//     filtering. A certificate from one of Options.InspectCAs (the school's
//     own inspection CA) is the filter looking inside HTTPS: the page is
//     judged by rule 4, a block page reading tls_intercept and an allowed
//     page carrying the issuer in Detail.
//  4. HTTP: the first 256 KiB of the body, the status, headers and redirect
//     host go to BlockPages.Match → blocked http_blockpage (Detail: vendor).
//     Otherwise 403 and 451 → blocked http_status; 2xx and 3xx → allowed
//     (redirects are not followed: one to a block page is for BlockPages to
//     recognise by its host); other statuses → error http_status.
//
// Through an explicit proxy (Options.Proxy; e2guardian style plain HTTP
// proxying and CONNECT for HTTPS) a CONNECT answered 403 or 451 is blocked
// http_status, a block page from the proxy (or a refused CONNECT whose
// status, headers or redirect BlockPages recognises, as e2guardian's 302)
// is http_blockpage, and a proxy that cannot be reached, or refuses our
// credentials (407), is error: a broken proxy is not a filter decision.
package classify

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
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/probity-edu/probity/agent/probe"
)

// Outcome is the verdict on one target.
type Outcome string

// Outcomes.
const (
	Allowed Outcome = "allowed"
	Blocked Outcome = "blocked"
	Error   Outcome = "error" // we could not tell; never counted as blocked
)

// Mechanism says how a target was blocked (or, with Error, what got in the way).
type Mechanism string

// Mechanisms; "" with Allowed.
const (
	DNSNXDomain   Mechanism = "dns_nxdomain"
	DNSSinkhole   Mechanism = "dns_sinkhole"
	TCPReset      Mechanism = "tcp_reset"
	Timeout       Mechanism = "timeout"
	TLSIntercept  Mechanism = "tls_intercept"
	HTTPBlockPage Mechanism = "http_blockpage"
	HTTPStatus    Mechanism = "http_status"
)

// MaxBody is how much of a page is read for block-page matching.
const MaxBody = 256 << 10

// DefaultTimeout bounds one Check when Options.Timeout is unset.
const DefaultTimeout = 10 * time.Second

// BlockPages recognises the block pages of filter vendors. redirectHost is
// the host of the Location header of a redirect, "" otherwise.
type BlockPages interface {
	Match(status int, h http.Header, body []byte, redirectHost string) (vendor string, ok bool)
}

// Options configure Check. The zero value checks through the system
// resolver, without a proxy, with private answers counted as sinkholes.
type Options struct {
	Resolver       string         // DNS server host:port; "" for the system resolver
	SinkholeAddrs  []netip.Addr   // answers that mean "blocked by DNS"
	AllowPrivate   bool           // private, loopback, unspecified answers are not sinkholes (the inverse of "expect public")
	Timeout        time.Duration  // whole check; DefaultTimeout when 0
	TimeoutIsBlock bool           // count silence as blocking; see the package doc
	RootCAs        *x509.CertPool // nil for the system roots
	// InspectCAs are the school's own TLS-inspection CAs: a certificate
	// they issued is the filter looking inside HTTPS, so a page behind it
	// is judged on its content (allowed, with the issuer in Detail)
	// instead of being an error.
	InspectCAs *x509.CertPool
	Proxy      *url.URL   // explicit proxy, user:password in it for Proxy-Authorization
	BlockPages BlockPages // nil recognises no page
}

// Result is the verdict on one target.
type Result struct {
	Outcome    Outcome
	Mechanism  Mechanism
	Detail     string // sinkhole address, vendor, TLS issuer or status
	DurationMs float64
	Error      string
}

// Check classifies one target: a URL, or a bare host (checked as http://host/).
func Check(ctx context.Context, target string, o Options) Result {
	began := time.Now()
	r := check(ctx, target, o)
	r.DurationMs = probe.Ms(time.Since(began))
	return r
}

func check(ctx context.Context, target string, o Options) Result {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()

	u, err := parseTarget(target)
	if err != nil {
		return Result{Outcome: Error, Error: err.Error()}
	}
	host := u.Hostname()
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}

	var addrs []netip.Addr
	if o.Proxy == nil {
		if a, err := netip.ParseAddr(host); err == nil {
			addrs = []netip.Addr{a}
		} else {
			var r *Result
			addrs, r = resolve(ctx, host, o)
			if r != nil {
				return *r
			}
		}
	}
	return fetch(ctx, u, port, addrs, o)
}

func parseTarget(target string) (*url.URL, error) {
	if !strings.Contains(target, "://") {
		target = "http://" + target + "/"
	}
	u, err := url.Parse(target)
	if err != nil {
		return nil, fmt.Errorf("target %q: %w", target, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("target %q: scheme must be http or https", target)
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("target %q: no host", target)
	}
	return u, nil
}

// resolve looks host up and applies the DNS rules; a non-nil Result ends the check.
func resolve(ctx context.Context, host string, o Options) ([]netip.Addr, *Result) {
	var (
		addrs []netip.Addr
		err   error
	)
	if o.Resolver == "" {
		addrs, err = net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		var dnsErr *net.DNSError
		if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
			return nil, &Result{Outcome: Blocked, Mechanism: DNSNXDomain, Detail: host}
		}
	} else {
		var ans Answer
		ans, err = Lookup(ctx, o.Resolver, host)
		if ans.NXDomain {
			return nil, &Result{Outcome: Blocked, Mechanism: DNSNXDomain, Detail: host}
		}
		addrs = ans.Addrs
	}
	if err != nil {
		if probe.Classify(err) == probe.Timeout {
			// A resolver that stays silent is judged like a silent server.
			outcome := Error
			if o.TimeoutIsBlock {
				outcome = Blocked
			}
			return nil, &Result{Outcome: outcome, Mechanism: Timeout, Detail: "dns", Error: "dns: " + err.Error()}
		}
		return nil, &Result{Outcome: Error, Error: "dns: " + err.Error()}
	}
	if len(addrs) == 0 {
		return nil, &Result{Outcome: Error, Error: "dns: no address for " + host}
	}
	if a, ok := Sinkhole(addrs, o); ok {
		return nil, &Result{Outcome: Blocked, Mechanism: DNSSinkhole, Detail: a.String()}
	}
	return addrs, nil
}

// Sinkhole reports whether a DNS answer means "blocked by DNS": one of
// the addresses is in o.SinkholeAddrs or, unless o.AllowPrivate, every
// address is unspecified, loopback, private or link-local. It returns the
// address that decided.
func Sinkhole(addrs []netip.Addr, o Options) (netip.Addr, bool) {
	for _, a := range addrs {
		for _, s := range o.SinkholeAddrs {
			if a.Unmap() == s.Unmap() {
				return a, true
			}
		}
	}
	if o.AllowPrivate || len(addrs) == 0 {
		return netip.Addr{}, false
	}
	for _, a := range addrs {
		a = a.Unmap()
		if !(a.IsUnspecified() || a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast()) {
			return netip.Addr{}, false
		}
	}
	return addrs[0], true
}

// Answer is what a resolver said about a name.
type Answer struct {
	CNAMEs   []string // the CNAME targets in order, lower case, without the trailing dot
	Addrs    []netip.Addr
	NXDomain bool
}

// Chain is the answer as the dns measurement writes it: CNAME targets,
// then addresses.
func (a Answer) Chain() []string {
	out := append([]string(nil), a.CNAMEs...)
	for _, ad := range a.Addrs {
		out = append(out, ad.String())
	}
	return out
}

// Lookup asks resolver (ip:port) for host's A records, then AAAA when there
// is no A record. NXDOMAIN is an Answer, not an error; a response code
// other than NOERROR and NXDOMAIN is an error.
func Lookup(ctx context.Context, resolver, host string) (Answer, error) {
	var ans Answer
	for _, qt := range []uint16{mdns.TypeA, mdns.TypeAAAA} {
		m := new(mdns.Msg)
		m.SetQuestion(mdns.Fqdn(host), qt)
		m.SetEdns0(1232, false)
		c := &mdns.Client{Net: "udp", UDPSize: 1232}
		resp, _, err := c.ExchangeContext(ctx, m, resolver)
		if err == nil && resp.Truncated {
			resp, _, err = (&mdns.Client{Net: "tcp"}).ExchangeContext(ctx, m, resolver)
		}
		if err != nil {
			return Answer{}, err
		}
		switch resp.Rcode {
		case mdns.RcodeNameError:
			return Answer{NXDomain: true}, nil
		case mdns.RcodeSuccess:
		default:
			return Answer{}, fmt.Errorf("%s answered %s", resolver, mdns.RcodeToString[resp.Rcode])
		}
		ans = Answer{}
		for _, rr := range resp.Answer {
			switch v := rr.(type) {
			case *mdns.CNAME:
				ans.CNAMEs = append(ans.CNAMEs, strings.ToLower(strings.TrimSuffix(v.Target, ".")))
			case *mdns.A:
				if a, ok := netip.AddrFromSlice(v.A); ok {
					ans.Addrs = append(ans.Addrs, a.Unmap())
				}
			case *mdns.AAAA:
				if a, ok := netip.AddrFromSlice(v.AAAA); ok {
					ans.Addrs = append(ans.Addrs, a)
				}
			}
		}
		if len(ans.Addrs) > 0 {
			return ans, nil
		}
	}
	return ans, nil
}

// tlsSeen is what the certificate check found.
type tlsSeen struct {
	mu        sync.Mutex
	verifyErr error
	issuer    string
	inspected bool // verified against Options.InspectCAs instead
}

// connectAnswer records a CONNECT answered with other than 200.
type connectAnswer struct {
	mu           sync.Mutex
	status       int
	header       http.Header
	redirectHost string
}

func fetch(ctx context.Context, u *url.URL, port string, addrs []netip.Addr, o Options) Result {
	seen := &tlsSeen{}
	conn := &connectAnswer{}
	roots := o.RootCAs
	serverName := u.Hostname()

	tlsConf := &tls.Config{
		ServerName: serverName,
		// Verification is done in VerifyConnection so that an intercepted
		// connection still yields its page: the page decides the verdict.
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			seen.mu.Lock()
			defer seen.mu.Unlock()
			if len(cs.PeerCertificates) == 0 {
				seen.verifyErr = errors.New("no certificate")
				return nil
			}
			leaf := cs.PeerCertificates[0]
			inter := x509.NewCertPool()
			for _, c := range cs.PeerCertificates[1:] {
				inter.AddCert(c)
			}
			_, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, DNSName: serverName})
			if err != nil && o.InspectCAs != nil {
				if _, ierr := leaf.Verify(x509.VerifyOptions{Roots: o.InspectCAs, Intermediates: inter, DNSName: serverName}); ierr == nil {
					seen.inspected, seen.issuer = true, leaf.Issuer.String()
					return nil
				}
			}
			if err != nil {
				seen.verifyErr = err
				seen.issuer = leaf.Issuer.String()
			}
			return nil
		},
	}
	dialer := &net.Dialer{}
	tr := &http.Transport{
		TLSClientConfig:    tlsConf,
		DisableKeepAlives:  true,
		DisableCompression: true,
		Proxy:              nil, // never the environment's proxy: what is tested is explicit
	}
	if o.Proxy != nil {
		tr.Proxy = http.ProxyURL(o.Proxy)
		tr.DialContext = dialer.DialContext
		tr.OnProxyConnectResponse = func(_ context.Context, _ *url.URL, _ *http.Request, resp *http.Response) error {
			if resp.StatusCode != http.StatusOK {
				conn.mu.Lock()
				conn.status, conn.header = resp.StatusCode, resp.Header
				if loc, err := resp.Location(); err == nil {
					conn.redirectHost = loc.Hostname()
				}
				conn.mu.Unlock()
			}
			return nil
		}
	} else {
		// Dial the address we classified, not whatever another lookup returns.
		tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
			var lastErr error
			for _, a := range addrs {
				c, err := dialer.DialContext(ctx, network, net.JoinHostPort(a.String(), port))
				if err == nil {
					return c, nil
				}
				lastErr = err
			}
			return nil, lastErr
		}
	}
	client := &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return Result{Outcome: Error, Error: err.Error()}
	}
	req.Header.Set("User-Agent", "probity-filtering/1")

	resp, err := client.Do(req)
	if err != nil {
		conn.mu.Lock()
		defer conn.mu.Unlock()
		// The body of a refused CONNECT is not read: the transport gives
		// no deadline for it. Status, headers and redirect suffice for
		// proxies that redirect to their block page (e2guardian does).
		if conn.status != 0 && o.BlockPages != nil {
			if vendor, ok := o.BlockPages.Match(conn.status, conn.header, nil, conn.redirectHost); ok {
				return Result{Outcome: Blocked, Mechanism: HTTPBlockPage, Detail: vendor}
			}
		}
		return classifyErr(err, o, conn.status)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxBody))
	if err != nil {
		return classifyErr(err, o, 0)
	}

	redirectHost := ""
	if loc, err := resp.Location(); err == nil {
		redirectHost = loc.Hostname()
	}
	seen.mu.Lock()
	verifyErr, issuer, inspected := seen.verifyErr, seen.issuer, seen.inspected
	seen.mu.Unlock()

	if o.BlockPages != nil {
		if vendor, ok := o.BlockPages.Match(resp.StatusCode, resp.Header, body, redirectHost); ok {
			if verifyErr != nil || inspected {
				return Result{Outcome: Blocked, Mechanism: TLSIntercept, Detail: vendor + " (issuer " + issuer + ")"}
			}
			return Result{Outcome: Blocked, Mechanism: HTTPBlockPage, Detail: vendor}
		}
	}
	if verifyErr != nil {
		return Result{Outcome: Error, Mechanism: TLSIntercept, Detail: issuer, Error: verifyErr.Error()}
	}
	code := resp.StatusCode
	switch {
	case o.Proxy != nil && code == http.StatusProxyAuthRequired:
		return Result{Outcome: Error, Detail: strconv.Itoa(code), Error: "proxy refused the credentials"}
	case code == http.StatusForbidden || code == http.StatusUnavailableForLegalReasons:
		return Result{Outcome: Blocked, Mechanism: HTTPStatus, Detail: strconv.Itoa(code)}
	case code >= 200 && code < 400:
		if inspected {
			return Result{Outcome: Allowed, Detail: "TLS inspected (issuer " + issuer + ")"}
		}
		return Result{Outcome: Allowed}
	default:
		return Result{Outcome: Error, Mechanism: HTTPStatus, Detail: strconv.Itoa(code)}
	}
}

// classifyErr turns a failed exchange into a Result. connectStatus is the
// status of a refused CONNECT, 0 when there was none.
func classifyErr(err error, o Options, connectStatus int) Result {
	msg := err.Error()
	switch {
	case connectStatus == http.StatusForbidden || connectStatus == http.StatusUnavailableForLegalReasons:
		return Result{Outcome: Blocked, Mechanism: HTTPStatus, Detail: "CONNECT " + strconv.Itoa(connectStatus)}
	case connectStatus == http.StatusProxyAuthRequired:
		return Result{Outcome: Error, Detail: "CONNECT 407", Error: "proxy refused the credentials"}
	case connectStatus != 0:
		return Result{Outcome: Error, Mechanism: HTTPStatus, Detail: "CONNECT " + strconv.Itoa(connectStatus), Error: msg}
	}
	var opErr *net.OpError
	proxyDial := o.Proxy != nil && errors.As(err, &opErr) && opErr.Op == "proxyconnect"
	switch probe.Classify(err) {
	case probe.Timeout:
		if o.TimeoutIsBlock && !proxyDial {
			return Result{Outcome: Blocked, Mechanism: Timeout, Error: msg}
		}
		return Result{Outcome: Error, Mechanism: Timeout, Error: msg}
	case probe.Refused:
		if proxyDial {
			return Result{Outcome: Error, Detail: "proxy unreachable", Error: msg}
		}
		return Result{Outcome: Blocked, Mechanism: TCPReset, Error: msg}
	}
	if errors.Is(err, syscall.EPIPE) && !proxyDial {
		return Result{Outcome: Blocked, Mechanism: TCPReset, Error: msg}
	}
	if proxyDial {
		return Result{Outcome: Error, Detail: "proxy unreachable", Error: msg}
	}
	return Result{Outcome: Error, Error: msg}
}
