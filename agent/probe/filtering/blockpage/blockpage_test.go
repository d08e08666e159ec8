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

// matchCase is one response and the vendor Match must report for it.
type matchCase struct {
	name     string
	status   int
	headers  http.Header
	body     []byte
	redirect string
	vendor   string // "" means not a block page
}

// matchCases are shared by TestMatch and, as seeds, FuzzMatch.
func matchCases() []matchCase {
	long := strings.Repeat("Our engineers clear blocked drains, sinks and toilets across Leeds, day or night. ", 60)
	return []matchCase{
		{name: "e2guardian", status: 200, body: page("E2Guardian - Access Denied", "Oops! You have tried visiting a website which has been deemed inappropriate:"), vendor: "e2guardian"},
		{name: "smoothwall", status: 200, body: page("Blocked", "This content has been blocked because it does not comply with the acceptable usage policy."), vendor: "Smoothwall"},
		{name: "umbrella redirect", status: 200, body: []byte("<html></html>"), redirect: "block.opendns.com", vendor: "Cisco Umbrella"},
		{name: "umbrella hit-block", status: 302, redirect: "Hit-Block.OpenDNS.com.", vendor: "Cisco Umbrella"},
		{name: "fortiguard title", status: 200, body: page("Web Filter Violation", "Web Page Blocked!"), vendor: "Fortinet FortiGuard"},
		{name: "fortiguard header", status: 200, body: []byte(`<div class="header"><h2>Powered By Fortinet</h2><h1>FortiGuard Web Filtering</h1></div>`), vendor: "Fortinet FortiGuard"},
		{name: "netsweeper location", status: 302, headers: http.Header{"Location": {"http://filter.example.org:8080/webadmin/deny/index.php?dpid=1&dpruleid=3&cat=107"}}, redirect: "filter.example.org", vendor: "Netsweeper"},
		{name: "netsweeper iframe", status: 200, body: []byte(`<iframe src="http://192.0.2.1:8080/webadmin/deny/index.php?dpid=9&dpruleid=4&cat=107"></iframe>`), vendor: "Netsweeper"},

		{name: "securly redirect", status: 302, headers: http.Header{"Location": {"https://useast-www.securly.com/blocked?useremail=pupil@example.org&reason=globalblacklist&categoryid=12&policyid=3&url=aHR0cDovL2V4YW1wbGUuY29t"}}, redirect: "useast-www.securly.com", vendor: "Securly"},
		{name: "securly script redirect", status: 200, body: []byte(`<script>location.href="https://www.securly.com/blocked?reason=globalblacklist&categoryid=5"</script>`), vendor: "Securly"},
		{name: "lightspeed title", status: 200, body: page("Lightspeed System - Web Access", "Web access to this site is restricted."), vendor: "Lightspeed Systems"},
		{name: "sophos utm footer", status: 403, body: page("Content blocked", "Powered by Sophos UTM Web Protection"), vendor: "Sophos UTM"},
		{name: "rm safetynet redirect", status: 302, headers: http.Header{"Location": {"http://fp.sn.ifl.net/filterpages/3390-59870.htm#f=1&c=59870&d=1&p=3396&u=http://www.example.org/"}}, redirect: "fp.sn.ifl.net", vendor: "RM SafetyNet"},
		{name: "rm safetynet page", status: 200, body: page("Blocked", `<a href="http://www.rm.com/filteringpolicy/">filtering policy</a>`), vendor: "RM SafetyNet"},
		{name: "palo alto default page", status: 503, body: []byte(`<body bgcolor="#e7e8e9"><div id="content"><h1>Web Page Blocked</h1><p>Access to the web page you were trying to visit has been blocked in accordance with company policy. Please contact your system administrator if you believe this is in error.</p>`), vendor: "Palo Alto Networks"},
		{name: "palo alto redirect", status: 302, headers: http.Header{"Location": {"https://192.0.2.10:6082/php/urlblock.php?args=AAAA&url=http%3A%2F%2Fexample.com"}}, redirect: "192.0.2.10", vendor: "Palo Alto Networks"},
		{name: "sonicwall title", status: 200, body: page("SonicWALL - Web Site Blocked", `If you believe the above web site is rated incorrectly click <a href="http://cfssupport.sonicwall.com/">here</a>`), vendor: "SonicWall"},
		{name: "watchguard proxy", status: 403, body: page("Request denied by WatchGuard HTTP Proxy", "Reason: category denied"), vendor: "WatchGuard"},
		{name: "zscaler redirect", status: 307, redirect: "Gateway.Zscaler.net", vendor: "Zscaler"},
		{name: "zscaler two redirect", status: 302, redirect: "gateway.zscalertwo.net", vendor: "Zscaler"},
		{name: "zscaler title", status: 200, body: page("Website blocked - Internet Security by Zscaler", "Not allowed to browse this category"), vendor: "Zscaler"},
		{name: "iboss redirect", status: 302, headers: http.Header{"Location": {"http://cb.iphantom.com/block/restricted.html?fn=x&url=example.com"}}, redirect: "cb.iphantom.com", vendor: "iboss"},
		{name: "iboss reports redirect", status: 302, headers: http.Header{"Location": {"http://192.0.2.7:8080/ibreports/ibp/bp.html?url=example.com"}}, redirect: "192.0.2.7", vendor: "iboss"},
		{name: "iboss page", status: 200, body: page("Restricted", "Access to the requested site has been restricted due to its contents."), vendor: "iboss"},
		{name: "untangle redirect", status: 307, headers: http.Header{"Location": {"http://192.0.2.1/web-filter/blockpage?nonce=abc123&appid=7"}}, redirect: "192.0.2.1", vendor: "Untangle (Arista Edge Threat Management)"},
		{name: "untangle page", status: 200, body: page("Web Filter", "<b>This web page is blocked</b> because it violates network policy."), vendor: "Untangle (Arista Edge Threat Management)"},
		{name: "check point redirect", status: 302, headers: http.Header{"Location": {"http://192.0.2.2/UserCheck/PortalMain?IID=1a2b&origUrl=aHR0cDovL2V4YW1wbGUuY29t"}}, redirect: "192.0.2.2", vendor: "Check Point"},

		{name: "generic short page", status: 403, body: page("Access Denied", "This site has been blocked by the school web filter. Category: Games. Ask your administrator to unblock it."), vendor: Unknown},
		{name: "generic private redirect", status: 302, redirect: "10.20.0.5", vendor: Unknown},
		{name: "generic loopback v6 redirect", status: 302, redirect: "::1", vendor: Unknown},

		{name: "blocked drains, long", status: 200, body: page("Blocked drains? Access denied to your drains? We unblock them", long), vendor: ""},
		{name: "blocked drains, short", status: 200, body: page("Blocked drains", "Blocked drains cleared fast. Call us today."), vendor: ""},
		{name: "news about a web filter, long", status: 200, body: page("School web filter policy", strings.Repeat("The council's web filter blocked a category of sites, and the administrator says the policy is under review. ", 30)), vendor: ""},
		// Pages that name a vendor in passing are not its block page.
		{name: "news about securly", status: 200, body: page("Securly raises funding", strings.Repeat("Securly, the web filter used by many schools, said its Chrome extension and securly.com dashboard now report blocked searches. ", 20)), vendor: ""},
		{name: "securly home page", status: 200, body: page("Securly", `<a href="https://www.securly.com/">Securly</a> web filtering for schools`), redirect: "", vendor: ""},
		{name: "news about vendors", status: 200, body: page("Which filter does your school use?", strings.Repeat("Lightspeed Systems, Zscaler, iboss, Sophos UTM, SonicWall, WatchGuard Firewall, Check Point UserCheck, Palo Alto Networks and RM SafetyNet all sell web filtering to schools; Zscaler calls it internet security. ", 15)), vendor: ""},
		{name: "zscaler in prose", status: 200, body: page("Cloud security", "We buy Internet Security by Zscaler for our offices."), vendor: ""},
		{name: "vendor home redirect", status: 301, headers: http.Header{"Location": {"https://www.zscaler.com/"}}, redirect: "www.zscaler.com", vendor: ""},
		{name: "ordinary page", status: 200, body: page("NHS", "Health A to Z"), vendor: ""},
		{name: "public redirect", status: 302, redirect: "www.gov.uk", vendor: ""},
		{name: "public ip redirect", status: 302, redirect: "146.112.61.106", vendor: ""},
		{name: "empty", status: 200, vendor: ""},
	}
}

func TestMatch(t *testing.T) {
	s, err := Shipped()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range matchCases() {
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

// FuzzMatch checks properties that hold for any response: Match does not
// panic, gives the same answer twice, and a page a fingerprint recognises
// is still recognised with unrelated text after it (a block page does not
// stop being one because the filter appended a script or a footer).
// Only the seeds run under plain go test.
func FuzzMatch(f *testing.F) {
	s, err := Shipped()
	if err != nil {
		f.Fatal(err)
	}
	for _, c := range matchCases() {
		f.Add(c.status, c.body, c.redirect, c.headers.Get("Location"), []byte("<footer>x</footer>"))
	}
	body, err := os.ReadFile("testdata/e2guardian-ukenglish-template.html")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(200, body, "", "", []byte("trailing"))
	f.Fuzz(func(t *testing.T, status int, body []byte, redirect, location string, extra []byte) {
		var h http.Header
		if location != "" {
			h = http.Header{"Location": {location}}
		}
		v, ok := s.Match(status, h, body, redirect)
		if v2, ok2 := s.Match(status, h, body, redirect); v2 != v || ok2 != ok {
			t.Fatalf("not deterministic: %q %v, then %q %v", v, ok, v2, ok2)
		}
		if ok != (v != "") {
			t.Fatalf("ok %v with vendor %q", ok, v)
		}
		s.MatchIssuer(redirect)
		if !ok || v == Unknown {
			return // the generic rule depends on length by design
		}
		// The separator is a non-word ASCII byte so that a match ending
		// at a word boundary, or in an incomplete UTF-8 sequence, still
		// ends the same way.
		longer := append(append(append([]byte{}, body...), '\n'), extra...)
		if v2, ok2 := s.Match(status, h, longer, redirect); !ok2 || v2 == Unknown {
			t.Fatalf("%q matched, but not with %q appended: %q %v", v, extra, v2, ok2)
		}
	})
}
