package httpcheck

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"sync"
	"time"

	"github.com/probity-edu/probity/agent/probe"
	"github.com/probity-edu/probity/internal/point"
)

// maxBody caps how much of a body is read: enough to see that it flows.
const maxBody = 1 << 20

// phases collects httptrace timings. Hooks may run on other goroutines (a
// dial races IPv4 against IPv6), hence the lock. Durations add up across
// redirects; firstByte is that of the last response.
type phases struct {
	mu                      sync.Mutex
	dnsStart, tlsStart      time.Time
	connStart               map[string]time.Time
	dns, connect, tls       time.Duration
	sawDNS, sawConn, sawTLS bool
	firstByte               time.Time
	leaf                    *x509.Certificate
}

func (ph *phases) trace() *httptrace.ClientTrace {
	ph.connStart = map[string]time.Time{}
	return &httptrace.ClientTrace{
		DNSStart: func(httptrace.DNSStartInfo) { ph.set(func() { ph.dnsStart = time.Now() }) },
		DNSDone: func(httptrace.DNSDoneInfo) {
			ph.set(func() { ph.dns += time.Since(ph.dnsStart); ph.sawDNS = true })
		},
		ConnectStart: func(_, addr string) { ph.set(func() { ph.connStart[addr] = time.Now() }) },
		ConnectDone: func(_, addr string, err error) {
			ph.set(func() {
				if err == nil { // the attempt that won, not those it raced
					ph.connect += time.Since(ph.connStart[addr])
					ph.sawConn = true
				}
			})
		},
		TLSHandshakeStart: func() { ph.set(func() { ph.tlsStart = time.Now() }) },
		TLSHandshakeDone: func(cs tls.ConnectionState, _ error) {
			ph.set(func() {
				ph.tls += time.Since(ph.tlsStart)
				ph.sawTLS = true
				if len(cs.PeerCertificates) > 0 {
					ph.leaf = cs.PeerCertificates[0]
				}
			})
		},
		GotFirstResponseByte: func() { ph.set(func() { ph.firstByte = time.Now() }) },
	}
}

func (ph *phases) set(f func()) {
	ph.mu.Lock()
	defer ph.mu.Unlock()
	f()
}

// check measures one target.
func (p *Prober) check(ctx context.Context, t Target) point.Point {
	tags := map[string]string{"target": t.name()}
	if t.Role != "" {
		tags["role"] = t.Role
	}
	start := p.now()
	pt := point.New("http", tags, map[string]any{}, start)
	f := pt.Fields

	var ph phases
	began := time.Now()
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, ph.trace()), t.Method, t.URL, nil)
	if err != nil { // Validate let through a URL that net/http refuses
		return fail(pt, probe.Error, err.Error())
	}
	req.Header.Set("User-Agent", "probity-agent")
	resp, err := p.client.Do(req)
	var n int64
	if err == nil {
		n, err = io.Copy(io.Discard, io.LimitReader(resp.Body, maxBody))
		resp.Body.Close()
		f["status"] = int64(resp.StatusCode)
		f["bytes"] = n
	}
	f["total_ms"] = probe.Ms(time.Since(began))

	ph.mu.Lock()
	defer ph.mu.Unlock()
	if ph.sawDNS {
		f["dns_ms"] = probe.Ms(ph.dns)
	}
	if ph.sawConn {
		f["connect_ms"] = probe.Ms(ph.connect)
	}
	if ph.sawTLS {
		f["tls_ms"] = probe.Ms(ph.tls)
	}
	if !ph.firstByte.IsZero() {
		f["ttfb_ms"] = probe.Ms(ph.firstByte.Sub(began))
	}
	leaf := ph.leaf
	if resp != nil && resp.TLS != nil && len(resp.TLS.PeerCertificates) > 0 {
		leaf = resp.TLS.PeerCertificates[0]
	}
	var verr *tls.CertificateVerificationError
	if leaf == nil && errors.As(err, &verr) && len(verr.UnverifiedCertificates) > 0 {
		leaf = verr.UnverifiedCertificates[0] // an expired or untrusted certificate still has a date
	}
	if leaf != nil {
		f["cert_days_left"] = leaf.NotAfter.Sub(start).Hours() / 24
	}

	switch {
	case err != nil:
		p.log.Debug("http: check failed", "target", t.name(), "err", err)
		return fail(pt, probe.Classify(err), detail(err))
	case !statusOK(resp.StatusCode, t.ExpectStatus):
		return fail(pt, probe.HTTPStatus, "status "+strconv.Itoa(resp.StatusCode))
	}
	f["ok"], f["result"] = true, string(probe.OK)
	return pt
}

func fail(pt point.Point, o probe.Outcome, msg string) point.Point {
	if o == probe.OK {
		o = probe.Error
	}
	pt.Fields["ok"], pt.Fields["result"], pt.Fields["error"] = false, string(o), msg
	return pt
}
