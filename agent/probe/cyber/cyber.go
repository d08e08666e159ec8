// Package cyber checks, from the agent's own place on the school network,
// what the cyber security standard asks and a network can show: management
// interfaces reachable from a user VLAN, SNMP answering default
// communities or lacking v3, weak TLS on school services, malware test
// files not blocked at the edge, mail domains without SPF or DMARC, and
// firmware older than a minimum safe version. Every check runs only
// against the targets its section lists: no port ranges, no discovery,
// no guessing beyond the two well-known SNMP communities (and that can be
// switched off). docs/cyber.md says what each proves and cannot prove.
//
// Each check is one unit in its own file, built from its config section;
// every target checked gives one `cyber` point, findings and clean results
// alike.
package cyber

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/probity-edu/probity/agent/probe"
	"github.com/probity-edu/probity/internal/config/cfgerr"
	"github.com/probity-edu/probity/internal/point"
)

// Measurement is the name of every point this probe writes.
const Measurement = "cyber"

// Check names, the `check` tag.
const (
	CheckExposure      = "mgmt_exposure"  // a management port reachable from this VLAN
	CheckCleartextMgmt = "mgmt_cleartext" // Telnet or plain HTTP management reachable at all
	CheckSNMPCommunity = "snmp_community" // answers a default community over v1/v2c
	CheckSNMPv3        = "snmp_v3"        // offers SNMPv3
	CheckTLS           = "tls"            // certificate, chain, protocol versions
	CheckMalware       = "malware"        // a malware test download or page not blocked
	CheckSPF           = "mail_spf"       // SPF record on the mail domain
	CheckDMARC         = "mail_dmarc"     // DMARC record and its policy
	CheckMTASTS        = "mail_mta_sts"   // MTA-STS noted when present (never a finding)
	CheckTLSRPT        = "mail_tls_rpt"   // TLS-RPT noted when present (never a finding)
	CheckFirmware      = "firmware"       // firmware at least the minimum safe version
)

// Severities, the `severity` field; SeverityNone on a clean result.
const (
	SeverityHigh   = "high"
	SeverityMedium = "medium"
	SeverityLow    = "low"
	SeverityNone   = "none"
)

// VLANs the agent may sit on (the `vlan` tag).
var VLANs = []string{"pupil", "staff", "guest", "management", "server"}

// Config is the `cyber` section of a probe. Each check runs when its
// section is present.
type Config struct {
	// VLAN is where the agent sits: pupil, staff, guest (user VLANs, from
	// which management must not be reachable), management or server.
	VLAN string `yaml:"vlan"`
	// Timeout bounds one target of one check.
	Timeout time.Duration `yaml:"timeout"`

	Exposure *ExposureConfig `yaml:"exposure,omitempty"`
	SNMP     *SNMPConfig     `yaml:"snmp,omitempty"`
	TLS      *TLSConfig      `yaml:"tls,omitempty"`
	Malware  *MalwareConfig  `yaml:"malware,omitempty"`
	Mail     *MailConfig     `yaml:"mail,omitempty"`
	Firmware *FirmwareConfig `yaml:"firmware,omitempty"`
}

// Defaults are the values a `cyber` section starts from.
var Defaults = Config{VLAN: "staff", Timeout: 3 * time.Second}

// UserVLAN says whether v is a VLAN of users, from which management
// interfaces must not be reachable.
func UserVLAN(v string) bool { return v == "pupil" || v == "staff" || v == "guest" }

// Validate names the key that is wrong.
func (c Config) Validate() error {
	var errs []error
	if !slices.Contains(VLANs, c.VLAN) {
		errs = append(errs, cfgerr.Errorf("vlan", "must be one of %v, not %q", VLANs, c.VLAN))
	}
	if c.Timeout < 100*time.Millisecond || c.Timeout > time.Minute {
		errs = append(errs, cfgerr.Errorf("timeout", "must be between 100ms and 1m, not %s", c.Timeout))
	}
	if c.Exposure == nil && c.SNMP == nil && c.TLS == nil && c.Malware == nil && c.Mail == nil && c.Firmware == nil {
		errs = append(errs, cfgerr.Errorf("", "needs at least one check: exposure, snmp, tls, malware, mail or firmware"))
	}
	if c.Exposure != nil {
		errs = append(errs, cfgerr.Prefix("exposure", c.Exposure.validate()))
	}
	if c.SNMP != nil {
		errs = append(errs, cfgerr.Prefix("snmp", c.SNMP.validate()))
	}
	if c.TLS != nil {
		errs = append(errs, cfgerr.Prefix("tls", c.TLS.validate()))
	}
	if c.Malware != nil {
		errs = append(errs, cfgerr.Prefix("malware", c.Malware.validate()))
	}
	if c.Mail != nil {
		errs = append(errs, cfgerr.Prefix("mail", c.Mail.validate()))
	}
	if c.Firmware != nil {
		errs = append(errs, cfgerr.Prefix("firmware", c.Firmware.validate()))
	}
	return errors.Join(errs...)
}

// Result is the outcome of one check of one target.
type Result struct {
	Check, Target string
	// OK is false when the check could not be completed (the target did
	// not answer as a check needs); Finding is then false too.
	OK       bool
	Finding  bool
	Severity string // SeverityNone unless Finding
	Detail   string // what was seen, in a sentence
	Fix      string // what to do about a finding, in plain English
	Fields   map[string]any
}

// checker runs one check over its targets.
type checker interface {
	run(ctx context.Context, env *env) []Result
}

// env is what every check may use.
type env struct {
	cfg  Config
	deps probe.Deps
}

// Prober runs the configured checks.
type Prober struct {
	env      *env
	checkers []checker
}

// New builds the checks of the sections present.
func New(c Config, d probe.Deps) (*Prober, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	d = d.WithDefaults()
	p := &Prober{env: &env{cfg: c, deps: d}}
	build := []struct {
		on bool
		fn func() (checker, error)
	}{
		{c.Exposure != nil, func() (checker, error) { return c.Exposure.build(d) }},
		{c.SNMP != nil, func() (checker, error) { return c.SNMP.build(d) }},
		{c.TLS != nil, func() (checker, error) { return c.TLS.build(d) }},
		{c.Malware != nil, func() (checker, error) { return c.Malware.build(d) }},
		{c.Mail != nil, func() (checker, error) { return c.Mail.build(d) }},
		{c.Firmware != nil, func() (checker, error) { return c.Firmware.build(d) }},
	}
	for _, b := range build {
		if !b.on {
			continue
		}
		ch, err := b.fn()
		if err != nil {
			return nil, fmt.Errorf("cyber: %w", err)
		}
		p.checkers = append(p.checkers, ch)
	}
	return p, nil
}

// Run runs every check at once and returns one point per result.
func (p *Prober) Run(ctx context.Context) ([]point.Point, error) {
	results := make([][]Result, len(p.checkers))
	var wg sync.WaitGroup
	for i, ch := range p.checkers {
		wg.Go(func() { results[i] = ch.run(ctx, p.env) })
	}
	wg.Wait()
	now := p.env.deps.Now()
	var pts []point.Point
	for _, rs := range results {
		for _, r := range rs {
			pts = append(pts, r.point(p.env.cfg.VLAN, now))
		}
	}
	return pts, nil
}

func (r Result) point(vlan string, at time.Time) point.Point {
	sev := r.Severity
	if !r.Finding {
		sev = SeverityNone
	}
	f := map[string]any{"ok": r.OK, "finding": r.Finding, "severity": sev}
	if r.Detail != "" {
		f["detail"] = r.Detail
	}
	if r.Finding && r.Fix != "" {
		f["fix"] = r.Fix
	}
	for k, v := range r.Fields {
		f[k] = v
	}
	return point.New(Measurement, map[string]string{"check": r.Check, "target": r.Target, "vlan": vlan}, f, at)
}
