package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/probity-edu/probity/agent/enrol"
	"github.com/probity-edu/probity/agent/probe"
	"github.com/probity-edu/probity/agent/schedule"
	"github.com/probity-edu/probity/internal/logging"
	"github.com/probity-edu/probity/internal/point"
)

// keyFigures are the fields `check` shows for each measurement, in order.
var keyFigures = map[string][]string{
	"ping":         {"loss_pct", "rtt_avg_ms", "rtt_p95_ms", "jitter_ms", "icmp_mode"},
	"dns":          {"rcode", "duration_ms", "answer"},
	"http":         {"status", "total_ms", "ttfb_ms", "cert_days_left", "error"},
	"host":         {"cpu_pct", "mem_pct", "disk_pct", "load1", "temp_c", "nic_mbps"},
	"throughput":   {"mbps", "mbps_p90", "idle_rtt_ms", "loaded_rtt_ms", "limit_reason"},
	"reachability": {"attempts", "loss_pct", "rtt_avg_ms", "outages", "longest_outage_s", "outage_ongoing", "whoami_error"},
	"wan_path":     {"address", "previous", "changed", "gap_s"},
	"snmp_device":  {"reachable", "reason", "uptime_s", "cpu_pct", "eos_status", "poll_ms"},
	"snmp_if":      {"oper_up", "speed_mbps", "in_bps", "out_bps", "in_errors_ps"},
	"snmp_poe":     {"power_w", "budget_w", "ports_delivering", "ports_fault"},
	"wifi_ap":      {"up", "radio_up", "clients", "channel", "util_pct"},
	"snmp_ups":     {"on_battery", "charge_pct", "runtime_min"},
	"filter":       {"pass", "outcome", "mechanism", "detail", "error"},
	"safesearch":   {"enforced", "method", "level", "detail", "error"},
}

// targetTags name what was measured, per measurement.
var targetTags = map[string][]string{
	"ping":         {"target"},
	"dns":          {"qname", "qtype", "resolver"},
	"http":         {"target"},
	"host":         {"host", "path"},
	"throughput":   {"server", "direction", "mode"},
	"reachability": {"target"},
	"snmp_device":  {"device", "profile"},
	"snmp_if":      {"device", "ifname"},
	"snmp_poe":     {"device", "group"},
	"wifi_ap":      {"controller", "ap", "radio"},
	"snmp_ups":     {"device"},
	"filter":       {"profile", "target"},
	"safesearch":   {"profile", "target"},
}

func cmdCheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := newCommon("check")
	if done, err := c.load(args, stdout); done || err != nil {
		return err
	}
	cfg := c.config
	if len(cfg.Probes) == 0 {
		return fmt.Errorf("no probes configured in %s", *c.path)
	}
	log := logging.New(cfg.Log, stderr)
	// Probes that test against the collector need the credential; without
	// enrolment they report that, and the others still run.
	var coll *probe.Collector
	if cred, err := enrol.Load(cfg.CredentialPath()); err == nil {
		url := cred.CollectorURL
		if cfg.Collector.URL != "" {
			url = cfg.Collector.URL
		}
		client, err := httpClient(cfg.Collector)
		if err != nil {
			return err
		}
		coll = &probe.Collector{URL: strings.TrimRight(url, "/"), Token: cred.Secret, Client: client}
	}
	jobs, err := buildJobs(cfg, log, coll)
	if err != nil {
		return err
	}
	sched, err := schedule.New(jobs, nil, schedule.Options{Concurrency: cfg.Schedule.Concurrency, Log: log})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Running %d probes once...\n\n", len(jobs))
	results := sched.RunOnce(ctx)
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PROBE\tKIND\tTARGET\tRESULT\tKEY FIGURES")
	failedProbes, failedTargets, targets := 0, 0, 0
	for _, r := range results {
		if r.Err != nil || len(r.Points) == 0 {
			failedProbes++
			reason := "returned no data"
			if r.Err != nil {
				reason = r.Err.Error()
			}
			fmt.Fprintf(tw, "%s\t%s\t-\tCOULD NOT MEASURE\t%s\n", r.Job.Name, r.Job.Kind, reason)
			continue
		}
		for _, p := range r.Points {
			targets++
			res := resultOf(p)
			if res != "ok" {
				failedTargets++
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Job.Name, r.Job.Kind, targetOf(p), res, figures(p))
		}
	}
	tw.Flush()
	fmt.Fprintf(stdout, "\n%d probes, %d targets measured, %d targets failing, %d probes could not measure.\n",
		len(results), targets, failedTargets, failedProbes)
	if failedProbes > 0 {
		return exitError(1)
	}
	return nil
}

func resultOf(p point.Point) string {
	if r, ok := p.Fields["result"].(string); ok && r != "" {
		return r
	}
	// A filtering check can complete and still be wrong: a must-block
	// page that loads, an allow-list site that is blocked.
	if pass, isBool := p.Fields["pass"].(bool); isBool && !pass && p.Fields["ok"] == true {
		return fmt.Sprintf("unexpectedly %v", p.Fields["outcome"])
	}
	if enf, isBool := p.Fields["enforced"].(bool); isBool && !enf && p.Fields["ok"] == true {
		return "not enforced"
	}
	if ok, isBool := p.Fields["ok"].(bool); isBool && !ok {
		return "failed"
	}
	return "ok"
}

func targetOf(p point.Point) string {
	var parts []string
	for _, t := range targetTags[p.Measurement] {
		if v := p.Tags[t]; v != "" {
			parts = append(parts, v)
		}
	}
	if len(parts) == 0 {
		return "-"
	}
	if p.Measurement == "dns" && len(parts) == 3 {
		return fmt.Sprintf("%s %s @%s", parts[0], parts[1], parts[2])
	}
	return strings.Join(parts, " ")
}

func figures(p point.Point) string {
	var out []string
	for _, f := range keyFigures[p.Measurement] {
		v, ok := p.Fields[f]
		if !ok {
			continue
		}
		switch x := v.(type) {
		case float64:
			out = append(out, fmt.Sprintf("%s=%.4g", f, x))
		case string:
			if x == "" {
				continue
			}
			if len(x) > 60 {
				x = x[:57] + "..."
			}
			out = append(out, fmt.Sprintf("%s=%s", f, x))
		default:
			out = append(out, fmt.Sprintf("%s=%v", f, x))
		}
	}
	return strings.Join(out, " ")
}
