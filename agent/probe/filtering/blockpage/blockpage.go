package blockpage

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/probity-edu/probity/internal/yamlpath"
)

//go:embed vendors/*.yaml
var shipped embed.FS

// Unknown is the vendor Match reports for a block page no fingerprint
// describes.
const Unknown = "unknown"

// Fingerprint describes one filter product's block page.
type Fingerprint struct {
	ID     string `yaml:"id"`
	Vendor string `yaml:"vendor"`
	Source string `yaml:"source"` // public page showing the block page
	Note   string `yaml:"note"`
	Match  Rules  `yaml:"match"`

	File    string           `yaml:"-"`
	regexps []*regexp.Regexp // compiled Match.BodyRegexps
}

// Rules say how to recognise the page. Status, when given, must hold; then
// any one of the other rules is enough.
type Rules struct {
	Status []int `yaml:"status"`
	// RedirectHosts: the host a blocked request is redirected to; an
	// entry "*.example.com" matches example.com and any name under it.
	RedirectHosts []string `yaml:"redirect_hosts"`
	// BodyContains: text in the page, compared without case.
	BodyContains []string      `yaml:"body_contains"`
	BodyRegexps  []string      `yaml:"body_regexps"`
	Headers      []HeaderMatch `yaml:"headers"`
	// CertIssuers: text in the issuer of the certificate a filter presents
	// when it intercepts HTTPS to show its block page (MatchIssuer).
	CertIssuers []string `yaml:"cert_issuers"`
}

// HeaderMatch matches a response header by name and, when Contains is set,
// by text in its value (without case).
type HeaderMatch struct {
	Name     string `yaml:"name"`
	Contains string `yaml:"contains"`
}

// Set is the validated fingerprints, in id order.
type Set struct {
	list []*Fingerprint
}

var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

// Parse decodes and validates one fingerprint file; file names it in errors.
func Parse(data []byte, file string) (*Fingerprint, error) {
	p := &problems{File: file}
	var f Fingerprint
	if err := yamlpath.DecodeStrict(data, p, &f, "file"); err != nil {
		return nil, err
	}
	f.File = file
	validate(&f, p)
	if err := p.Err(); err != nil {
		return nil, err
	}
	return &f, nil
}

func validate(f *Fingerprint, p *problems) {
	if f.ID == "" {
		p.Add("id", "required")
	} else if !idPattern.MatchString(f.ID) {
		p.Add("id", "%q: use lower case letters, digits, - and _", f.ID)
	}
	if f.Vendor == "" {
		p.Add("vendor", "required: the product's name as people know it")
	}
	if f.Source == "" {
		p.Add("source", "required: a public page showing this block page")
	} else if !strings.HasPrefix(f.Source, "https://") && !strings.HasPrefix(f.Source, "http://") {
		p.Add("source", "%q is not an http(s) URL", f.Source)
	}
	m := &f.Match
	for i, s := range m.Status {
		if s < 100 || s > 599 {
			p.Add(fmt.Sprintf("match.status[%d]", i), "%d is not an HTTP status", s)
		}
	}
	for i, h := range m.RedirectHosts {
		name := strings.TrimPrefix(h, "*.")
		if name == "" || strings.ContainsAny(name, "*/: ") || name != strings.ToLower(name) {
			p.Add(fmt.Sprintf("match.redirect_hosts[%d]", i), "%q: give a lower-case host name, optionally starting *.", h)
		}
	}
	for i, s := range m.BodyContains {
		if len(strings.TrimSpace(s)) < 6 {
			p.Add(fmt.Sprintf("match.body_contains[%d]", i), "%q is too short to tell a block page from any other", s)
		}
	}
	for i, s := range m.BodyRegexps {
		re, err := regexp.Compile(s)
		if err != nil {
			p.Add(fmt.Sprintf("match.body_regexps[%d]", i), "not a regular expression: %v", err)
			continue
		}
		f.regexps = append(f.regexps, re)
	}
	for i, h := range m.Headers {
		if h.Name == "" {
			p.Add(fmt.Sprintf("match.headers[%d].name", i), "required")
		}
	}
	for i, s := range m.CertIssuers {
		if strings.TrimSpace(s) == "" {
			p.Add(fmt.Sprintf("match.cert_issuers[%d]", i), "empty")
		}
	}
	if len(m.RedirectHosts)+len(m.BodyContains)+len(m.BodyRegexps)+len(m.Headers)+len(m.CertIssuers) == 0 {
		p.Add("match", "needs redirect_hosts, body_contains, body_regexps, headers or cert_issuers (status alone names no vendor)")
	}
}

// Shipped loads the embedded fingerprints only.
func Shipped() (*Set, error) { return Load("") }

// Load loads the embedded fingerprints, then those in dir (when not ""): a
// fingerprint there with a shipped id replaces it, a new id is added.
func Load(dir string) (*Set, error) {
	var errs []error
	byID := map[string]*Fingerprint{}
	// A later folder replaces by id; within one folder an id is unique.
	load := func(fsys fs.FS, label string) {
		entries, err := fs.ReadDir(fsys, ".")
		if err != nil {
			errs = append(errs, fmt.Errorf("fingerprints %s: %w", label, err))
			return
		}
		seen := map[string]string{}
		for _, e := range entries {
			n := e.Name()
			if e.IsDir() || !(strings.HasSuffix(n, ".yaml") || strings.HasSuffix(n, ".yml")) {
				continue
			}
			file := filepath.Join(label, n)
			data, err := fs.ReadFile(fsys, n)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", file, err))
				continue
			}
			f, err := Parse(data, file)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if prev, dup := seen[f.ID]; dup {
				errs = append(errs, &Error{File: file, Key: "id", Msg: fmt.Sprintf("fingerprint %q is also defined in %s", f.ID, prev)})
				continue
			}
			seen[f.ID] = file
			byID[f.ID] = f
		}
	}
	sub, err := fs.Sub(shipped, "vendors")
	if err != nil {
		return nil, err
	}
	load(sub, "vendors")
	if dir != "" {
		load(os.DirFS(dir), dir)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	s := &Set{}
	for _, f := range byID {
		s.list = append(s.list, f)
	}
	sort.Slice(s.list, func(i, j int) bool { return s.list[i].ID < s.list[j].ID })
	return s, nil
}

// Fingerprints returns the loaded fingerprints in id order.
func (s *Set) Fingerprints() []*Fingerprint { return s.list }

// Match reports which filter's block page a response is: the first
// fingerprint (by id) that matches, else the generic rule's Unknown.
// redirectHost is the host of the Location the request was redirected to,
// or "".
func (s *Set) Match(status int, headers http.Header, body []byte, redirectHost string) (vendor string, ok bool) {
	redirectHost = strings.ToLower(strings.TrimSuffix(redirectHost, "."))
	lower := bytes.ToLower(body)
	for _, f := range s.list {
		if f.matches(status, headers, body, lower, redirectHost) {
			return f.Vendor, true
		}
	}
	if Generic(status, body, redirectHost) {
		return Unknown, true
	}
	return "", false
}

// MatchIssuer reports which filter presented a certificate with this
// issuer (an HTTPS-inspecting filter signs its block page with its own CA).
func (s *Set) MatchIssuer(issuer string) (vendor string, ok bool) {
	li := strings.ToLower(issuer)
	for _, f := range s.list {
		for _, c := range f.Match.CertIssuers {
			if strings.Contains(li, strings.ToLower(c)) {
				return f.Vendor, true
			}
		}
	}
	return "", false
}

func (f *Fingerprint) matches(status int, headers http.Header, body, lower []byte, redirectHost string) bool {
	m := &f.Match
	if len(m.Status) > 0 {
		okStatus := false
		for _, s := range m.Status {
			okStatus = okStatus || s == status
		}
		if !okStatus {
			return false
		}
	}
	if redirectHost != "" {
		for _, h := range m.RedirectHosts {
			if hostMatches(h, redirectHost) {
				return true
			}
		}
	}
	for _, s := range m.BodyContains {
		if bytes.Contains(lower, []byte(strings.ToLower(s))) {
			return true
		}
	}
	for _, re := range f.regexps {
		if re.Match(body) {
			return true
		}
	}
	for _, h := range m.Headers {
		for _, v := range headers.Values(h.Name) {
			if h.Contains == "" || strings.Contains(strings.ToLower(v), strings.ToLower(h.Contains)) {
				return true
			}
		}
	}
	return false
}

func hostMatches(pattern, host string) bool {
	if suffix, ok := strings.CutPrefix(pattern, "*."); ok {
		return host == suffix || strings.HasSuffix(host, "."+suffix)
	}
	return host == pattern
}
