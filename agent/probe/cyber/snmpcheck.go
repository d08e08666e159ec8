package cyber

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/probity-edu/probity/agent/probe"
	"github.com/probity-edu/probity/agent/snmp"
	"github.com/probity-edu/probity/internal/config/cfgerr"
)

// oidSysDescr is the only object the SNMP checks ask for: every agent has
// it and reading it changes nothing.
const oidSysDescr = "1.3.6.1.2.1.1.1.0"

// WellKnownCommunities are the only communities the snmp check tries. It
// never guesses beyond them: trying a list of likely strings would be an
// attack, not a check.
var WellKnownCommunities = []string{"public", "private"}

// discoveryUser is the user name of the unauthenticated v3 request: no
// device has it, so a v3 agent answers with a Report and nothing more.
const discoveryUser = "probity-v3-discovery"

// SNMPDevice is one device whose SNMP the check looks at.
type SNMPDevice struct {
	Name    string `yaml:"name"`
	Address string `yaml:"address"` // host or host:port (default 161)
}

// SNMPConfig is the `snmp` section: whether listed devices answer the
// well-known communities over v1/v2c, and whether they offer SNMPv3.
type SNMPConfig struct {
	Devices []SNMPDevice `yaml:"devices"`
	// DefaultCommunities switches the community check (snmp_community)
	// on (the default) or off. The v3 check runs either way.
	DefaultCommunities *bool `yaml:"default_communities,omitempty"`
	// Communities tried; default and at most public and private.
	Communities []string `yaml:"communities,omitempty"`
}

func (c *SNMPConfig) communityCheck() bool {
	return c.DefaultCommunities == nil || *c.DefaultCommunities
}

func (c *SNMPConfig) communities() []string {
	if len(c.Communities) == 0 {
		return WellKnownCommunities
	}
	return c.Communities
}

func (c *SNMPConfig) validate() error {
	var errs []error
	if len(c.Devices) == 0 {
		errs = append(errs, cfgerr.Errorf("devices", "at least one device is required"))
	}
	seen := map[string]int{}
	for i, d := range c.Devices {
		base := fmt.Sprintf("devices[%d]", i)
		if strings.TrimSpace(d.Name) == "" {
			errs = append(errs, cfgerr.Errorf(base+".name", "required"))
		} else if j, dup := seen[d.Name]; dup {
			errs = append(errs, cfgerr.Errorf(base+".name", "%q is already the name of devices[%d]", d.Name, j))
		} else {
			seen[d.Name] = i
		}
		if _, _, err := (snmp.Target{Address: d.Address}).HostPort(); err != nil {
			errs = append(errs, cfgerr.Errorf(base+".address", "%v", err))
		}
	}
	for i, cm := range c.Communities {
		if !slices.Contains(WellKnownCommunities, cm) {
			// Also keeps a real community out of a config that ends up in
			// points and logs.
			errs = append(errs, cfgerr.Errorf(fmt.Sprintf("communities[%d]", i),
				"only the well-known communities %v may be tried; the check does not guess others", WellKnownCommunities))
		}
	}
	if c.Communities != nil && len(c.Communities) == 0 {
		errs = append(errs, cfgerr.Errorf("communities", "empty; leave it out for public and private, or set default_communities: false"))
	}
	return errors.Join(errs...)
}

func (c *SNMPConfig) build(probe.Deps) (checker, error) { return &snmpChecker{cfg: *c}, nil }

type snmpChecker struct{ cfg SNMPConfig }

func (s *snmpChecker) run(ctx context.Context, e *env) []Result {
	out := make([][]Result, len(s.cfg.Devices))
	var wg sync.WaitGroup
	for i, d := range s.cfg.Devices {
		wg.Go(func() { out[i] = s.device(ctx, d, e.cfg.Timeout) })
	}
	wg.Wait()
	return slices.Concat(out...)
}

// device runs both checks of one device, every request at once.
func (s *snmpChecker) device(ctx context.Context, d SNMPDevice, timeout time.Duration) []Result {
	host, port, _ := (snmp.Target{Address: d.Address}).HostPort() // checked by validate
	type try struct {
		community string
		version   gosnmp.SnmpVersion
		answered  bool
		err       error
	}
	var tries []*try
	if s.cfg.communityCheck() {
		for _, cm := range s.cfg.communities() {
			for _, v := range []gosnmp.SnmpVersion{gosnmp.Version2c, gosnmp.Version1} {
				tries = append(tries, &try{community: cm, version: v})
			}
		}
	}
	var v3 v3Answer
	var wg sync.WaitGroup
	for _, t := range tries {
		wg.Go(func() { t.answered, t.err = communityGet(ctx, host, port, t.community, t.version, timeout) })
	}
	wg.Go(func() { v3 = discoverV3(ctx, host, port, timeout) })
	wg.Wait()

	var res []Result
	if s.cfg.communityCheck() {
		r := Result{Check: CheckSNMPCommunity, Target: d.Name, OK: true, Fields: map[string]any{"address": d.Address}}
		var answered []string
		for _, t := range tries {
			if t.answered {
				answered = append(answered, t.community+" over "+versionName(t.version))
			}
		}
		if len(answered) > 0 {
			r.Finding, r.Severity = true, SeverityHigh
			r.Detail = "answers the well-known community " + strings.Join(answered, ", ") + " (a read of sysDescr succeeded)"
			r.Fix = "remove the default communities from the device (or change them to long random ones limited to the management network), and move its monitoring to SNMPv3 with authPriv"
			r.Fields["answered"] = strings.Join(answered, ",")
		} else {
			r.Detail = fmt.Sprintf("no answer to the communities %s over v2c or v1", strings.Join(s.cfg.communities(), ", "))
			if v3.refused {
				r.Detail += "; nothing listens for SNMP on that port"
			}
		}
		res = append(res, r)
	}

	r := Result{Check: CheckSNMPv3, Target: d.Name, OK: true, Fields: map[string]any{"address": d.Address, "v3": v3.offered}}
	switch {
	case v3.offered:
		r.Detail = "offers SNMPv3 (answered an unauthenticated engine discovery)"
		if v3.engineID != "" {
			r.Fields["engine_id"] = v3.engineID
		}
	default:
		r.Finding, r.Severity = true, SeverityMedium
		r.Detail = "no SNMPv3: SW-16 needs v3; the device did not answer an SNMPv3 engine discovery"
		if v3.refused {
			r.Detail = "no SNMPv3: SW-16 needs v3; nothing listens for SNMP on that port (ICMP port unreachable)"
		}
		r.Fix = "enable SNMPv3 with authPriv (SHA and AES) on the device and monitor it with a v3 user; turn v1/v2c off"
	}
	return append(res, r)
}

// communityGet reads sysDescr once with community over version v1 or v2c
// and says whether the device answered with anything at all: even an
// error status proves the community was accepted, since agents drop
// requests with an unknown community silently.
func communityGet(ctx context.Context, host string, port uint16, community string, v gosnmp.SnmpVersion, timeout time.Duration) (bool, error) {
	g := &gosnmp.GoSNMP{
		Target: host, Port: port, Transport: "udp", Community: community, Version: v,
		Timeout: timeout, Retries: 0, Context: ctx, MaxOids: 1,
	}
	if err := g.Connect(); err != nil {
		return false, err
	}
	defer g.Conn.Close()
	pkt, err := g.Get([]string{oidSysDescr})
	if err != nil {
		return false, err
	}
	return pkt != nil, nil
}

func versionName(v gosnmp.SnmpVersion) string {
	if v == gosnmp.Version1 {
		return "v1"
	}
	return "v2c"
}

type v3Answer struct {
	offered  bool
	refused  bool // ICMP port unreachable: no SNMP agent at all
	engineID string
}

// discoverV3 sends one noAuthNoPriv GET of sysDescr as a user no device
// has. gosnmp first discovers the engine ID (RFC 3414 §4); an agent that
// speaks v3 answers with a Report (usmStatsUnknownEngineIDs, and
// usmStatsUnknownUserNames for the GET itself), never with data.
func discoverV3(ctx context.Context, host string, port uint16, timeout time.Duration) v3Answer {
	usm := &gosnmp.UsmSecurityParameters{UserName: discoveryUser, AuthenticationProtocol: gosnmp.NoAuth, PrivacyProtocol: gosnmp.NoPriv}
	g := &gosnmp.GoSNMP{
		Target: host, Port: port, Transport: "udp", Version: gosnmp.Version3,
		SecurityModel: gosnmp.UserSecurityModel, MsgFlags: gosnmp.NoAuthNoPriv, SecurityParameters: usm,
		Timeout: timeout, Retries: 0, Context: ctx, MaxOids: 1,
	}
	if err := g.Connect(); err != nil {
		return v3Answer{}
	}
	defer g.Conn.Close()
	_, err := g.Get([]string{oidSysDescr})
	var a v3Answer
	if sp, ok := g.SecurityParameters.(*gosnmp.UsmSecurityParameters); ok && sp.AuthoritativeEngineID != "" {
		a.offered = true
		a.engineID = hex.EncodeToString([]byte(sp.AuthoritativeEngineID))
	}
	if errors.Is(err, gosnmp.ErrUnknownUsername) || errors.Is(err, gosnmp.ErrUnknownEngineID) || errors.Is(err, gosnmp.ErrUnknownSecurityLevel) ||
		errors.Is(err, gosnmp.ErrUnknownReportPDU) || errors.Is(err, gosnmp.ErrNotInTimeWindow) {
		a.offered = true
	}
	if err != nil && !a.offered && probe.Classify(err) == probe.Refused {
		a.refused = true
	}
	return a
}
