package main

import (
	"fmt"
	"time"

	"github.com/probity-edu/probity/agent/probe"
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
	case "throughput":
		pr, err = throughput.New(*p.Throughput, d)
	case "wan":
		pr, err = wan.New(*p.WAN, d)
	case "snmp":
		pr, err = snmpprobe.New(*p.SNMP, d)
	case "filtering":
		pr, err = filtering.New(*p.Filtering, d)
	case "cyber":
		pr, err = cyber.New(*p.Cyber, d)
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
	exclusive := false
	if p.Kind == "throughput" {
		// Heavy: never alongside another heavy probe, and given the time its
		// tests need (each with idle latency, ramp and teardown) unless set.
		exclusive = true
		if p.Timeout == 0 {
			timeout = time.Duration(p.Throughput.Tests())*(p.Throughput.Duration+5*time.Second) + 10*time.Second
		}
	}
	if p.Kind == "wan" && p.Timeout == 0 {
		// Each run is an observation window that should fill the interval:
		// the probe stops about connect_timeout + 1s before the deadline.
		timeout = p.Interval
	}
	j := schedule.Job{Name: p.Name, Kind: p.Kind, Probe: pr, Interval: p.Interval, Jitter: p.Jitter, Timeout: timeout,
		Exclusive: exclusive, Continuous: p.Kind == "wan"}
	if p.Plan != nil {
		plan, err := p.Plan.Planner(nil)
		if err != nil {
			return schedule.Job{}, fmt.Errorf("probe %s: plan: %w", p.Name, err)
		}
		j.Plan, j.Jitter = plan, 0
	}
	return j, nil
}
