package filtering

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"testing"
	"time"

	"github.com/probity-edu/probity/agent/probe"
	"github.com/probity-edu/probity/internal/point"
	"github.com/probity-edu/probity/internal/testenv"
)

// rigConfig is the probe's configuration inside the typical school: the
// shipped suite, its placeholders filled, four profiles: no proxy (what a
// device that bypasses the proxy gets), students and staff through the
// intercepting proxy (identified by proxy authentication) and guests
// through the plain one.
func rigConfig(s *testenv.SchoolNet) Config {
	c := Defaults
	c.Targets = testenv.TypicalPlaceholders
	c.CAFile = s.PublicCAFile
	c.InspectCAFile = s.InterceptCAFile
	c.Timeout = 3 * time.Second
	c.Profiles = []Profile{
		{Name: "direct"},
		{Name: "student", Proxy: s.MITMProxy.String(), Username: "student", Password: "x"},
		{Name: "staff", Proxy: s.MITMProxy.String(), Username: "staff", Password: "x"},
		{Name: "guest", Proxy: s.Proxy.String()},
	}
	return c
}

// TestHelperRigRun is the probe run inside the school namespace.
func TestHelperRigRun(t *testing.T) {
	if !testenv.IsHelper(t) {
		t.Skip("runs inside the school network (TestIntegrationTypicalSchool)")
	}
	s := testenv.HelperSchoolNet(t)
	p, err := New(rigConfig(s), probe.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	pts, err := p.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	testenv.WriteHelperResult(t, pts)
}

// TestIntegrationTypicalSchool runs the shipped suite as four profiles in a
// school network built of namespaces, dnsmasq, nft and two e2guardians, and
// checks the outcome and mechanism of every check that the school's setup
// decides.
func TestIntegrationTypicalSchool(t *testing.T) {
	s := testenv.NewSchoolNet(t, testenv.TypicalSchool())
	var pts []point.Point
	s.School.RunHelper(t, "TestHelperRigRun", &pts, s.HelperEnv()...)
	got := map[string]point.Point{}
	for _, p := range pts {
		got[p.Measurement+" "+p.Tags["profile"]+" "+p.Tags["target"]] = p
	}
	if os.Getenv("PROBITY_RIG_DUMP") != "" {
		keys := make([]string, 0, len(got))
		for k := range got {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			b, _ := json.Marshal(got[k].Fields)
			t.Logf("%s %s", k, b)
		}
	}

	type want struct{ outcome, mechanism, detail string }
	cases := map[string]want{
		// The DNS filter and firewall, seen without the proxy.
		"direct iwf-test":               {"blocked", "dns_nxdomain", "iwf.testfiltering.example"},
		"direct exampleadultsite":       {"blocked", "dns_sinkhole", "0.0.0.0"},
		"direct internetbadguys":        {"blocked", "http_status", "403"},
		"direct doh-cloudflare-mozilla": {"blocked", "http_blockpage", "unknown"},
		"direct doh-google":             {"blocked", "tcp_reset", ""},
		"direct doh-cloudflare":         {"error", "timeout", ""},
		"direct doh-opendns":            {"blocked", "dns_sinkhole", "0.0.0.0"},
		"direct doh-canary":             {"blocked", "dns_nxdomain", "use-application-dns.net"},
		"direct brook":                  {"allowed", "", ""},
		"direct nhs":                    {"allowed", "", ""},
		// The intercepting proxy: block pages inside TLS signed by the
		// school CA, allowed pages judged by content.
		"student eicar-com-txt": {"blocked", "tls_intercept", ""},
		"student iwf-test":      {"blocked", "http_blockpage", "e2guardian"},
		"student brook":         {"blocked", "tls_intercept", ""},
		"staff brook":           {"allowed", "", ""},
		"student nhs":           {"allowed", "", ""},
		"student doh-google":    {"blocked", "tls_intercept", ""},
		"student private-relay": {"blocked", "dns_nxdomain", "mask.icloud.com"},
		// The plain proxy: a CONNECT to a banned site is redirected to
		// e2guardian's block page.
		"guest eicar-com-txt": {"blocked", "http_blockpage", "e2guardian"},
		"guest brook":         {"blocked", "http_blockpage", "e2guardian"},
		"guest nhs":           {"allowed", "", ""},
	}
	for key, w := range cases {
		p, ok := got["filter "+key]
		if !ok {
			t.Errorf("%s: no point", key)
			continue
		}
		mech, _ := p.Fields["mechanism"].(string)
		detail, _ := p.Fields["detail"].(string)
		if p.Fields["outcome"] != w.outcome || mech != w.mechanism || (w.detail != "" && detail != w.detail) {
			t.Errorf("%s: %s %q %q (error %v); want %s %q %q", key, p.Fields["outcome"], mech, detail, p.Fields["error"], w.outcome, w.mechanism, w.detail)
		}
	}
	ss := map[string]string{
		"direct google": "dns", "direct bing": "dns", "direct duckduckgo": "dns", "direct youtube-mobile": "dns",
		"direct youtube": "none", "guest youtube": "none",
		"student youtube": "header", "staff youtube": "header",
	}
	for key, method := range ss {
		p, ok := got["safesearch "+key]
		if !ok {
			t.Errorf("safesearch %s: no point", key)
			continue
		}
		if p.Fields["method"] != method || p.Fields["enforced"] != (method != "none") || p.Fields["ok"] != true {
			t.Errorf("safesearch %s: %v; want method %s", key, p.Fields, method)
		}
	}
	if l := got["safesearch student youtube"].Fields["level"]; l != "strict" {
		t.Errorf("student youtube level %v", l)
	}
	// Every must-block check that could tell is blocked for every profile.
	for k, p := range got {
		if p.Tags["kind"] == "must_block" && p.Fields["ok"] == true && p.Fields["pass"] != true {
			t.Errorf("%s: must-block target not blocked: %v", k, p.Fields)
		}
	}
	fmt.Fprintf(os.Stderr, "typical school: %d points\n", len(pts))
}
