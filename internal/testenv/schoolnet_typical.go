package testenv

import (
	"fmt"
	"net/http"
	"strings"
)

// Typical school filtering for the shipped default filtering suite: the
// names are the suite's own, but every one is served or refused by the
// rig, never looked up or reached on the real internet.
//
//   - A DNS filter: the IWF, CTIRU and adult test pages, EICAR, the
//     DNS-over-HTTPS canaries and Private Relay get NXDOMAIN;
//     exampleadultsite and doh.opendns.com are sinkholed to 0.0.0.0;
//     internetbadguys is sent to a block server answering 403 and
//     mozilla.cloudflare-dns.com to one serving an unbranded block page;
//     Google, Bing, DuckDuckGo and YouTube's other names are rewritten to
//     their SafeSearch names. www.youtube.com is not rewritten.
//   - A firewall resetting dns.google and dropping cloudflare-dns.com.
//   - e2guardian banning every must-block and DNS-over-HTTPS name for
//     everybody and Brook (sexual health advice) for students, and adding
//     YouTube-Restrict: Strict, which only the intercepting proxy can.
//
// TypicalPlaceholders are the URLs a school would be given for the
// suite's placeholder targets.
var TypicalPlaceholders = map[string]string{
	"iwf-test":   "http://iwf.testfiltering.example/probity",
	"ctiru-test": "http://ctiru.testfiltering.example/probity",
	"adult-test": "http://adult.testfiltering.example/probity",
}

// Names of the rig's two block servers.
const (
	typicalBlock403  = "block403.school.example"
	typicalBlockPage = "blockpage.school.example"
)

// TypicalSchool returns the options of the school described above.
func TypicalSchool() SchoolNetOptions {
	allow := []string{"www.gov.uk", "www.bbc.co.uk", "www.thenational.academy", "www.nhs.uk", "www.childline.org.uk",
		"www.ceop.police.uk", "www.thinkuknow.co.uk", "en.wikipedia.org", "www.samaritans.org", "www.youngminds.org.uk",
		"www.talktofrank.com", "www.brook.org.uk", "saferinternet.org.uk", "www.khanacademy.org"}
	safe := []string{"forcesafesearch.google.com", "strict.bing.com", "safe.duckduckgo.com", "restrict.youtube.com", "www.youtube.com"}
	var placeholderHosts []string
	for _, u := range TypicalPlaceholders {
		placeholderHosts = append(placeholderHosts, strings.Split(strings.TrimPrefix(u, "http://"), "/")[0])
	}
	sites := append(append(append([]string{}, allow...), safe...),
		"dns.google", "cloudflare-dns.com", typicalBlock403, typicalBlockPage)
	return SchoolNetOptions{
		Sites:    sites,
		NXDomain: append([]string{"secure.eicar.org", "use-application-dns.net", "mask.icloud.com", "mask-h2.icloud.com"}, placeholderHosts...),
		Sinkhole: map[string]string{"www.exampleadultsite.com": "0.0.0.0", "doh.opendns.com": "0.0.0.0"},
		CNAME: map[string]string{
			"www.google.com": "forcesafesearch.google.com", "www.bing.com": "strict.bing.com", "duckduckgo.com": "safe.duckduckgo.com",
			"m.youtube.com": "restrict.youtube.com", "youtubei.googleapis.com": "restrict.youtube.com", "www.youtube-nocookie.com": "restrict.youtube.com",
			"www.internetbadguys.com": typicalBlock403, "mozilla.cloudflare-dns.com": typicalBlockPage,
		},
		Reset: []string{"dns.google"},
		Drop:  []string{"cloudflare-dns.com"},
		ProxyBanned: append([]string{"secure.eicar.org", "www.internetbadguys.com", "www.exampleadultsite.com",
			"dns.google", "cloudflare-dns.com", "mozilla.cloudflare-dns.com", "dns.quad9.net", "doh.opendns.com"}, placeholderHosts...),
		ProxyBannedStudent: []string{"www.brook.org.uk"},
		ProxyAddHeader:     map[string]string{`^http://www\.youtube\.com`: "YouTube-Restrict: Strict"},
		Handler:            http.HandlerFunc(typicalPage),
	}
}

// typicalPage serves the typical school's internet: YouTube's restriction
// check page reports the YouTube-Restrict header it received, the block
// servers block, every other site is a small page named after its host.
func typicalPage(w http.ResponseWriter, r *http.Request) {
	host := strings.Split(r.Host, ":")[0]
	switch {
	case host == "www.youtube.com" && r.URL.Path == "/check_content_restrictions":
		switch strings.ToLower(r.Header.Get("YouTube-Restrict")) {
		case "strict":
			fmt.Fprint(w, "<html><body><h2>Strict Content Restrictions Active</h2></body></html>")
		case "moderate":
			fmt.Fprint(w, "<html><body><h2>Moderate Content Restrictions Active</h2></body></html>")
		default:
			fmt.Fprint(w, "<html><body><h2>No Content Restrictions</h2></body></html>")
		}
	case host == typicalBlock403 || host == "www.internetbadguys.com":
		http.Error(w, "Forbidden", http.StatusForbidden)
	case host == typicalBlockPage || host == "mozilla.cloudflare-dns.com":
		fmt.Fprint(w, "<html><head><title>Access denied</title></head><body><h1>This site has been blocked</h1>"+
			"<p>Access to this website is blocked by your school's web filter under its acceptable use policy.</p>"+
			"<p>Category: Proxy avoidance.</p></body></html>")
	default:
		sitePage(w, r)
	}
}
