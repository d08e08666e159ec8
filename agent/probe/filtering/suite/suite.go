package suite

import (
	"embed"
	"fmt"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/probity-edu/probity/internal/yamlpath"
)

//go:embed suites/*.yaml
var shipped embed.FS

// Category kinds.
const (
	KindMustBlock     = "must_block"
	KindMustAllow     = "must_allow"
	KindSafeSearch    = "safesearch"
	KindCircumvention = "circumvention"
)

// Expectations.
const (
	ExpectBlock    = "block"
	ExpectAllow    = "allow"
	ExpectEnforced = "enforced"
)

// expectFor is the one expectation each kind allows: saying it in the file
// keeps the file readable on its own, checking it catches a copy-paste slip.
var expectFor = map[string]string{
	KindMustBlock:     ExpectBlock,
	KindMustAllow:     ExpectAllow,
	KindSafeSearch:    ExpectEnforced,
	KindCircumvention: ExpectBlock,
}

// Suite is one file of categories.
type Suite struct {
	Name        string     `yaml:"name"`
	Description string     `yaml:"description"`
	Categories  []Category `yaml:"categories"`

	File string `yaml:"-"` // where it was loaded from
}

// Category is a group of targets with one expected outcome.
type Category struct {
	ID      string   `yaml:"id"`
	Name    string   `yaml:"name"`
	Kind    string   `yaml:"kind"`
	Expect  string   `yaml:"expect"`
	Targets []Target `yaml:"targets"`
}

// Target is one address to test: a URL to fetch or a host to resolve.
type Target struct {
	ID  string `yaml:"id"`
	URL string `yaml:"url"`
	// Host is tested by name (DNS answer, TCP/TLS reachability) rather
	// than by fetching a page.
	Host string `yaml:"host"`
	// Placeholder: the address is the school's to supply (IWF/CTIRU test
	// URLs, a VPN endpoint); without one the target is not tested.
	Placeholder bool `yaml:"placeholder"`
	// Source is a public page documenting this test address.
	Source string `yaml:"source"`
	Note   string `yaml:"note"`

	// DNSOnly: the target is judged by its DNS answer alone. For canary
	// names (use-application-dns.net, mask.icloud.com) the answer is the
	// signal devices act on: NXDOMAIN or no address means blocked.
	DNSOnly bool `yaml:"dns_only"`

	// SafeSearch targets: the engine, what an enforcing resolver answers
	// for Host, and how to see enforcement by outcome where the filter
	// rewrites traffic instead of DNS.
	Engine   string        `yaml:"engine"`
	Enforced []Enforcement `yaml:"enforced"`
	Verify   *Verify       `yaml:"verify"`

	// Circumvention targets: ports that must not be reachable.
	Ports []int `yaml:"ports"`
}

// Enforcement is one answer an enforcing resolver gives for a SafeSearch
// host: a CNAME to the engine's enforced name or one of its addresses.
type Enforcement struct {
	Level     string   `yaml:"level"` // strict, moderate, or "" when the engine has one
	CNAME     string   `yaml:"cname"`
	Addresses []string `yaml:"addresses"`
}

// Verify is a SafeSearch check by outcome: a page of the engine fetched
// through the pupils' path, whose body says whether restrictions are on.
// It sees enforcement done by an intercepting proxy (headers, cookies,
// query rewriting) that DNS cannot show.
type Verify struct {
	URL string `yaml:"url"`
	// Method names how a proxy enforces what this page shows: header
	// (YouTube-Restrict), cookie or query. Reported with the result.
	Method  string   `yaml:"method"`
	Markers []Marker `yaml:"markers"`
}

// Marker is a regular expression (case-insensitive) that, found in the
// verify page, shows enforcement at Level.
type Marker struct {
	Level   string `yaml:"level"`
	Pattern string `yaml:"pattern"`
}

// VerifyMethods are the Verify.Method values.
var VerifyMethods = []string{"header", "cookie", "query"}

// Configured reports whether the target has an address to test. Only a
// placeholder can be unconfigured.
func (t *Target) Configured() bool { return t.URL != "" || t.Host != "" }

// Hostname is the host the target is about, from its URL or Host.
func (t *Target) Hostname() string {
	if t.Host != "" {
		return t.Host
	}
	if u, err := url.Parse(t.URL); err == nil {
		return u.Hostname()
	}
	return ""
}

var (
	idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)
	hostLabel = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
)

// validHost reports whether h is a DNS name with at least two labels.
func validHost(h string) bool {
	if len(h) > 253 || !strings.Contains(h, ".") {
		return false
	}
	for _, l := range strings.Split(h, ".") {
		if !hostLabel.MatchString(l) {
			return false
		}
	}
	return true
}

// checkURL returns what is wrong with an http(s) URL, or "".
func checkURL(s string) string {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return fmt.Sprintf("%q is not a URL", s)
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Sprintf("%q: only http and https URLs are tested", s)
	case u.Host == "" || u.Hostname() == "":
		return fmt.Sprintf("%q has no host", s)
	case u.User != nil:
		return fmt.Sprintf("%q: no user information in test URLs", s)
	}
	if _, err := netip.ParseAddr(u.Hostname()); err != nil && !validHost(strings.ToLower(u.Hostname())) {
		return fmt.Sprintf("%q: %q is not a valid host name", s, u.Hostname())
	}
	return ""
}

// Parse decodes and validates one suite file; file names it in errors.
func Parse(data []byte, file string) (*Suite, error) {
	p := &problems{File: file}
	var s Suite
	if err := yamlpath.DecodeStrict(data, p, &s, "file"); err != nil {
		return nil, err
	}
	s.File = file
	validate(&s, p)
	if err := p.Err(); err != nil {
		return nil, err
	}
	return &s, nil
}

func validate(s *Suite, p *problems) {
	if s.Name == "" {
		p.Add("name", "required")
	} else if !idPattern.MatchString(s.Name) {
		p.Add("name", "%q: use lower case letters, digits, - and _", s.Name)
	}
	if s.Description == "" {
		p.Add("description", "required: say what this suite tests")
	}
	if len(s.Categories) == 0 {
		p.Add("categories", "a suite needs categories")
	}
	cats := map[string]string{}
	targets := map[string]string{}
	for i := range s.Categories {
		c := &s.Categories[i]
		path := fmt.Sprintf("categories[%d]", i)
		if c.ID == "" {
			p.Add(path+".id", "required")
		} else if !idPattern.MatchString(c.ID) {
			p.Add(path+".id", "%q: use lower case letters, digits, - and _", c.ID)
		} else if first, dup := cats[c.ID]; dup {
			p.Add(path+".id", "duplicate category id %q (also %s)", c.ID, first)
		} else {
			cats[c.ID] = path
		}
		if c.Name == "" {
			p.Add(path+".name", "required")
		}
		want, known := expectFor[c.Kind]
		switch {
		case c.Kind == "":
			p.Add(path+".kind", "required: must_block, must_allow, safesearch or circumvention")
		case !known:
			p.Add(path+".kind", "unknown kind %q (must_block, must_allow, safesearch or circumvention)", c.Kind)
		case c.Expect == "":
			p.Add(path+".expect", "required: %s for kind %s", want, c.Kind)
		case c.Expect != want:
			p.Add(path+".expect", "%q: kind %s expects %s", c.Expect, c.Kind, want)
		}
		if len(c.Targets) == 0 {
			p.Add(path+".targets", "a category needs targets")
		}
		for j := range c.Targets {
			validateTarget(&c.Targets[j], c.Kind, fmt.Sprintf("%s.targets[%d]", path, j), targets, p)
		}
	}
}

func validateTarget(t *Target, kind, path string, ids map[string]string, p *problems) {
	if t.ID == "" {
		p.Add(path+".id", "required")
	} else if !idPattern.MatchString(t.ID) {
		p.Add(path+".id", "%q: use lower case letters, digits, - and _", t.ID)
	} else if first, dup := ids[t.ID]; dup {
		p.Add(path+".id", "duplicate target id %q (also %s)", t.ID, first)
	} else {
		ids[t.ID] = path
	}
	switch {
	case t.URL != "" && t.Host != "":
		p.Add(path, "has both url and host: give one")
	case t.URL == "" && t.Host == "" && !t.Placeholder:
		p.Add(path, "needs url or host (or placeholder: true for an address the school supplies)")
	}
	if t.Placeholder && kind != KindMustBlock && kind != KindCircumvention {
		p.Add(path+".placeholder", "only must_block and circumvention targets can be placeholders")
	}
	if t.URL != "" {
		if msg := checkURL(t.URL); msg != "" {
			p.Add(path+".url", "%s", msg)
		}
	}
	if t.Host != "" && !validHost(t.Host) {
		p.Add(path+".host", "%q is not a valid host name (lower case, at least two labels)", t.Host)
	}
	if t.Source != "" {
		if msg := checkURL(t.Source); msg != "" {
			p.Add(path+".source", "%s", msg)
		}
	}
	if kind == KindSafeSearch {
		validateSafeSearch(t, path, p)
	} else {
		for key, set := range map[string]bool{"engine": t.Engine != "", "enforced": len(t.Enforced) > 0, "verify": t.Verify != nil} {
			if set {
				p.Add(path+"."+key, "only for safesearch targets")
			}
		}
	}
	if t.DNSOnly && (kind != KindCircumvention || t.Host == "") {
		p.Add(path+".dns_only", "only for circumvention targets given by host")
	}
	if len(t.Ports) > 0 && kind != KindCircumvention {
		p.Add(path+".ports", "only for circumvention targets")
	}
	for k, port := range t.Ports {
		if port < 1 || port > 65535 {
			p.Add(fmt.Sprintf("%s.ports[%d]", path, k), "%d is not a port (1-65535)", port)
		}
	}
}

func validateSafeSearch(t *Target, path string, p *problems) {
	if t.Host == "" {
		p.Add(path+".host", "required for a safesearch target: the engine's host name")
	}
	if t.Engine == "" {
		p.Add(path+".engine", "required: the search engine (google, youtube, bing, duckduckgo...)")
	} else if !idPattern.MatchString(t.Engine) {
		p.Add(path+".engine", "%q: use lower case letters, digits, - and _", t.Engine)
	}
	if len(t.Enforced) == 0 {
		p.Add(path+".enforced", "required: what an enforcing resolver answers (cname or addresses)")
	}
	for i, e := range t.Enforced {
		ep := fmt.Sprintf("%s.enforced[%d]", path, i)
		if e.CNAME == "" && len(e.Addresses) == 0 {
			p.Add(ep, "needs cname or addresses")
		}
		if e.CNAME != "" && !validHost(e.CNAME) {
			p.Add(ep+".cname", "%q is not a valid host name", e.CNAME)
		}
		for k, a := range e.Addresses {
			if _, err := netip.ParseAddr(a); err != nil {
				p.Add(fmt.Sprintf("%s.addresses[%d]", ep, k), "%q is not an IP address", a)
			}
		}
	}
	if v := t.Verify; v != nil {
		if v.URL == "" {
			p.Add(path+".verify.url", "required")
		} else if msg := checkURL(v.URL); msg != "" {
			p.Add(path+".verify.url", "%s", msg)
		}
		if v.Method != "" && !slices.Contains(VerifyMethods, v.Method) {
			p.Add(path+".verify.method", "unknown method %q (header, cookie or query)", v.Method)
		}
		if len(v.Markers) == 0 {
			p.Add(path+".verify.markers", "required: patterns that show enforcement on the page")
		}
		for i, m := range v.Markers {
			mp := fmt.Sprintf("%s.verify.markers[%d].pattern", path, i)
			if m.Pattern == "" {
				p.Add(mp, "required")
			} else if _, err := regexp.Compile("(?i)" + m.Pattern); err != nil {
				p.Add(mp, "%v", err)
			}
		}
	}
}
