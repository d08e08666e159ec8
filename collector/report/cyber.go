package report

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/probity-edu/probity/collector/store"
	"github.com/probity-edu/probity/internal/point"
)

// CyberWindow is how far back the report's cyber security checks reach:
// the longest window the cyber rules judge (the probe runs every 6 hours
// by default).
const CyberWindow = 72 * time.Hour

// CyberCheck is the latest result of one cyber check of one target.
type CyberCheck struct {
	Check    string    `json:"check"`
	Name     string    `json:"name"` // the check in plain English
	Target   string    `json:"target"`
	VLAN     string    `json:"vlan"`
	Severity string    `json:"severity"`
	Detail   string    `json:"detail,omitempty"`
	Fix      string    `json:"fix,omitempty"`
	At       time.Time `json:"at"`
	Agent    string    `json:"agent"`
}

// Cyber is what the agent's cyber security checks found: every finding
// with its fix, worst first, and the checks that could not be completed.
type Cyber struct {
	From     time.Time    `json:"from"`
	To       time.Time    `json:"to"`
	Checks   int          `json:"checks"` // check and target pairs, latest result each
	Clean    int          `json:"clean"`  // of them, without a finding
	Findings []CyberCheck `json:"findings"`
	// Incomplete: the latest result could not tell (a device that did not
	// answer); never counted as clean.
	Incomplete []CyberCheck `json:"incomplete"`
}

// cyberCheckNames say what each check is, for people.
var cyberCheckNames = map[string]string{
	"mgmt_exposure":  "Management port reachable",
	"mgmt_cleartext": "Cleartext management (Telnet, HTTP)",
	"snmp_community": "SNMP default community",
	"snmp_v3":        "SNMPv3 offered",
	"tls":            "TLS certificate and versions",
	"malware":        "Malware test blocked",
	"mail_spf":       "SPF record",
	"mail_dmarc":     "DMARC policy",
	"mail_mta_sts":   "MTA-STS",
	"mail_tls_rpt":   "TLS reporting",
	"firmware":       "Firmware at or above the minimum safe version",
}

func severityRank(s string) int {
	switch s {
	case "high":
		return 0
	case "medium":
		return 1
	case "low":
		return 2
	}
	return 3
}

// buildCyber reads the last CyberWindow of cyber points and keeps the
// latest of each check and target; nil when there are none.
func buildCyber(ctx context.Context, src pointSource, siteID string, agents map[string]string, now time.Time) (*Cyber, error) {
	from := now.Add(-CyberWindow)
	pts, err := src.Points(ctx, store.PointQuery{Site: siteID, Measurement: "cyber", From: from, To: now})
	if err != nil {
		return nil, fmt.Errorf("cyber points: %w", err)
	}
	if len(pts) == 0 {
		return nil, nil
	}
	latest := map[string]point.Point{}
	for _, p := range pts {
		k := p.Tags["check"] + "\x00" + p.Tags["target"] + "\x00" + p.Tags["vlan"]
		if prev, ok := latest[k]; !ok || p.Time.After(prev.Time) {
			latest[k] = p
		}
	}
	c := &Cyber{From: from.UTC(), To: now.UTC(), Checks: len(latest), Findings: []CyberCheck{}, Incomplete: []CyberCheck{}}
	for _, p := range latest {
		name := cyberCheckNames[p.Tags["check"]]
		if name == "" {
			name = p.Tags["check"]
		}
		agent := p.Tags[store.TagAgent]
		if h := agents[agent]; h != "" {
			agent = h
		}
		cc := CyberCheck{Check: p.Tags["check"], Name: name, Target: p.Tags["target"], VLAN: p.Tags["vlan"], Severity: str(p, "severity"),
			Detail: str(p, "detail"), Fix: str(p, "fix"), At: p.Time.UTC(), Agent: agent}
		switch {
		case p.Fields["ok"] == false:
			c.Incomplete = append(c.Incomplete, cc)
		case p.Fields["finding"] == true:
			c.Findings = append(c.Findings, cc)
		default:
			c.Clean++
		}
	}
	order := func(a, b CyberCheck) int {
		return cmp.Or(cmp.Compare(severityRank(a.Severity), severityRank(b.Severity)), cmp.Compare(a.Check, b.Check), cmp.Compare(a.Target, b.Target))
	}
	slices.SortFunc(c.Findings, order)
	slices.SortFunc(c.Incomplete, order)
	return c, nil
}
