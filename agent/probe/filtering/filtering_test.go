package filtering

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/probity-edu/probity/agent/probe"
	"github.com/probity-edu/probity/internal/point"
	"github.com/probity-edu/probity/internal/testenv"
)

func TestConfigErrors(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		change func(*Config)
		want   string
	}{
		{func(c *Config) { c.Suites = []string{"nope"} }, `suites[0]: no suite "nope" (known: default)`},
		{func(c *Config) { c.Suites = nil }, `suites: at least one suite is required`},
		{func(c *Config) { c.Targets = map[string]string{"nhs": "https://x.example/"} }, `targets.nhs: no placeholder target "nhs"`},
		{func(c *Config) { c.Targets = map[string]string{"iwf-test": "ftp://x.example/"} }, `targets.iwf-test: "ftp://x.example/" is not an http or https URL`},
		{func(c *Config) { c.Targets = map[string]string{"vpn-ports": "https://vpn.example/"} }, `targets.vpn-ports: "https://vpn.example/": give the host name`},
		{func(c *Config) { c.Profiles = []Profile{{Name: "Student"}} }, `profiles[0].name: "Student": use lower case`},
		{func(c *Config) { c.Profiles = []Profile{{Name: "a"}, {Name: "a"}} }, `profiles[1].name: duplicate profile "a"`},
		{func(c *Config) { c.Profiles = []Profile{{Name: "s", Proxy: "socks5://p:1080"}} }, `profiles[0].proxy: "socks5://p:1080": give http://host:port`},
		{func(c *Config) { c.Profiles = []Profile{{Name: "s", Proxy: "http://u:p@proxy:8080"}} }, `profiles[0].proxy: put credentials in username and password`},
		{func(c *Config) { c.Profiles = []Profile{{Name: "s", Username: "u"}} }, `profiles[0].username: credentials need a proxy`},
		{func(c *Config) {
			c.Profiles = []Profile{{Name: "s", Proxy: "http://p:1", PasswordFile: filepath.Join(dir, "none")}}
		}, `profiles[0].password_file: stat`},
		{func(c *Config) { c.Resolver = "dns.example" }, `resolver: "dns.example" is not ip:port`},
		{func(c *Config) { c.SinkholeAddresses = []string{"10.0.0"} }, `sinkhole_addresses[0]: "10.0.0" is not an IP address`},
		{func(c *Config) { c.InspectCAFile = filepath.Join(dir, "none.pem") }, `inspect_ca_file: stat`},
		{func(c *Config) { c.Timeout = 0 }, `timeout: must be between 0 and 2m`},
		{func(c *Config) { c.Workers = 0 }, `workers: must be between 1 and 64`},
		{func(c *Config) { c.SuitesDir = filepath.Join(dir, "missing") }, `suites_dir: suites`},
	}
	for _, tc := range cases {
		c := Defaults
		tc.change(&c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("want %q, got %v", tc.want, err)
		}
	}
	if err := Defaults.Validate(); err != nil {
		t.Errorf("defaults: %v", err)
	}
}

// lab is a loopback "school": a DNS server answering for the test names,
// pages on 127.0.0.1 and a suite file pointing at them.
type lab struct {
	dns      *testenv.DNSServer
	dir      string
	openPort int // a TCP port that accepts
	shutPort int // a TCP port nothing listens on
}

func newLab(t *testing.T) *lab {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		switch strings.Split(r.Host, ":")[0] {
		case "blockpage.test":
			fmt.Fprint(w, "<html><title>E2Guardian - Access Denied</title>E2Guardian - Access Denied</html>")
		case "forbidden.test":
			http.Error(w, "no", http.StatusForbidden)
		case "yt.test":
			fmt.Fprint(w, "<p>Strict Content Restrictions Active</p>")
		case "plain-yt.test":
			fmt.Fprint(w, "<p>No Content Restrictions</p>")
		default:
			fmt.Fprint(w, "<html><title>ok</title>a page</html>")
		}
	})
	web := httptest.NewServer(mux)
	t.Cleanup(web.Close)
	webPort := web.Listener.Addr().(*net.TCPAddr).Port

	open, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { open.Close() })
	go func() {
		for {
			c, err := open.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	var recs []string
	for _, n := range []string{"allowed.test", "blockpage.test", "forbidden.test", "yt.test", "plain-yt.test", "vpn.test", "doh-open.test"} {
		recs = append(recs, n+". 60 IN A 127.0.0.1")
	}
	recs = append(recs,
		"sinkholed.test. 60 IN A 0.0.0.0",
		"www.google.test. 60 IN CNAME forcesafesearch.google.test.",
		"forcesafesearch.google.test. 60 IN A 216.239.38.120",
		"www.bing.test. 60 IN A 13.107.21.200",
		"canary-open.test. 60 IN A 192.0.2.1",
		"relay-nodata.test. 60 IN TXT \"no address here\"",
	)
	dnsSrv := testenv.StartDNS(t, recs, "nx.test", "canary.test")
	// The closed port is picked after every listener of the lab exists, so
	// the kernel cannot hand it to one of them.
	shut, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	shutPort := shut.Addr().(*net.TCPAddr).Port
	shut.Close()
	l := &lab{dns: dnsSrv, dir: t.TempDir(), openPort: open.Addr().(*net.TCPAddr).Port, shutPort: shutPort}
	w := strconv.Itoa(webPort)
	suite := `name: lab
description: Loopback targets for every classification path.
categories:
  - id: adult-content
    name: Adult
    kind: must_block
    expect: block
    targets:
      - {id: nx, url: "http://nx.test:` + w + `/"}
      - {id: sinkholed, url: "http://sinkholed.test:` + w + `/"}
      - {id: blockpage, url: "http://blockpage.test:` + w + `/"}
      - {id: forbidden, url: "http://forbidden.test:` + w + `/"}
      - {id: leaky, url: "http://allowed.test:` + w + `/leak"}
      - {id: provider-test, placeholder: true}
  - id: must-allow
    name: Allowed
    kind: must_allow
    expect: allow
    targets:
      - {id: good, url: "http://allowed.test:` + w + `/"}
      - {id: overblocked, url: "http://blockpage.test:` + w + `/edu"}
  - id: safesearch
    name: SafeSearch
    kind: safesearch
    expect: enforced
    targets:
      - {id: google, engine: google, host: www.google.test, enforced: [{cname: forcesafesearch.google.test}]}
      - {id: bing, engine: bing, host: www.bing.test, enforced: [{cname: strict.bing.test, addresses: [204.79.197.220]}]}
      - id: youtube
        engine: youtube
        host: yt.test
        enforced: [{level: strict, cname: restrict.youtube.test}]
        verify:
          url: "http://yt.test:` + w + `/check_content_restrictions"
          method: header
          markers: [{level: strict, pattern: 'strict\s+content\s+restrictions\s+active'}]
      - id: youtube-plain
        engine: youtube
        host: plain-yt.test
        enforced: [{level: strict, cname: restrict.youtube.test}]
        verify:
          url: "http://plain-yt.test:` + w + `/check_content_restrictions"
          markers: [{level: strict, pattern: 'strict\s+content\s+restrictions\s+active'}]
  - id: circumvention
    name: Ways round
    kind: circumvention
    expect: block
    targets:
      - {id: canary, host: canary.test, dns_only: true}
      - {id: canary-open, host: canary-open.test, dns_only: true}
      - {id: relay-nodata, host: relay-nodata.test, dns_only: true}
  - id: vpn
    name: VPN
    kind: circumvention
    expect: block
    targets:
      - {id: vpn, placeholder: true, ports: [` + strconv.Itoa(l.openPort) + `, ` + strconv.Itoa(shutPort) + `]}
`
	if err := os.WriteFile(filepath.Join(l.dir, "lab.yaml"), []byte(suite), 0o644); err != nil {
		t.Fatal(err)
	}
	return l
}

func (l *lab) config() Config {
	c := Defaults
	c.Suites = []string{"lab"}
	c.SuitesDir = l.dir
	c.Resolver = l.dns.Addr
	c.Timeout = 5 * time.Second
	c.Targets = map[string]string{"vpn": "vpn.test"}
	// The lab's sites live on 127.0.0.1; 0.0.0.0 is the filter's sinkhole.
	c.AllowPrivate = true
	c.SinkholeAddresses = []string{"0.0.0.0"}
	return c
}

// byTarget indexes points by measurement and target tag.
func byTarget(pts []point.Point) map[string]point.Point {
	m := map[string]point.Point{}
	for _, p := range pts {
		m[p.Measurement+"/"+p.Tags["profile"]+"/"+p.Tags["target"]] = p
	}
	return m
}

// TestRunOnLoopback runs the real probe against a loopback DNS server and
// web server: every classification path, SafeSearch by DNS and by verify
// page, the DNS canaries and the VPN ports, with the exact outcome and
// mechanism of each.
func TestRunOnLoopback(t *testing.T) {
	l := newLab(t)
	p, err := New(l.config(), probe.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	pts, err := p.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, pt := range pts {
		if err := pt.Validate(); err != nil {
			t.Errorf("invalid point: %v", err)
		}
	}
	got := byTarget(pts)
	vpnOpen, vpnShut := "vpn:"+strconv.Itoa(l.openPort), "vpn:"+strconv.Itoa(l.shutPort)
	want := []struct {
		target, outcome, mechanism string
		pass                       bool
	}{
		{"nx", "blocked", "dns_nxdomain", true},
		{"blockpage", "blocked", "http_blockpage", true},
		{"forbidden", "blocked", "http_status", true},
		{"leaky", "allowed", "", false},
		{"good", "allowed", "", true},
		{"overblocked", "blocked", "http_blockpage", false},
		{"canary", "blocked", "dns_nxdomain", true},
		{"canary-open", "allowed", "", false},
		{"relay-nodata", "blocked", "dns_nxdomain", true},
		{vpnOpen, "allowed", "", false},
		{vpnShut, "blocked", "tcp_reset", true},
	}
	for _, w := range want {
		pt, ok := got["filter/default/"+w.target]
		if !ok {
			t.Errorf("%s: no point", w.target)
			continue
		}
		f := pt.Fields
		mech, _ := f["mechanism"].(string)
		if f["outcome"] != w.outcome || mech != w.mechanism || f["pass"] != w.pass || f["ok"] != true {
			t.Errorf("%s: outcome %v mechanism %q pass %v ok %v (detail %v, error %v); want %s %q pass %v",
				w.target, f["outcome"], mech, f["pass"], f["ok"], f["detail"], f["error"], w.outcome, w.mechanism, w.pass)
		}
	}
	if f := got["filter/default/sinkholed"].Fields; f["mechanism"] != "dns_sinkhole" || f["detail"] != "0.0.0.0" {
		t.Errorf("sinkholed: %v", f)
	}
	if _, ok := got["filter/default/provider-test"]; ok {
		t.Error("an unconfigured placeholder was checked")
	}
	if _, ok := got["filter/default/vpn"]; ok {
		t.Error("the VPN target has a point without a port")
	}
	ss := []struct {
		target, method, level string
		enforced              bool
	}{
		{"google", "dns", "", true},
		{"bing", "none", "", false},
		{"youtube", "header", "strict", true},
		{"youtube-plain", "none", "", false},
	}
	for _, w := range ss {
		f := got["safesearch/default/"+w.target].Fields
		level, _ := f["level"].(string)
		if f["enforced"] != w.enforced || f["method"] != w.method || level != w.level || f["ok"] != true {
			t.Errorf("safesearch %s: %v; want enforced %v method %s level %q", w.target, f, w.enforced, w.method, w.level)
		}
	}
	if d := got["safesearch/default/youtube-plain"].Fields["detail"]; d != "dns: 127.0.0.1; verify page shows no restriction" {
		t.Errorf("youtube-plain detail %q", d)
	}
	pt := got["filter/default/nx"]
	for k, v := range map[string]string{"suite": "lab", "category": "adult-content", "kind": "must_block", "expect": "block", "profile": "default"} {
		if pt.Tags[k] != v {
			t.Errorf("nx tag %s = %q, want %q", k, pt.Tags[k], v)
		}
	}
}

// TestPrivateAnswersAreSinkholes: without allow_private, an answer on a
// private, loopback or unspecified address is a sinkhole, as it would be
// for a public site at a school, and a canary answered so is blocked.
func TestPrivateAnswersAreSinkholes(t *testing.T) {
	l := newLab(t)
	c := l.config()
	c.AllowPrivate, c.SinkholeAddresses = false, nil
	p, err := New(c, probe.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	pts, _ := p.Run(context.Background())
	got := byTarget(pts)
	for tg, addr := range map[string]string{"good": "127.0.0.1", "sinkholed": "0.0.0.0", "canary-open": "192.0.2.1"} {
		f := got["filter/default/"+tg].Fields
		wantMech := "dns_sinkhole"
		if tg == "canary-open" {
			wantMech = "" // 192.0.2.1 is documentation space, not private: an answer
		}
		mech, _ := f["mechanism"].(string)
		if mech != wantMech || (wantMech != "" && f["detail"] != addr) {
			t.Errorf("%s: %v", tg, f)
		}
	}
}

// TestProxyDown: a profile whose proxy does not answer gives error
// outcomes with the reason, never a false "blocked".
func TestProxyDown(t *testing.T) {
	l := newLab(t)
	c := l.config()
	c.Profiles = []Profile{{Name: "student", Proxy: "http://127.0.0.1:" + strconv.Itoa(l.shutPort), Username: "student", Password: "x"}}
	p, err := New(c, probe.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	pts, _ := p.Run(context.Background())
	got := byTarget(pts)
	for _, tg := range []string{"blockpage", "good", "leaky"} {
		f := got["filter/student/"+tg].Fields
		if f["outcome"] != "error" || f["ok"] != false || f["pass"] != false || !strings.Contains(fmt.Sprint(f["error"]), "refused") {
			t.Errorf("%s through a dead proxy: %v", tg, f)
		}
	}
	// DNS-only checks do not go through the proxy and still count.
	if f := got["filter/student/canary"].Fields; f["outcome"] != "blocked" {
		t.Errorf("canary as student: %v", f)
	}
}

// TestSlowTarget: a site that accepts but never answers is an error with
// the reason (timeout), not a block, unless timeout_is_block says so.
func TestSlowTarget(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var held []net.Conn
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			held = append(held, c) // never answers
		}
	}()
	dnsSrv := testenv.StartDNS(t, []string{"slow.test. 60 IN A 127.0.0.1"})
	dir := t.TempDir()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	suite := "name: slow\ndescription: d\ncategories:\n  - id: adult-content\n    name: A\n    kind: must_block\n    expect: block\n    targets:\n      - {id: slow, url: \"http://slow.test:" + port + "/\"}\n"
	if err := os.WriteFile(filepath.Join(dir, "s.yaml"), []byte(suite), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, block := range []bool{false, true} {
		c := Defaults
		c.Suites, c.SuitesDir, c.Resolver, c.AllowPrivate = []string{"slow"}, dir, dnsSrv.Addr, true
		c.Timeout, c.TimeoutIsBlock = 300*time.Millisecond, block
		p, err := New(c, probe.Deps{})
		if err != nil {
			t.Fatal(err)
		}
		pts, _ := p.Run(context.Background())
		f := pts[0].Fields
		want := map[bool]string{false: "error", true: "blocked"}[block]
		if f["outcome"] != want || f["mechanism"] != "timeout" {
			t.Errorf("timeout_is_block=%v: %v", block, f)
		}
	}
}

func TestFillLeavesShippedSuiteAlone(t *testing.T) {
	c := Defaults
	c.Targets = map[string]string{"iwf-test": "http://iwf.example.net/test", "vpn-ports": "vpn.example.net"}
	p, err := New(withResolver(c), probe.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	var iwf, vpn string
	for _, cat := range p.suites[0].Categories {
		for _, tg := range cat.Targets {
			switch tg.ID {
			case "iwf-test":
				iwf = tg.URL
			case "vpn-ports":
				vpn = tg.Host
			}
		}
	}
	if iwf != "http://iwf.example.net/test" || vpn != "vpn.example.net" {
		t.Errorf("filled: iwf %q vpn %q", iwf, vpn)
	}
	again, err := New(withResolver(Defaults), probe.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	for _, cat := range again.suites[0].Categories {
		for _, tg := range cat.Targets {
			if tg.ID == "iwf-test" && tg.Configured() {
				t.Errorf("the shipped suite kept a school's URL: %+v", tg)
			}
		}
	}
}

// withResolver names a resolver so New does not read /etc/resolv.conf (no
// lookup is made by these tests).
func withResolver(c Config) Config {
	c.Resolver = "127.0.0.1:53"
	return c
}

func TestProfileProxyURL(t *testing.T) {
	dir := t.TempDir()
	pw := filepath.Join(dir, "pw")
	if err := os.WriteFile(pw, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	u, err := Profile{Name: "staff", Proxy: "http://proxy.school:8080", Username: "staff1", Password: "ignored", PasswordFile: pw}.proxyURL()
	if err != nil {
		t.Fatal(err)
	}
	if got := u.String(); got != "http://staff1:s3cret@proxy.school:8080" {
		t.Errorf("proxy URL %s", got)
	}
	t.Setenv("HTTPS_PROXY", "http://env-proxy:3128")
	u, err = Profile{Name: "s", Proxy: "env"}.proxyURL()
	if err != nil || u.Host != "env-proxy:3128" {
		t.Errorf("env proxy: %v %v", u, err)
	}
	for _, k := range []string{"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"} {
		t.Setenv(k, "")
	}
	if _, err := (Profile{Name: "s", Proxy: "env"}).proxyURL(); err == nil || !strings.Contains(err.Error(), "HTTPS_PROXY and HTTP_PROXY are unset") {
		t.Errorf("unset env proxy: %v", err)
	}
	var none *url.URL
	if u, _ := (Profile{Name: "d"}).proxyURL(); u != none {
		t.Errorf("direct profile got proxy %v", u)
	}
}
