package filtering

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/probity-edu/probity/agent/probe"
	"github.com/probity-edu/probity/agent/probe/filtering/suite"
	"github.com/probity-edu/probity/internal/config/cfgerr"
)

// Profile is one identity the suite runs as: the path a group of users'
// traffic takes (direct, or through the school's proxy) and, where the
// filter authenticates users, the credentials that select their policy.
type Profile struct {
	Name string `yaml:"name"` // student, staff, guest...
	// Proxy is the explicit proxy URL (http://host:port), "env" for the
	// agent's HTTPS_PROXY / HTTP_PROXY, or "" for no proxy.
	Proxy        string `yaml:"proxy"`
	Username     string `yaml:"username"`
	Password     string `yaml:"password" secret:"true"`
	PasswordFile string `yaml:"password_file"` // read at start; wins over password
}

// Config is the `filtering` section of a probe.
type Config struct {
	Suites        []string `yaml:"suites"`          // suite names; default: [default]
	SuitesDir     string   `yaml:"suites_dir"`      // folder of the school's suites, added to or replacing the shipped ones by name
	BlockPagesDir string   `yaml:"block_pages_dir"` // folder of block-page fingerprints added to or replacing the shipped ones by id
	// Targets gives the placeholder targets their addresses, by target id:
	// iwf-test, ctiru-test, adult-test (URLs) and vpn-ports (a host).
	Targets  map[string]string `yaml:"targets"`
	Profiles []Profile         `yaml:"profiles"` // default: one profile, "default", direct
	// Resolver is the DNS server (ip or ip:port) checks resolve through;
	// "" for the first nameserver of /etc/resolv.conf, as pupils' devices would.
	Resolver          string   `yaml:"resolver"`
	SinkholeAddresses []string `yaml:"sinkhole_addresses"` // answers that mean "blocked by DNS" (the filter's block-page address)
	// AllowPrivate: private, loopback and unspecified answers are real
	// sites, not sinkholes (a lab where test sites live on private addresses).
	AllowPrivate bool   `yaml:"allow_private"`
	CAFile       string `yaml:"ca_file"` // PEM roots that replace the system's as "the public web"; for labs
	// InspectCAFile is the school's TLS-inspection CA (PEM): pages behind
	// its certificates are judged by content instead of being errors.
	InspectCAFile string        `yaml:"inspect_ca_file"`
	Timeout       time.Duration `yaml:"timeout"` // per target
	// TimeoutIsBlock counts a target that never answers as blocked. Only
	// for filters known to drop silently: otherwise a slow site is an error.
	TimeoutIsBlock bool `yaml:"timeout_is_block"`
	Workers        int  `yaml:"workers"` // targets checked at once
}

// Defaults are the values a `filtering` section starts from.
var Defaults = Config{
	Suites:  []string{suite.DefaultName},
	Timeout: 10 * time.Second,
	Workers: 4,
}

var profileName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

// Validate checks the section; paths are relative to it (profiles[0].proxy).
// It loads the suites, so that a target id or suite name that does not
// exist is a configuration error and not a silent gap.
func (c Config) Validate() error {
	_, err := c.validate()
	return err
}

// validate checks the section and returns the suites it loaded, so that
// New does not read them again.
func (c Config) validate() (*suite.Set, error) {
	var errs []error
	add := func(key, format string, args ...any) { errs = append(errs, cfgerr.Errorf(key, format, args...)) }
	if len(c.Suites) == 0 {
		add("suites", "at least one suite is required (the shipped one is %q)", suite.DefaultName)
	}
	set, err := suite.Load(c.SuitesDir)
	if err != nil {
		add("suites_dir", "%v", err)
	} else {
		for i, n := range c.Suites {
			if set.Get(n) == nil {
				add(fmt.Sprintf("suites[%d]", i), "no suite %q (known: %s)", n, strings.Join(set.Names(), ", "))
			}
		}
		placeholders := map[string]*suite.Target{}
		for _, n := range c.Suites {
			if s := set.Get(n); s != nil {
				for _, cat := range s.Categories {
					for i := range cat.Targets {
						if t := &cat.Targets[i]; t.Placeholder {
							placeholders[t.ID] = t
						}
					}
				}
			}
		}
		for id, v := range c.Targets {
			t, ok := placeholders[id]
			switch {
			case !ok:
				add("targets."+id, "no placeholder target %q in the suites in use", id)
			case len(t.Ports) > 0:
				if _, err := netip.ParseAddr(v); err != nil && !validHost(v) {
					add("targets."+id, "%q: give the host name or address of your test endpoint", v)
				}
			default:
				if u, err := url.Parse(v); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
					add("targets."+id, "%q is not an http or https URL", v)
				}
			}
		}
	}
	seen := map[string]bool{}
	for i, p := range c.Profiles {
		base := fmt.Sprintf("profiles[%d]", i)
		switch {
		case p.Name == "":
			add(base+".name", "required (student, staff, guest...)")
		case !profileName.MatchString(p.Name):
			add(base+".name", "%q: use lower case letters, digits, - and _", p.Name)
		case seen[p.Name]:
			add(base+".name", "duplicate profile %q", p.Name)
		}
		seen[p.Name] = true
		if p.Proxy != "" && p.Proxy != "env" {
			if u, err := url.Parse(p.Proxy); err != nil || u.Scheme != "http" || u.Host == "" {
				add(base+".proxy", "%q: give http://host:port, \"env\" or nothing", p.Proxy)
			} else if u.User != nil {
				add(base+".proxy", "put credentials in username and password (or password_file), not in the URL")
			}
		}
		if (p.Username != "" || p.Password != "" || p.PasswordFile != "") && p.Proxy == "" {
			add(base+".username", "credentials need a proxy to send them to")
		}
		if p.PasswordFile != "" {
			if _, err := os.Stat(p.PasswordFile); err != nil {
				add(base+".password_file", "%v", err)
			}
		}
	}
	if c.Resolver != "" {
		if _, err := probe.NormalizeResolver(c.Resolver); err != nil {
			add("resolver", "%v", err)
		}
	}
	for i, a := range c.SinkholeAddresses {
		if _, err := netip.ParseAddr(a); err != nil {
			add(fmt.Sprintf("sinkhole_addresses[%d]", i), "%q is not an IP address", a)
		}
	}
	for key, f := range map[string]string{"ca_file": c.CAFile, "inspect_ca_file": c.InspectCAFile} {
		if f != "" {
			if _, err := os.Stat(f); err != nil {
				add(key, "%v", err)
			}
		}
	}
	if c.Timeout <= 0 || c.Timeout > 2*time.Minute {
		add("timeout", "must be between 0 and 2m, not %s", c.Timeout)
	}
	if c.Workers < 1 || c.Workers > 64 {
		add("workers", "must be between 1 and 64, not %d", c.Workers)
	}
	return set, errors.Join(errs...)
}

// validHost reports whether h looks like a DNS name.
func validHost(h string) bool {
	return strings.Contains(h, ".") && !strings.ContainsAny(h, " /:@")
}

// profiles returns the configured profiles, or the one direct default.
func (c Config) profiles() []Profile {
	if len(c.Profiles) == 0 {
		return []Profile{{Name: "default"}}
	}
	return c.Profiles
}

// proxyURL resolves a profile's proxy with its credentials; nil for none.
func (p Profile) proxyURL() (*url.URL, error) {
	raw := p.Proxy
	if raw == "" {
		return nil, nil
	}
	if raw == "env" {
		for _, k := range []string{"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"} {
			if v := os.Getenv(k); v != "" {
				raw = v
				break
			}
		}
		if raw == "env" {
			return nil, fmt.Errorf("profile %s: proxy is \"env\" but HTTPS_PROXY and HTTP_PROXY are unset", p.Name)
		}
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("profile %s: proxy: %w", p.Name, err)
	}
	password := p.Password
	if p.PasswordFile != "" {
		b, err := os.ReadFile(p.PasswordFile)
		if err != nil {
			return nil, fmt.Errorf("profile %s: %w", p.Name, err)
		}
		password = strings.TrimSpace(string(b))
	}
	if p.Username != "" {
		u.User = url.UserPassword(p.Username, password)
	}
	return u, nil
}
