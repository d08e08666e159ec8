package main

import (
	"fmt"
	"time"

	"github.com/probity-edu/probity/agent/probe"
	"github.com/probity-edu/probity/agent/probe/dns"
	"github.com/probity-edu/probity/agent/probe/host"
	"github.com/probity-edu/probity/agent/probe/httpcheck"
	"github.com/probity-edu/probity/agent/probe/ping"
	"github.com/probity-edu/probity/agent/schedule"
	"github.com/probity-edu/probity/agent/settings"
)

// build turns one configured probe into a scheduled job. This switch is the
// only place that knows every kind.
func build(p settings.Probe, d probe.Deps) (schedule.Job, error) {
	d.Log = d.Log.With("probe", p.Name, "kind", p.Kind)
	var (
		pr  probe.Probe
		err error
	)
	switch p.Kind {
	case "ping":
		pr, err = ping.New(*p.Ping, d)
	case "dns":
		pr, err = dns.New(*p.DNS, d)
	case "http":
		pr, err = httpcheck.New(*p.HTTP, d)
	case "host":
		pr, err = host.New(*p.Host, d)
	default:
		err = fmt.Errorf("unknown kind %q", p.Kind)
	}
	if err != nil {
		return schedule.Job{}, fmt.Errorf("probe %s: %w", p.Name, err)
	}
	timeout := p.Timeout
	if timeout == 0 {
		timeout = time.Duration(float64(p.Interval) * 0.8)
	}
	return schedule.Job{Name: p.Name, Kind: p.Kind, Probe: pr, Interval: p.Interval, Jitter: p.Jitter, Timeout: timeout}, nil
}
