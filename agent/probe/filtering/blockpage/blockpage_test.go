package blockpage

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestShippedFingerprintsLoad(t *testing.T) {
	s, err := Shipped()
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Fingerprints()) < 5 {
		t.Errorf("only %d fingerprints", len(s.Fingerprints()))
	}
	for _, f := range s.Fingerprints() {
		if f.Source == "" || f.Vendor == "" {
			t.Errorf("%s: missing vendor or source", f.File)
		}
	}
}

func TestBadFingerprints(t *testing.T) {
	cases := map[string][]string{
		"unknown-key.yaml": {`unknown-key.yaml:5: match: unknown key "body_contain"`},
		"bad-regexp.yaml": {
			`bad-regexp.yaml:5: match.status[1]: 999 is not an HTTP status`,
			"bad-regexp.yaml:7: match.body_regexps[0]: not a regular expression: error parsing regexp: missing closing ): `(unclosed`",
		},
		"no-rules.yaml": {
			`no-rules.yaml:3: source: "example.com/blockpage" is not an http(s) URL`,
			`no-rules.yaml:4: match: needs redirect_hosts, body_contains`,
		},
	}
	files, _ := filepath.Glob("testdata/bad/*.yaml")
	if len(files) != len(cases) {
		t.Errorf("%d files in testdata/bad, %d cases", len(files), len(cases))
	}
	for name, wants := range cases {
		data, err := os.ReadFile(filepath.Join("testdata/bad", name))
		if err != nil {
			t.Fatal(err)
		}
		_, err = Parse(data, name)
		if err == nil {
			t.Errorf("%s: loaded without error", name)
			continue
		}
		for _, w := range wants {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error\n%v\nlacks\n%s", name, err, w)
			}
		}
	}
}

// page wraps text in a small HTML page.
func page(title, text string) []byte {
	return []byte("<html><head><title>" + title + "</title><style>body{font-family:sans-serif}</style></head><body><h1>" + title + "</h1><p>" + text + "</p></body></html>")
}

func TestMatch(t *testing.T) {
	s, err := Shipped()
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("Our engineers clear blocked drains, sinks and toilets across Leeds, day or night. ", 60)
	cases := []struct {
		name     string
		status   int
		headers  http.Header
		body     []byte
		redirect string
		vendor   string // "" means not a block page
	}{
		{name: "e2guardian", status: 200, body: page("E2Guardian - Access Denied", "Oops! You have tried visiting a website which has been deemed inappropriate:"), vendor: "e2guardian"},
		{name: "smoothwall", status: 200, body: page("Blocked", "This content has been blocked because it does not comply with the acceptable usage policy."), vendor: "Smoothwall"},
		{name: "umbrella redirect", status: 200, body: []byte("<html></html>"), redirect: "block.opendns.com", vendor: "Cisco Umbrella"},
		{name: "umbrella hit-block", status: 302, redirect: "Hit-Block.OpenDNS.com.", vendor: "Cisco Umbrella"},
		{name: "fortiguard title", status: 200, body: page("Web Filter Violation", "Web Page Blocked!"), vendor: "Fortinet FortiGuard"},
		{name: "fortiguard header", status: 200, body: []byte(`<div class="header"><h2>Powered By Fortinet</h2><h1>FortiGuard Web Filtering</h1></div>`), vendor: "Fortinet FortiGuard"},
		{name: "netsweeper location", status: 302, headers: http.Header{"Location": {"http://filter.example.org:8080/webadmin/deny/index.php?dpid=1&dpruleid=3&cat=107"}}, redirect: "filter.example.org", vendor: "Netsweeper"},
		{name: "netsweeper iframe", status: 200, body: []byte(`<iframe src="http://192.0.2.1:8080/webadmin/deny/index.php?dpid=9&dpruleid=4&cat=107"></iframe>`), vendor: "Netsweeper"},

		{name: "generic short page", status: 403, body: page("Access Denied", "This site has been blocked by the school web filter. Category: Games. Ask your administrator to unblock it."), vendor: Unknown},
		{name: "generic private redirect", status: 302, redirect: "10.20.0.5", vendor: Unknown},
		{name: "generic loopback v6 redirect", status: 302, redirect: "::1", vendor: Unknown},

		{name: "blocked drains, long", status: 200, body: page("Blocked drains? Access denied to your drains? We unblock them", long), vendor: ""},
		{name: "blocked drains, short", status: 200, body: page("Blocked drains", "Blocked drains cleared fast. Call us today."), vendor: ""},
		{name: "news about a web filter, long", status: 200, body: page("School web filter policy", strings.Repeat("The council's web filter blocked a category of sites, and the administrator says the policy is under review. ", 30)), vendor: ""},
		{name: "ordinary page", status: 200, body: page("NHS", "Health A to Z"), vendor: ""},
		{name: "public redirect", status: 302, redirect: "www.gov.uk", vendor: ""},
		{name: "public ip redirect", status: 302, redirect: "146.112.61.106", vendor: ""},
		{name: "empty", status: 200, vendor: ""},
	}
	for _, c := range cases {
		v, ok := s.Match(c.status, c.headers, c.body, c.redirect)
		if ok != (c.vendor != "") || v != c.vendor {
			t.Errorf("%s: got %q, %v; want %q", c.name, v, ok, c.vendor)
		}
	}
}

// The page e2guardian really serves comes from its template; the Debian
// package's UK English template (copied into testdata, and read from
// /etc/e2guardian when the package is installed) must be recognised.
func TestRealE2guardianTemplate(t *testing.T) {
	s, err := Shipped()
	if err != nil {
		t.Fatal(err)
	}
	files := []string{"testdata/e2guardian-ukenglish-template.html"}
	if _, err := os.Stat("/etc/e2guardian/languages/ukenglish/template.html"); err == nil {
		files = append(files, "/etc/e2guardian/languages/ukenglish/template.html")
	}
	for _, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if v, ok := s.Match(200, http.Header{"Content-Type": {"text/html"}}, body, ""); !ok || v != "e2guardian" {
			t.Errorf("%s: got %q, %v", f, v, ok)
		}
	}
}

func TestOverrideFolder(t *testing.T) {
	s, err := Load("testdata/override")
	if err != nil {
		t.Fatal(err)
	}
	v, ok := s.Match(200, nil, page("Blocked", "Example Academy has blocked this page."), "")
	if !ok || v != "Smoothwall (Example Academy)" {
		t.Errorf("replaced fingerprint: %q %v", v, ok)
	}
	// The shipped Smoothwall text went with the replaced fingerprint.
	if v, _ := s.Match(200, nil, page("Blocked", "This content has been blocked because it does not comply with the acceptable usage policy."), ""); v == "Smoothwall" {
		t.Errorf("shipped smoothwall survived the override: %q", v)
	}
	if v, ok := s.Match(302, nil, nil, "block.filter.example.org"); !ok || v != "Example Academy proxy" {
		t.Errorf("added fingerprint by redirect: %q %v", v, ok)
	}
	if v, ok := s.MatchIssuer("CN=Example Academy Inspection CA,O=Example Academy"); !ok || v != "Example Academy proxy" {
		t.Errorf("issuer: %q %v", v, ok)
	}
	if _, ok := s.MatchIssuer("CN=R11,O=Let's Encrypt,C=US"); ok {
		t.Error("a public CA matched a filter")
	}
	if v, ok := s.Match(200, nil, page("E2Guardian - Access Denied", ""), ""); !ok || v != "e2guardian" {
		t.Errorf("shipped fingerprint lost: %q %v", v, ok)
	}
}
