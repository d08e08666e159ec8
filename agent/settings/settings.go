// Package settings is the schema of agent.yaml: typed sections with their
// defaults and validation. Probe kinds own their Config types; this package
// only gathers them.
package settings

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/probity-edu/probity/agent/probe/cyber"
	"github.com/probity-edu/probity/agent/probe/dns"
	"github.com/probity-edu/probity/agent/probe/filtering"
	"github.com/probity-edu/probity/agent/probe/host"
	"github.com/probity-edu/probity/agent/probe/httpcheck"
	"github.com/probity-edu/probity/agent/probe/ping"
	snmpprobe "github.com/probity-edu/probity/agent/probe/snmp"
	"github.com/probity-edu/probity/agent/probe/throughput"
	"github.com/probity-edu/probity/agent/probe/wan"
	"github.com/probity-edu/probity/agent/schedule"
	"github.com/probity-edu/probity/internal/config"
	"github.com/probity-edu/probity/internal/config/cfgerr"
	"github.com/probity-edu/probity/internal/logging"
	"github.com/probity-edu/probity/internal/yamlpath"
)

// Agent is the whole of agent.yaml.
type Agent struct {
	StateDir  string         `yaml:"state_dir"`
	Collector Collector      `yaml:"collector"`
	Log       logging.Config `yaml:"log"`
	Spool     Spool          `yaml:"spool"`
	Ship      Ship           `yaml:"ship"`
	Schedule  Schedule       `yaml:"schedule"`
	Probes    []Probe        `yaml:"probes"`
}

// Collector says where results go. The URL and credential normally come
// from `probity-agent enrol`, which writes them to the state directory.
type Collector struct {
	URL                string        `yaml:"url"`
	CredentialFile     string        `yaml:"credential_file"`
	Timeout            time.Duration `yaml:"timeout"`
	CAFile             string        `yaml:"ca_file"`
	InsecureSkipVerify bool          `yaml:"insecure_skip_verify"`
}

// Spool bounds the on-disk queue used while the collector is unreachable.
type Spool struct {
	MaxBytes config.Bytes  `yaml:"max_bytes"`
	MaxAge   time.Duration `yaml:"max_age"`
}

// Ship tunes delivery to the collector.
type Ship struct {
	MinBackoff time.Duration `yaml:"min_backoff"`
	MaxBackoff time.Duration `yaml:"max_backoff"`
	BatchEvery time.Duration `yaml:"batch_every"`
}

// Schedule bounds how probes run.
type Schedule struct {
	Concurrency   int           `yaml:"concurrency"`
	StatsInterval time.Duration `yaml:"stats_interval"`
}

// Probe is one scheduled probe instance. Exactly one kind section is set,
// and it must match Kind.
type Probe struct {
	Name     string        `yaml:"name"`
	Kind     string        `yaml:"kind"`
	Interval time.Duration `yaml:"interval"`
	Jitter   time.Duration `yaml:"jitter"`
	Timeout  time.Duration `yaml:"timeout"`
	// Plan runs the probe at random times inside school-hours windows
	// instead of every Interval (throughput tests).
	Plan *schedule.WindowsConfig `yaml:"plan,omitempty"`

	Ping *ping.Config      `yaml:"ping,omitempty"`
	DNS  *dns.Config       `yaml:"dns,omitempty"`
	HTTP *httpcheck.Config `yaml:"http,omitempty"`
	Host *host.Config      `yaml:"host,omitempty"`

	Throughput *throughput.Config `yaml:"throughput,omitempty"`
	WAN        *wan.Config        `yaml:"wan,omitempty"`

	SNMP *snmpprobe.Config `yaml:"snmp,omitempty"`

	Filtering *filtering.Config `yaml:"filtering,omitempty"`

	Cyber *cyber.Config `yaml:"cyber,omitempty"`
}

// Kinds lists the probe kinds this agent knows, with their default interval.
var Kinds = map[string]time.Duration{
	"ping": time.Minute,
	"dns":  5 * time.Minute,
	"http": 5 * time.Minute,
	"host": time.Minute,
	// Throughput tests run on a school-hours plan (windows) or, without one,
	// every 6 hours.
	"throughput": 6 * time.Hour,
	// A wan run is an observation window filling its interval.
	"wan": time.Minute,
	// One poll of every configured device per minute.
	"snmp": time.Minute,
	// A suite run is a few dozen page loads per profile: hourly shows a
	// change within the school day without loading the filter's logs.
	"filtering": time.Hour,
	// Configuration drifts slowly; a day's resolution is enough evidence
	// and keeps the checks quiet on the network.
	"cyber": 6 * time.Hour,
}

// KindNames lists the known kinds, sorted.
func KindNames() []string {
	names := make([]string, 0, len(Kinds))
	for k := range Kinds {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

// Defaults returns a fresh default configuration.
func Defaults() Agent {
	return Agent{
		StateDir:  "/var/lib/probity/agent",
		Collector: Collector{Timeout: 30 * time.Second},
		Log:       logging.Defaults,
		Spool:     Spool{MaxBytes: 256 << 20, MaxAge: 7 * 24 * time.Hour},
		Ship:      Ship{MinBackoff: time.Second, MaxBackoff: 5 * time.Minute, BatchEvery: 10 * time.Second},
		Schedule:  Schedule{Concurrency: 4, StatsInterval: time.Minute},
	}
}

// CredentialPath is where the enrolment credential lives.
func (a Agent) CredentialPath() string {
	if a.Collector.CredentialFile != "" {
		return a.Collector.CredentialFile
	}
	return filepath.Join(a.StateDir, "credential.json")
}

// SpoolDir is the directory of the on-disk queue.
func (a Agent) SpoolDir() string { return filepath.Join(a.StateDir, "spool") }

// FinishYAML gives each probe's kind section its defaults: the strict decode
// started list elements from zero values, so decode the section again on top
// of a copy of the kind's Defaults.
func (a *Agent) FinishYAML(root *yaml.Node) error {
	var errs []error
	for i := range a.Probes {
		p := &a.Probes[i]
		base := fmt.Sprintf("probes[%d]", i)
		if def, ok := Kinds[p.Kind]; ok && p.Interval == 0 {
			p.Interval = def
		}
		if n := yamlpath.NodeAt(root, base+".ping"); n != nil {
			c := ping.Defaults
			errs = append(errs, cfgerr.Prefix(base+".ping", n.Decode(&c)))
			p.Ping = &c
		}
		if n := yamlpath.NodeAt(root, base+".dns"); n != nil {
			c := dns.Defaults
			errs = append(errs, cfgerr.Prefix(base+".dns", n.Decode(&c)))
			p.DNS = &c
		}
		if n := yamlpath.NodeAt(root, base+".http"); n != nil {
			c := httpcheck.Defaults
			errs = append(errs, cfgerr.Prefix(base+".http", n.Decode(&c)))
			p.HTTP = &c
		}
		if n := yamlpath.NodeAt(root, base+".plan"); n != nil {
			c := schedule.WindowsDefaults
			c.Days, c.Windows = append([]string(nil), c.Days...), append([]string(nil), c.Windows...)
			errs = append(errs, cfgerr.Prefix(base+".plan", n.Decode(&c)))
			p.Plan = &c
		}
		if n := yamlpath.NodeAt(root, base+".throughput"); n != nil || p.Kind == "throughput" {
			c := throughput.Defaults
			c.Directions = append([]string(nil), c.Directions...)
			if n != nil {
				errs = append(errs, cfgerr.Prefix(base+".throughput", n.Decode(&c)))
			}
			p.Throughput = &c
		}
		if n := yamlpath.NodeAt(root, base+".wan"); n != nil || p.Kind == "wan" {
			c := wan.Defaults
			if n != nil {
				errs = append(errs, cfgerr.Prefix(base+".wan", n.Decode(&c)))
			}
			p.WAN = &c
		}
		if n := yamlpath.NodeAt(root, base+".snmp"); n != nil {
			c := snmpprobe.Defaults
			errs = append(errs, cfgerr.Prefix(base+".snmp", n.Decode(&c)))
			p.SNMP = &c
		}
		if n := yamlpath.NodeAt(root, base+".filtering"); n != nil || p.Kind == "filtering" {
			c := filtering.Defaults
			c.Suites = append([]string(nil), c.Suites...)
			if n != nil {
				errs = append(errs, cfgerr.Prefix(base+".filtering", n.Decode(&c)))
			}
			p.Filtering = &c
		}
		if n := yamlpath.NodeAt(root, base+".cyber"); n != nil {
			c := cyber.Defaults
			errs = append(errs, cfgerr.Prefix(base+".cyber", n.Decode(&c)))
			p.Cyber = &c
		}
		if n := yamlpath.NodeAt(root, base+".host"); n != nil || p.Kind == "host" {
			c := host.Defaults
			if n != nil {
				errs = append(errs, cfgerr.Prefix(base+".host", n.Decode(&c)))
			}
			p.Host = &c
		}
	}
	return errors.Join(errs...)
}

// validName: 1 to 63 of [a-z0-9_.-], starting with a letter or digit.
// A loop, not a regexp: `{0,62}` compiles to half a megabyte the agent
// would hold for its whole life.
func validName(s string) bool {
	if len(s) == 0 || len(s) > 63 {
		return false
	}
	for i, c := range []byte(s) {
		alnum := c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || c != '_' && c != '.' && c != '-') {
			return false
		}
	}
	return true
}

// Validate checks every section and names the key that is wrong.
func (a *Agent) Validate() error {
	var errs []error
	if a.StateDir == "" {
		errs = append(errs, cfgerr.Errorf("state_dir", "required"))
	}
	if a.Collector.URL != "" {
		if u, err := url.Parse(a.Collector.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, cfgerr.Errorf("collector.url", "must be an http:// or https:// URL, not %q", a.Collector.URL))
		}
	}
	if a.Collector.Timeout <= 0 {
		errs = append(errs, cfgerr.Errorf("collector.timeout", "must be positive"))
	}
	errs = append(errs, cfgerr.Prefix("log", a.Log.Validate()))
	if a.Spool.MaxBytes < 1<<20 {
		errs = append(errs, cfgerr.Errorf("spool.max_bytes", "must be at least 1MiB"))
	}
	if a.Spool.MaxAge < time.Hour {
		errs = append(errs, cfgerr.Errorf("spool.max_age", "must be at least 1h"))
	}
	if a.Ship.MinBackoff <= 0 || a.Ship.MaxBackoff < a.Ship.MinBackoff {
		errs = append(errs, cfgerr.Errorf("ship.max_backoff", "must be at least ship.min_backoff (%s), and both positive", a.Ship.MinBackoff))
	}
	if a.Ship.BatchEvery <= 0 {
		errs = append(errs, cfgerr.Errorf("ship.batch_every", "must be positive"))
	}
	if a.Schedule.Concurrency < 1 || a.Schedule.Concurrency > 64 {
		errs = append(errs, cfgerr.Errorf("schedule.concurrency", "must be between 1 and 64"))
	}
	if a.Schedule.StatsInterval < time.Second {
		errs = append(errs, cfgerr.Errorf("schedule.stats_interval", "must be at least 1s"))
	}
	seen := map[string]int{}
	for i := range a.Probes {
		p := &a.Probes[i]
		base := fmt.Sprintf("probes[%d]", i)
		if !validName(p.Name) {
			errs = append(errs, cfgerr.Errorf(base+".name", "required: lower case letters, digits, '-', '_' or '.', up to 63 characters (got %q)", p.Name))
		} else if j, dup := seen[p.Name]; dup {
			errs = append(errs, cfgerr.Errorf(base+".name", "%q is already used by probes[%d]", p.Name, j))
		}
		seen[p.Name] = i
		errs = append(errs, cfgerr.Prefix(base, p.validate()))
	}
	return errors.Join(errs...)
}

func (p Probe) validate() error {
	if _, ok := Kinds[p.Kind]; !ok {
		return cfgerr.Errorf("kind", "unknown probe kind %q (known: %s)", p.Kind, strings.Join(KindNames(), ", "))
	}
	var errs []error
	if p.Interval < time.Second {
		errs = append(errs, cfgerr.Errorf("interval", "must be at least 1s"))
	}
	if p.Jitter < 0 || p.Jitter > p.Interval {
		errs = append(errs, cfgerr.Errorf("jitter", "must be between 0 and the interval"))
	}
	if p.Plan != nil {
		errs = append(errs, cfgerr.Prefix("plan", p.Plan.Validate()))
		if p.Jitter != 0 {
			errs = append(errs, cfgerr.Errorf("jitter", "has no use with a plan: the plan's times are already random"))
		}
		if p.Kind == "wan" {
			errs = append(errs, cfgerr.Errorf("plan", "a wan probe watches all the time; give it an interval, not a plan"))
		}
	}
	if p.Timeout < 0 || p.Timeout > p.Interval {
		errs = append(errs, cfgerr.Errorf("timeout", "must be between 0 (80%% of the interval) and the interval"))
	}
	sections := map[string]bool{"ping": p.Ping != nil, "dns": p.DNS != nil, "http": p.HTTP != nil, "host": p.Host != nil, "throughput": p.Throughput != nil, "wan": p.WAN != nil, "snmp": p.SNMP != nil, "filtering": p.Filtering != nil, "cyber": p.Cyber != nil}
	for kind, set := range sections {
		if set && kind != p.Kind {
			errs = append(errs, cfgerr.Errorf(kind, "section %q does not match kind %q", kind, p.Kind))
		}
	}
	if !sections[p.Kind] {
		return errors.Join(append(errs, cfgerr.Errorf(p.Kind, "section %q is required for kind %q", p.Kind, p.Kind))...)
	}
	switch p.Kind {
	case "ping":
		errs = append(errs, cfgerr.Prefix("ping", p.Ping.Validate()))
	case "dns":
		errs = append(errs, cfgerr.Prefix("dns", p.DNS.Validate()))
	case "http":
		errs = append(errs, cfgerr.Prefix("http", p.HTTP.Validate()))
	case "host":
		errs = append(errs, cfgerr.Prefix("host", p.Host.Validate()))
	case "throughput":
		errs = append(errs, cfgerr.Prefix("throughput", p.Throughput.Validate()))
	case "snmp":
		errs = append(errs, cfgerr.Prefix("snmp", p.SNMP.Validate()))
	case "filtering":
		errs = append(errs, cfgerr.Prefix("filtering", p.Filtering.Validate()))
	case "cyber":
		errs = append(errs, cfgerr.Prefix("cyber", p.Cyber.Validate()))
	case "wan":
		errs = append(errs, cfgerr.Prefix("wan", p.WAN.Validate()))
		if least := p.WAN.MinWindow(); p.Interval < least {
			errs = append(errs, cfgerr.Errorf("interval", "must be at least %s for kind wan with this every and connect_timeout: each run is one observation window (1m is recommended)", least))
		} else if p.Timeout != 0 && p.Timeout < least {
			errs = append(errs, cfgerr.Errorf("timeout", "must be 0 (the interval) or at least %s for kind wan: it bounds the observation window", least))
		}
	}
	return errors.Join(errs...)
}
