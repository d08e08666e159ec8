package testenv

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// e2guardian's default block page and the host of its CONNECT redirect.
const (
	e2gBlockPage    = "E2Guardian - Access Denied"
	e2gRedirectHost = ".e2guardian.org"
)

const envCollector = "PROBITY_SCHOOLNET_COLLECTOR"

func schoolNetOptions() SchoolNetOptions {
	return SchoolNetOptions{
		Sites: []string{"allowed.example", "reset.example", "drop.example", "banned.example",
			"student.example", "forcesafesearch.google.com", "www.youtube.com", "m.youtube.com"},
		NXDomain: []string{"nx.example"},
		// wrongcert.example reaches allowed.example's server, whose
		// certificate does not name it.
		Sinkhole: map[string]string{"sink.example": "0.0.0.0", "blockpage.example": "198.18.0.250", "wrongcert.example": "198.18.0.1"},
		CNAME:    map[string]string{"www.google.com": "forcesafesearch.google.com"},
		Reset:    []string{"reset.example"},
		Drop:     []string{"drop.example"},

		ProxyBanned:        []string{"banned.example"},
		ProxyBannedStudent: []string{"student.example"},
		// Which scheme e2guardian sees for intercepted requests: only
		// the http:// expression matches.
		ProxyAddHeader: map[string]string{
			`^http://www\.youtube\.com`: "YouTube-Restrict: Strict",
			`^https://m\.youtube\.com`:  "YouTube-Restrict: Moderate",
		},
		// The default page plus the header e2guardian may have added.
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			sitePage(w, r)
			fmt.Fprintf(w, "YouTube-Restrict=%q\n", r.Header.Get("YouTube-Restrict"))
		}),
	}
}

func TestSchoolNetOptionsChecked(t *testing.T) {
	ok := SchoolNetOptions{Sites: []string{"A.example", "b.example"}, Reset: []string{"a.example"},
		CNAME: map[string]string{"c.example": "B.example"}, Sinkhole: map[string]string{"d.example": "0.0.0.0"}}
	s := &SchoolNet{Addr: map[string]netip.Addr{}}
	if err := s.assignAddrs(ok); err != nil {
		t.Fatal(err)
	}
	want := map[string]netip.Addr{"a.example": netip.MustParseAddr("198.18.0.1"), "b.example": netip.MustParseAddr("198.18.0.2")}
	if len(s.Addr) != 2 || s.Addr["a.example"] != want["a.example"] || s.Addr["b.example"] != want["b.example"] {
		t.Errorf("addresses %v, want %v", s.Addr, want)
	}
	many := make([]string, 255)
	for i := range many {
		many[i] = fmt.Sprintf("s%d.example", i)
	}
	for name, o := range map[string]SchoolNetOptions{
		"reset not a site":   {Sites: []string{"a.example"}, Reset: []string{"x.example"}},
		"drop not a site":    {Sites: []string{"a.example"}, Drop: []string{"x.example"}},
		"cname to nowhere":   {Sites: []string{"a.example"}, CNAME: map[string]string{"c.example": "x.example"}},
		"bad sinkhole":       {Sites: []string{"a.example"}, Sinkhole: map[string]string{"d.example": "nowhere"}},
		"site twice":         {Sites: []string{"a.example", "A.example"}},
		"too many for a /24": {Sites: many},
	} {
		if err := (&SchoolNet{Addr: map[string]netip.Addr{}}).assignAddrs(o); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestIntegrationSchoolNet(t *testing.T) {
	RequireIntegration(t, "school network")
	start := time.Now()
	s := NewSchoolNet(t, schoolNetOptions())
	t.Logf("school network up in %v: School %s, Internet %s, DNS %s, Proxy %s, MITMProxy %s",
		time.Since(start).Round(time.Millisecond), s.School.Name, s.Internet.Name, s.DNS, s.Proxy, s.MITMProxy)
	for site, a := range s.Addr {
		if !netip.MustParsePrefix("198.18.0.0/24").Contains(a) || a.IsPrivate() {
			t.Errorf("site %s at %s: want a public-looking 198.18.0.0/24 address", site, a)
		}
	}

	// A collector on the host, reachable from School at HostAddr.
	l, err := net.Listen("tcp", net.JoinHostPort(s.HostAddr.String(), "0"))
	if err != nil {
		t.Fatal(err)
	}
	collector := &httptest.Server{Listener: l, Config: &http.Server{Handler: http.HandlerFunc(
		func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "collector") })}}
	collector.Start()
	t.Cleanup(collector.Close)

	env := append(s.HelperEnv(), envCollector+"="+collector.URL)
	for _, name := range []string{"DNS", "Direct", "Proxy", "MITM"} {
		t.Run(name, func(t *testing.T) {
			var res []string
			s.School.RunHelper(t, "TestHelperSchoolNet"+name, &res, env...)
			for _, r := range res {
				t.Log(r)
			}
		})
	}
}

// helperNet is the rig as seen by a helper test, with a log of what it
// observed for the parent to print.
type helperNet struct {
	*SchoolNet
	t   *testing.T
	obs []string
}

func startHelper(t *testing.T) (*helperNet, bool) {
	if !IsHelper(t) {
		t.Skip("helper process only")
		return nil, false
	}
	return &helperNet{SchoolNet: HelperSchoolNet(t), t: t}, true
}

func (h *helperNet) observe(format string, args ...any) {
	h.obs = append(h.obs, fmt.Sprintf(format, args...))
}

func (h *helperNet) done() { WriteHelperResult(h.t, h.obs) }

func (h *helperNet) pool(file string) *x509.CertPool {
	b, err := os.ReadFile(file)
	if err != nil {
		h.t.Fatal(err)
	}
	p := x509.NewCertPool()
	if !p.AppendCertsFromPEM(b) {
		h.t.Fatalf("no certificate in %s", file)
	}
	return p
}

// client fetches through proxy (nil: directly), trusting roots.
func (h *helperNet) client(proxy *url.URL, roots *x509.CertPool, timeout time.Duration) *http.Client {
	tr := &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: roots},
		DisableKeepAlives: true,
	}
	if proxy != nil {
		tr.Proxy = http.ProxyURL(proxy)
	}
	return &http.Client{
		Transport: tr,
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

type fetched struct {
	status int
	body   string
	issuer string // of the leaf, over TLS
	loc    string
}

func (h *helperNet) get(c *http.Client, target string) (fetched, error) {
	resp, err := c.Get(target)
	if err != nil {
		return fetched{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return fetched{}, err
	}
	f := fetched{status: resp.StatusCode, body: string(b), loc: resp.Header.Get("Location")}
	if resp.TLS != nil && len(resp.TLS.PeerCertificates) > 0 {
		f.issuer = resp.TLS.PeerCertificates[0].Issuer.CommonName
	}
	return f, nil
}

func (h *helperNet) mustGet(c *http.Client, target string) fetched {
	h.t.Helper()
	f, err := h.get(c, target)
	if err != nil {
		h.t.Fatalf("GET %s: %v", target, err)
	}
	return f
}

func title(host string) string { return "<title>" + host + "</title>" }

func TestHelperSchoolNetDNS(t *testing.T) {
	h, ok := startHelper(t)
	if !ok {
		return
	}
	defer h.done()
	query := func(name string, qtype uint16) *dns.Msg {
		t.Helper()
		c := &dns.Client{Timeout: 2 * time.Second}
		r, _, err := c.Exchange(new(dns.Msg).SetQuestion(dns.Fqdn(name), qtype), h.DNS)
		if err != nil {
			t.Fatalf("query %s: %v", name, err)
		}
		h.observe("%s %s: %s %v", name, dns.TypeToString[qtype], dns.RcodeToString[r.Rcode], r.Answer)
		return r
	}
	addrs := func(r *dns.Msg) (a []string, cname []string) {
		for _, rr := range r.Answer {
			switch rr := rr.(type) {
			case *dns.A:
				a = append(a, rr.A.String())
			case *dns.CNAME:
				cname = append(cname, rr.Target)
			}
		}
		return a, cname
	}
	if r := query("allowed.example", dns.TypeA); r.Rcode != dns.RcodeSuccess {
		t.Errorf("allowed.example: rcode %s", dns.RcodeToString[r.Rcode])
	} else if a, _ := addrs(r); !slices.Equal(a, []string{h.Addr["allowed.example"].String()}) {
		t.Errorf("allowed.example: A %v, want %s", a, h.Addr["allowed.example"])
	}
	for _, n := range []string{"nx.example", "sub.nx.example"} {
		if r := query(n, dns.TypeA); r.Rcode != dns.RcodeNameError {
			t.Errorf("%s: rcode %s, want NXDOMAIN", n, dns.RcodeToString[r.Rcode])
		}
	}
	for n, want := range map[string]string{"sink.example": "0.0.0.0", "blockpage.example": "198.18.0.250", "wrongcert.example": "198.18.0.1"} {
		if a, _ := addrs(query(n, dns.TypeA)); !slices.Equal(a, []string{want}) {
			t.Errorf("%s: A %v, want %s", n, a, want)
		}
	}
	r := query("www.google.com", dns.TypeA)
	a, cname := addrs(r)
	if !slices.Equal(cname, []string{"forcesafesearch.google.com."}) || !slices.Equal(a, []string{h.Addr["forcesafesearch.google.com"].String()}) {
		t.Errorf("www.google.com: CNAME %v A %v, want forcesafesearch.google.com at %s", cname, a, h.Addr["forcesafesearch.google.com"])
	}
	for _, n := range []string{"unknown.example", "www.example.com", "github.com"} {
		r := query(n, dns.TypeA)
		if (r.Rcode != dns.RcodeNameError && r.Rcode != dns.RcodeRefused) || len(r.Answer) > 0 {
			t.Errorf("%s: rcode %s answer %v, want NXDOMAIN or REFUSED and nothing", n, dns.RcodeToString[r.Rcode], r.Answer)
		}
	}
	// The system resolver of School is dnsmasq (resolv.conf bind mount).
	got, err := net.DefaultResolver.LookupNetIP(context.Background(), "ip4", "www.youtube.com")
	if err != nil || len(got) != 1 || got[0] != h.Addr["www.youtube.com"] {
		t.Errorf("Go resolver: www.youtube.com = %v, %v; want %s", got, err, h.Addr["www.youtube.com"])
	}
	resolv, _ := os.ReadFile("/etc/resolv.conf")
	h.observe("/etc/resolv.conf in School: %q", resolv)
}

func TestHelperSchoolNetDirect(t *testing.T) {
	h, ok := startHelper(t)
	if !ok {
		return
	}
	defer h.done()
	public := h.pool(h.PublicCAFile)
	c := h.client(nil, public, 5*time.Second)
	for _, target := range []string{"http://allowed.example/", "https://allowed.example/", "https://www.google.com/"} {
		f := h.mustGet(c, target)
		host, _ := url.Parse(target)
		h.observe("%s: %d issuer %q", target, f.status, f.issuer)
		if f.status != http.StatusOK || !strings.Contains(f.body, title(host.Hostname())) {
			t.Errorf("%s: %d %q, want the site's page", target, f.status, f.body)
		}
		if strings.HasPrefix(target, "https") && f.issuer != "Probity rig public CA" {
			t.Errorf("%s: leaf issued by %q, want the public CA", target, f.issuer)
		}
	}
	for _, target := range []string{"http://reset.example/", "https://reset.example/"} {
		_, err := h.get(c, target)
		h.observe("%s: %v", target, err)
		if !errors.Is(err, syscall.ECONNREFUSED) && !errors.Is(err, syscall.ECONNRESET) {
			t.Errorf("%s: %v, want connection refused or reset", target, err)
		}
	}
	quick := h.client(nil, public, time.Second)
	for _, target := range []string{"http://drop.example/", "https://drop.example/"} {
		_, err := h.get(quick, target)
		h.observe("%s: %v", target, err)
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Errorf("%s: %v, want a timeout", target, err)
		}
	}
	// The host's collector is reachable from School.
	f := h.mustGet(c, os.Getenv(envCollector))
	if f.body != "collector" {
		t.Errorf("collector at %s: %d %q", os.Getenv(envCollector), f.status, f.body)
	}
}

// connect sends a CONNECT for target through proxy as user ("" for
// none) and returns the response.
func connect(t *testing.T, proxy *url.URL, target, user string) *http.Response {
	t.Helper()
	c, err := net.DialTimeout("tcp", proxy.Host, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	req := fmt.Sprintf("CONNECT %s HTTP/1.1\r\nHost: %s\r\n", target, target)
	if user != "" {
		req += "Proxy-Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(user+":x")) + "\r\n"
	}
	if _, err := io.WriteString(c, req+"\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), &http.Request{Method: http.MethodConnect})
	if err != nil {
		t.Fatalf("CONNECT %s via %s: %v", target, proxy, err)
	}
	return resp
}

func withUser(u *url.URL, user string) *url.URL {
	v := *u
	if user != "" {
		v.User = url.UserPassword(user, "x")
	}
	return &v
}

func TestHelperSchoolNetProxy(t *testing.T) {
	h, ok := startHelper(t)
	if !ok {
		return
	}
	defer h.done()
	public := h.pool(h.PublicCAFile)
	for _, c := range []struct {
		user, site string
		blocked    bool
	}{
		{"", "allowed.example", false},
		{"", "banned.example", true},
		{"staff", "banned.example", true},
		{"", "student.example", true},
		{"student", "student.example", true},
		{"staff", "student.example", false},
	} {
		cl := h.client(withUser(h.Proxy, c.user), public, 10*time.Second)
		target := "http://" + c.site + "/"
		f := h.mustGet(cl, target)
		h.observe("user %q %s: %d blockpage=%v", c.user, target, f.status, strings.Contains(f.body, e2gBlockPage))
		if c.blocked && !strings.Contains(f.body, e2gBlockPage) {
			t.Errorf("user %q %s: %d %q, want e2guardian's block page", c.user, target, f.status, f.body)
		}
		if !c.blocked && (f.status != http.StatusOK || !strings.Contains(f.body, title(c.site))) {
			t.Errorf("user %q %s: %d %q, want the site's page", c.user, target, f.status, f.body)
		}

		resp := connect(t, h.Proxy, c.site+":443", c.user)
		loc, _ := resp.Location()
		h.observe("user %q CONNECT %s:443: %s Location %v", c.user, c.site, resp.Status, loc)
		if c.blocked && (resp.StatusCode != http.StatusFound || loc == nil || !strings.HasSuffix(loc.Hostname(), e2gRedirectHost)) {
			t.Errorf("user %q CONNECT %s: %s Location %v, want a 302 to e2guardian", c.user, c.site, resp.Status, loc)
		}
		if !c.blocked {
			if resp.StatusCode != http.StatusOK {
				t.Errorf("user %q CONNECT %s: %s, want 200", c.user, c.site, resp.Status)
			}
			// Without interception the site's own certificate comes through.
			f := h.mustGet(cl, "https://"+c.site+"/")
			if f.status != http.StatusOK || f.issuer != "Probity rig public CA" {
				t.Errorf("user %q https://%s/ via Proxy: %d issuer %q", c.user, c.site, f.status, f.issuer)
			}
		}
	}
}

func TestHelperSchoolNetMITM(t *testing.T) {
	h, ok := startHelper(t)
	if !ok {
		return
	}
	defer h.done()
	school := h.pool(h.InterceptCAFile)
	cl := h.client(h.MITMProxy, school, 10*time.Second)

	f := h.mustGet(cl, "https://allowed.example/")
	h.observe("https://allowed.example/ via MITM: %d issuer %q", f.status, f.issuer)
	if f.status != http.StatusOK || !strings.Contains(f.body, title("allowed.example")) || f.issuer != "Probity rig school intercept CA" {
		t.Errorf("https://allowed.example/ via MITM: %d issuer %q %q, want the page under the intercept CA", f.status, f.issuer, f.body)
	}
	// Trusting only the public CA, the intercepted certificate fails.
	_, err := h.get(h.client(h.MITMProxy, h.pool(h.PublicCAFile), 10*time.Second), "https://allowed.example/")
	var unknown x509.UnknownAuthorityError
	if !errors.As(err, &unknown) {
		t.Errorf("https://allowed.example/ via MITM trusting the public CA: %v, want an unknown authority", err)
	}

	for _, c := range []struct {
		user, site string
		blocked    bool
	}{
		{"", "banned.example", true},
		{"staff", "banned.example", true},
		{"student", "student.example", true},
		{"staff", "student.example", false},
	} {
		target := "https://" + c.site + "/"
		f := h.mustGet(h.client(withUser(h.MITMProxy, c.user), school, 10*time.Second), target)
		h.observe("user %q %s via MITM: %d issuer %q blockpage=%v", c.user, target, f.status, f.issuer, strings.Contains(f.body, e2gBlockPage))
		if c.blocked && !strings.Contains(f.body, e2gBlockPage) {
			t.Errorf("user %q %s via MITM: %d %q, want e2guardian's block page", c.user, target, f.status, f.body)
		}
		if !c.blocked && (f.status != http.StatusOK || !strings.Contains(f.body, title(c.site))) {
			t.Errorf("user %q %s via MITM: %d %q, want the site's page", c.user, target, f.status, f.body)
		}
		if f.issuer != "Probity rig school intercept CA" {
			t.Errorf("user %q %s via MITM: issuer %q, want the intercept CA", c.user, target, f.issuer)
		}
	}

	// e2guardian checks the site's certificate: one that does not name
	// the site gets its block page.
	f = h.mustGet(cl, "https://wrongcert.example/")
	h.observe("https://wrongcert.example/ via MITM: %d blockpage=%v", f.status, strings.Contains(f.body, e2gBlockPage))
	if !strings.Contains(f.body, e2gBlockPage) || !strings.Contains(f.body, "Certificate supplied by server was not valid") {
		t.Errorf("https://wrongcert.example/ via MITM: %d %q, want e2guardian's certificate block page", f.status, f.body)
	}
	// Directly, the same certificate fails the client's own check.
	_, err = h.get(h.client(nil, h.pool(h.PublicCAFile), 5*time.Second), "https://wrongcert.example/")
	var invalid x509.HostnameError
	if !errors.As(err, &invalid) {
		t.Errorf("https://wrongcert.example/ directly: %v, want a host name mismatch", err)
	}

	// addheaderregexplist: which scheme e2guardian sees.
	for target, want := range map[string]string{
		"https://www.youtube.com/":    `YouTube-Restrict="Strict"`,
		"https://www.youtube.com/a/b": `YouTube-Restrict="Strict"`,
		"http://www.youtube.com/":     `YouTube-Restrict="Strict"`,
		"https://m.youtube.com/":      `YouTube-Restrict=""`, // ^https:// never matches
		"https://allowed.example/":    `YouTube-Restrict=""`,
	} {
		f := h.mustGet(cl, target)
		h.observe("%s via MITM: %d %q", target, f.status, f.body)
		if !strings.Contains(f.body, want) {
			t.Errorf("%s via MITM: the site saw %q, want %s", target, f.body, want)
		}
	}
}
