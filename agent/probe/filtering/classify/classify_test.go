package classify

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/probity-edu/probity/internal/testenv"
)

// blockMarker is the text our fake vendor puts in its block page.
const blockMarker = "ACME-FILTER: access denied"

// fakePages recognises the fake vendor's page: pure logic, standing in for
// the blockpage package.
type fakePages struct{}

func (fakePages) Match(_ int, _ http.Header, body []byte, redirectHost string) (string, bool) {
	if bytes.Contains(body, []byte(blockMarker)) || redirectHost == "block.acme.example" {
		return "acme", true
	}
	return "", false
}

func handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "<html>a normal page</html>") })
	mux.HandleFunc("/blocked", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, "<html>"+blockMarker+"</html>")
	})
	mux.HandleFunc("/forbidden", func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "nope", http.StatusForbidden)
	})
	mux.HandleFunc("/legal", func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "nope", http.StatusUnavailableForLegalReasons)
	})
	mux.HandleFunc("/broken", func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "oops", http.StatusInternalServerError)
	})
	return mux
}

func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// resetServer accepts, reads the request and answers with a RST.
func resetServer(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			buf := make([]byte, 4096)
			_, _ = c.Read(buf)
			_ = c.(*net.TCPConn).SetLinger(0)
			c.Close()
		}
	}()
	return l.Addr().String()
}

// silentServer accepts and never answers, until the test ends.
func silentServer(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	return l.Addr().String()
}

// forwardProxy is a minimal forward proxy: plain HTTP proxying and CONNECT,
// with optional Basic proxy authentication. Hosts in banned get the block
// page (HTTP) or a 403 (CONNECT).
type forwardProxy struct {
	user, pass string
	banned     map[string]bool // host:port
	redirect   string          // when set, a banned CONNECT is redirected here instead of refused
}

func (p *forwardProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if p.user != "" {
		want := "Basic " + base64.StdEncoding.EncodeToString([]byte(p.user+":"+p.pass))
		if r.Header.Get("Proxy-Authorization") != want {
			w.Header().Set("Proxy-Authenticate", `Basic realm="test"`)
			w.WriteHeader(http.StatusProxyAuthRequired)
			return
		}
	}
	if r.Method == http.MethodConnect {
		if p.banned[r.Host] && p.redirect != "" {
			w.Header().Set("Location", p.redirect)
			w.WriteHeader(http.StatusFound)
			return
		}
		if p.banned[r.Host] {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		up, err := loopbackDial(r.Context(), "tcp", r.Host)
		if err != nil {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		w.WriteHeader(http.StatusOK)
		c, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			up.Close()
			return
		}
		if n := brw.Reader.Buffered(); n > 0 {
			b, _ := brw.Reader.Peek(n)
			_, _ = up.Write(b)
		}
		go func() { _, _ = io.Copy(up, c); up.Close() }()
		_, _ = io.Copy(c, up)
		c.Close()
		return
	}
	if p.banned[r.Host] {
		w.WriteHeader(http.StatusOK) // e2guardian-style: a page, not a status
		io.WriteString(w, "<html>"+blockMarker+"</html>")
		return
	}
	out := r.Clone(r.Context())
	out.RequestURI = ""
	out.Header.Del("Proxy-Authorization")
	resp, err := (&http.Transport{DialContext: loopbackDial}).RoundTrip(out)
	if err != nil {
		w.WriteHeader(http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, resp.Body)
}

// selfSignedCA makes a CA certificate that signs nothing we serve.
func selfSignedCA(t *testing.T) *x509.Certificate {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "School Root CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// loopbackDial dials only 127.0.0.1 addresses, so the test proxy never
// resolves or reaches anything outside the machine.
func loopbackDial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if ip, err := netip.ParseAddr(host); err != nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("test proxy dials loopback only, not %s", addr)
	}
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

func startProxy(t *testing.T, p *forwardProxy) *url.URL {
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	return u
}

func TestCheck(t *testing.T) {
	plain := httptest.NewServer(handler())
	t.Cleanup(plain.Close)
	// The TLS server's certificate is trusted only where a case puts it in
	// RootCAs; elsewhere it plays the intercepting proxy's certificate.
	secure := httptest.NewTLSServer(handler())
	t.Cleanup(secure.Close)
	trusted := x509.NewCertPool()
	trusted.AddCert(secure.Certificate())
	// The "expected" roots: a CA of our own, which the interceptor does not chain to.
	foreign := x509.NewCertPool()
	foreign.AddCert(selfSignedCA(t))

	plainAddr := plain.Listener.Addr().(*net.TCPAddr)
	_, plainPort, _ := net.SplitHostPort(plain.Listener.Addr().String())
	// Test names point at loopback, where the test servers are: those
	// cases set AllowPrivate, and sinkholes are named by SinkholeAddrs or
	// answered as 0.0.0.0 / 10.x (never dialled: the verdict comes first).
	zone := testenv.StartDNS(t, []string{
		"site.test. 60 IN A " + plainAddr.IP.String(),
		"sink.test. 60 IN A 10.66.66.66",
		"zero.test. 60 IN A 0.0.0.0",
		"private.test. 60 IN A 192.168.1.10",
		"v6zero.test. 60 IN AAAA ::",
	}, "banned.test")

	proxy := startProxy(t, &forwardProxy{banned: map[string]bool{
		"blocked.test":                  true,
		secure.Listener.Addr().String(): true,
	}})
	redirectProxy := startProxy(t, &forwardProxy{redirect: "http://block.acme.example/denied",
		banned: map[string]bool{secure.Listener.Addr().String(): true}})
	authProxy := startProxy(t, &forwardProxy{user: "probe", pass: "s3cret"})
	authURL := *authProxy
	authURL.User = url.UserPassword("probe", "s3cret")
	badAuthURL := *authProxy
	badAuthURL.User = url.UserPassword("probe", "wrong")

	// A resolver that receives queries and never answers.
	mute, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mute.Close() })

	dns := func(o Options) Options { o.Resolver = zone.Addr; return o }
	pub := Options{Resolver: zone.Addr, AllowPrivate: true, BlockPages: fakePages{}}

	// The closed port is picked after every listener of the test exists:
	// picked before, the kernel could hand the same port to one of them.
	reset, silent1, silent2 := resetServer(t), silentServer(t), silentServer(t)
	closed := closedPort(t)
	downProxy, _ := url.Parse("http://" + closedPort(t))
	cases := []struct {
		name      string
		target    string
		opts      Options
		outcome   Outcome
		mechanism Mechanism
		detail    string
	}{
		{"allowed page by name", "http://site.test:" + plainPort + "/", pub, Allowed, "", ""},
		{"allowed page, host only", "127.0.0.1:" + plainPort, pub, Allowed, "", ""},
		{"nxdomain", "http://banned.test/", pub, Blocked, DNSNXDomain, "banned.test"},
		{"unknown name is nxdomain", "nosuch.test", pub, Blocked, DNSNXDomain, "nosuch.test"},
		{"configured sinkhole", "http://sink.test/", Options{Resolver: zone.Addr, AllowPrivate: true, SinkholeAddrs: []netip.Addr{netip.MustParseAddr("10.66.66.66")}}, Blocked, DNSSinkhole, "10.66.66.66"},
		{"0.0.0.0 is a sinkhole by default", "http://zero.test/", dns(Options{}), Blocked, DNSSinkhole, "0.0.0.0"},
		{"private is a sinkhole by default", "http://private.test/", dns(Options{}), Blocked, DNSSinkhole, "192.168.1.10"},
		{"loopback is a sinkhole by default", "http://site.test:" + plainPort + "/", dns(Options{}), Blocked, DNSSinkhole, plainAddr.IP.String()},
		{":: is a sinkhole by default", "http://v6zero.test/", dns(Options{}), Blocked, DNSSinkhole, "::"},
		{"silent resolver is an error", "http://site.test/", Options{Resolver: mute.LocalAddr().String(), Timeout: 300 * time.Millisecond}, Error, Timeout, "dns"},
		{"silent resolver blocks when told", "http://site.test/", Options{Resolver: mute.LocalAddr().String(), Timeout: 300 * time.Millisecond, TimeoutIsBlock: true}, Blocked, Timeout, "dns"},
		{"connection refused", "http://" + closed + "/", pub, Blocked, TCPReset, ""},
		{"reset during exchange", "http://" + reset + "/", pub, Blocked, TCPReset, ""},
		{"silence is an error", "http://" + silent1 + "/", Options{Timeout: 300 * time.Millisecond}, Error, Timeout, ""},
		{"silence blocks when told", "http://" + silent2 + "/", Options{Timeout: 300 * time.Millisecond, TimeoutIsBlock: true}, Blocked, Timeout, ""},
		{"block page", plain.URL + "/blocked", pub, Blocked, HTTPBlockPage, "acme"},
		{"403 without known page", plain.URL + "/forbidden", pub, Blocked, HTTPStatus, "403"},
		{"451", plain.URL + "/legal", pub, Blocked, HTTPStatus, "451"},
		{"500 is an error", plain.URL + "/broken", pub, Error, HTTPStatus, "500"},
		{"https trusted", secure.URL + "/", Options{RootCAs: trusted}, Allowed, "", ""},
		{"https intercepted, page served", secure.URL + "/", Options{RootCAs: foreign, BlockPages: fakePages{}}, Error, TLSIntercept, secure.Certificate().Issuer.String()},
		{"https intercepted, block page", secure.URL + "/blocked", Options{RootCAs: foreign, BlockPages: fakePages{}}, Blocked, TLSIntercept, "acme (issuer " + secure.Certificate().Issuer.String() + ")"},
		{"https block page, trusted", secure.URL + "/blocked", Options{RootCAs: trusted, BlockPages: fakePages{}}, Blocked, HTTPBlockPage, "acme"},
		{"proxy allows", plain.URL + "/", Options{Proxy: proxy, BlockPages: fakePages{}}, Allowed, "", ""},
		{"proxy block page", "http://blocked.test/", Options{Proxy: proxy, BlockPages: fakePages{}}, Blocked, HTTPBlockPage, "acme"},
		{"proxy CONNECT 403", secure.URL + "/", Options{Proxy: proxy, RootCAs: trusted}, Blocked, HTTPStatus, "CONNECT 403"},
		{"proxy CONNECT redirected to block page", secure.URL + "/", Options{Proxy: redirectProxy, RootCAs: trusted, BlockPages: fakePages{}}, Blocked, HTTPBlockPage, "acme"},
		{"proxy CONNECT redirected elsewhere", secure.URL + "/", Options{Proxy: redirectProxy, RootCAs: trusted}, Error, HTTPStatus, "CONNECT 302"},
		{"proxy with auth, plain", plain.URL + "/", Options{Proxy: &authURL}, Allowed, "", ""},
		{"proxy with auth, CONNECT", secure.URL + "/", Options{Proxy: &authURL, RootCAs: trusted}, Allowed, "", ""},
		{"proxy wrong credentials", plain.URL + "/", Options{Proxy: &badAuthURL}, Error, "", "407"},
		{"proxy wrong credentials, CONNECT", secure.URL + "/", Options{Proxy: &badAuthURL, RootCAs: trusted}, Error, "", "CONNECT 407"},
		{"proxy down", plain.URL + "/", Options{Proxy: downProxy}, Error, "", "proxy unreachable"},
		{"proxy down, https", secure.URL + "/", Options{Proxy: downProxy, RootCAs: trusted}, Error, "", "proxy unreachable"},
		{"bad target", "ftp://x/", pub, Error, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.opts.Timeout == 0 {
				c.opts.Timeout = 5 * time.Second
			}
			r := Check(context.Background(), c.target, c.opts)
			if r.Outcome != c.outcome || r.Mechanism != c.mechanism || r.Detail != c.detail {
				t.Errorf("Check(%s) = %s/%s detail %q (error %q), want %s/%s detail %q",
					c.target, r.Outcome, r.Mechanism, r.Detail, r.Error, c.outcome, c.mechanism, c.detail)
			}
			if r.Outcome == Error && r.Error == "" && r.Detail == "" {
				t.Errorf("outcome error says neither why nor what")
			}
			if r.DurationMs <= 0 && c.name != "bad target" {
				t.Errorf("DurationMs = %v", r.DurationMs)
			}
		})
	}
	if zone.UDPQueries.Load() == 0 {
		t.Error("no query reached the test resolver")
	}
}

func TestParseTarget(t *testing.T) {
	for in, want := range map[string]string{
		"example.org":             "http://example.org/",
		"https://example.org/x?y": "https://example.org/x?y",
	} {
		u, err := parseTarget(in)
		if err != nil || u.String() != want {
			t.Errorf("parseTarget(%q) = %v, %v; want %s", in, u, err, want)
		}
	}
	for _, in := range []string{"ftp://x/", "http:///nohost", "http://%zz/"} {
		if _, err := parseTarget(in); err == nil || !strings.Contains(err.Error(), "target") {
			t.Errorf("parseTarget(%q) err = %v", in, err)
		}
	}
}
