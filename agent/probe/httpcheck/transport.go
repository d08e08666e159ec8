package httpcheck

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"

	"github.com/probity-edu/probity/agent/probe"
)

// newClient builds the client of one Prober: a transport of its own with
// keep-alives off, so every run measures DNS, connect and TLS afresh. It
// uses no proxy: the check is of the path from this machine.
func newClient(c Config) (*http.Client, error) {
	// InsecureSkipVerify is the operator's explicit choice, off by default.
	tlsConf := &tls.Config{InsecureSkipVerify: c.InsecureSkipVerify}
	if c.CAFile != "" {
		pool, err := caPool(c.CAFile)
		if err != nil {
			return nil, err
		}
		tlsConf.RootCAs = pool
	}
	dialer := &net.Dialer{Timeout: c.Timeout}
	if c.Resolver != "" {
		addr, _ := probe.NormalizeResolver(c.Resolver) // checked by Validate
		dialer.Resolver = resolverAt(addr)
	}
	tr := &http.Transport{
		DialContext:         dialer.DialContext,
		TLSClientConfig:     tlsConf,
		TLSHandshakeTimeout: c.Timeout,
		DisableKeepAlives:   true,
		DisableCompression:  true, // count the body as served
		ForceAttemptHTTP2:   true, // as browsers would, despite our own DialContext
	}
	client := &http.Client{Transport: tr, Timeout: c.Timeout}
	client.CheckRedirect = func(_ *http.Request, via []*http.Request) error {
		if !c.FollowRedirects {
			return http.ErrUseLastResponse
		}
		if len(via) > maxRedirects {
			return fmt.Errorf("stopped after %d redirects", maxRedirects)
		}
		return nil
	}
	return client, nil
}

// caPool is the system pool plus the certificates of a PEM file.
func caPool(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("ca_file: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("ca_file %s: no PEM certificate found", path)
	}
	return pool, nil
}

// resolverAt is a resolver that asks only the DNS server at addr: a school
// tests through its own resolver, and tests never query outside ones.
func resolverAt(addr string) *net.Resolver {
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		},
	}
}
