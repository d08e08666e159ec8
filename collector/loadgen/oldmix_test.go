package loadgen

// The load generator as it was before it wrote line protocol directly:
// each run built point.Point values and point.Encode encoded them. Kept
// as the reference TestLinesMatchPoints compares the mix with, and the
// baseline of BenchmarkSchoolBatch.

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/probity-edu/probity/internal/point"
)

// oldSource is Source with a Build of points.
type oldSource struct {
	Name   string
	Every  time.Duration
	Build  func(r *rand.Rand, t time.Time) []point.Point
	Counts map[string]int
}

// oldSchool is School over oldSources.
type oldSchool struct {
	rng   *rand.Rand
	mix   []oldSource
	every []time.Duration
	due   []time.Time
}

func newOldSchool(mix []oldSource, start time.Time, speedup float64, seed uint64) *oldSchool {
	s := &oldSchool{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), mix: mix}
	for _, src := range mix {
		e := time.Duration(float64(src.Every) / speedup)
		e = max(e, time.Millisecond)
		s.every = append(s.every, e)
		s.due = append(s.due, start.Add(time.Duration(s.rng.Int64N(int64(e)))))
	}
	return s
}

func (s *oldSchool) Due(now time.Time) []point.Point {
	var pts []point.Point
	for i, src := range s.mix {
		for !s.due[i].After(now) {
			pts = append(pts, src.Build(s.rng, s.due[i])...)
			s.due[i] = s.due[i].Add(s.every[i])
		}
	}
	return pts
}

func oldEncodeBatch(pts []point.Point) ([]byte, error) {
	lp, err := point.Encode(nil, pts)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.StatelessCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(lp); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// oldMix is Mix as the point builders made it.
func oldMix() []oldSource {
	var m []oldSource
	add := func(name string, every time.Duration, counts map[string]int, b func(r *rand.Rand, t time.Time) []point.Point) {
		m = append(m, oldSource{Name: name, Every: every, Build: b, Counts: counts})
	}
	add("ping", time.Minute, map[string]int{"ping": PingTargets}, oldBuildPing)
	add("dns", 5*time.Minute, map[string]int{"dns": DNSNames}, oldBuildDNS)
	add("http", 5*time.Minute, map[string]int{"http": HTTPTargets}, oldBuildHTTP)
	add("throughput", ThroughputEvery, map[string]int{"throughput": 2}, oldBuildThroughput)
	for i := 1; i <= Switches; i++ {
		dev := fmt.Sprintf("sw-%02d", i)
		add("snmp "+dev, time.Minute, map[string]int{"snmp_device": 1, "snmp_if": PortsPerSw, "snmp_poe": 1},
			func(r *rand.Rand, t time.Time) []point.Point { return oldBuildSwitch(r, t, dev) })
	}
	add("snmp wlc", time.Minute, map[string]int{"wifi_ap": APs}, oldBuildWLC)
	add("filtering", time.Hour, map[string]int{"filter": FilterTargets * Profiles, "safesearch": SafeSearchHosts * 2}, oldBuildFiltering)
	add("host", time.Minute, map[string]int{"host": 1}, oldBuildHost)
	add("agent", time.Minute, map[string]int{"agent": 1}, oldBuildAgent)
	add("reachability", time.Minute, map[string]int{"reachability": 1}, oldBuildReach)
	add("cyber", 24*time.Hour, map[string]int{"cyber": CyberChecks}, oldBuildCyber)
	return m
}

func oldBuildPing(r *rand.Rand, t time.Time) []point.Point {
	targets := [PingTargets][2]string{{"10.0.0.1", "gateway"}, {"isp-gw.example.net", "isp"}, {"1.1.1.1", "internet"}, {"collector.trust.example", "collector"}}
	pts := make([]point.Point, 0, PingTargets)
	for i, tg := range targets {
		base := []float64{0.6, 4, 9, 12}[i]
		avg := around(r, base, base/4)
		lost := int64(0)
		if r.IntN(200) == 0 {
			lost = 1
		}
		pts = append(pts, point.New("ping", map[string]string{"target": tg[0], "role": tg[1]}, map[string]any{
			"ok": true, "result": "ok", "icmp_mode": "datagram", "sent": int64(5), "received": 5 - lost,
			"loss_pct": float64(lost) * 20, "rtt_min_ms": avg * 0.8, "rtt_avg_ms": avg, "rtt_max_ms": avg * 1.4,
			"rtt_p95_ms": avg * 1.3, "jitter_ms": avg * 0.1,
		}, t))
	}
	return pts
}

func oldBuildDNS(r *rand.Rand, t time.Time) []point.Point {
	names := [DNSNames]string{"www.google.com", "www.youtube.com", "www.bing.com", "intranet.school.example"}
	pts := make([]point.Point, 0, DNSNames)
	for _, n := range names {
		pts = append(pts, point.New("dns", map[string]string{"resolver": "10.0.0.53:53", "qname": n, "qtype": "A"}, map[string]any{
			"ok": true, "result": "ok", "rcode": "NOERROR", "answers": int64(2), "answer": "forcesafesearch.google.com,216.239.38.120",
			"cname": "forcesafesearch.google.com", "duration_ms": around(r, 8, 6),
		}, t))
	}
	return pts
}

func oldBuildHTTP(r *rand.Rand, t time.Time) []point.Point {
	targets := [HTTPTargets][2]string{{"https://www.gov.uk/", "internet"}, {"https://login.microsoftonline.com/", "cloud"},
		{"https://accounts.google.com/", "cloud"}, {"https://mis.trust.example/", "cloud"}, {"http://intranet.school.example/", "intranet"}}
	pts := make([]point.Point, 0, HTTPTargets)
	for _, tg := range targets {
		dns, conn, tls, ttfb := around(r, 5, 4), around(r, 10, 5), around(r, 25, 10), around(r, 80, 40)
		pts = append(pts, point.New("http", map[string]string{"target": tg[0], "role": tg[1]}, map[string]any{
			"ok": true, "result": "ok", "status": int64(200), "bytes": int64(20000 + r.IntN(80000)),
			"dns_ms": dns, "connect_ms": conn, "tls_ms": tls, "ttfb_ms": ttfb, "total_ms": dns + conn + tls + ttfb + around(r, 30, 20),
			"cert_days_left": float64(30 + r.IntN(300)),
		}, t))
	}
	return pts
}

func oldBuildThroughput(r *rand.Rand, t time.Time) []point.Point {
	var pts []point.Point
	for _, dir := range []string{"download", "upload"} {
		mbps := around(r, 850, 100)
		pts = append(pts, point.New("throughput", map[string]string{"server": "speedtest.trust.example:443", "direction": dir,
			"method": "http", "streams": "4", "mode": "multi", "probe_limited": "false"}, map[string]any{
			"mbps": mbps, "mbps_p90": mbps * 1.05, "mbps_mean": mbps * 0.93, "ramp_s": around(r, 1.5, 0.5), "stable": true,
			"samples": int64(100), "bytes": int64(mbps * 1.25e6 * 10), "duration_s": 10.0, "idle_rtt_ms": around(r, 6, 2),
			"loaded_rtt_ms": around(r, 25, 10), "bufferbloat_ms": around(r, 19, 10), "limit_reason": "network",
			"nic_mbps": 1000.0, "cpu_pct": around(r, 30, 10), "ok": true, "result": "ok",
		}, t))
	}
	return pts
}

func oldBuildSwitch(r *rand.Rand, t time.Time, dev string) []point.Point {
	pts := make([]point.Point, 0, PortsPerSw+2)
	pts = append(pts, point.New("snmp_device", map[string]string{"device": dev, "role": "edge", "vendor": "cisco",
		"model": "WS-C2960X-48FPD-L", "profile": "cisco-switch"}, map[string]any{
		"reachable": true, "poll_ms": around(r, 300, 150), "uptime_s": int64(3_000_000 + r.IntN(1000)), "uplinks_10g_up": int64(2),
		"access_ports_below_1g": int64(r.IntN(3)), "ap_ports_below_2500m": int64(2), "ap_ports_below_1g": int64(0), "psus_ok": int64(1),
		"firmware": "15.2(7)E8", "cpu_pct": around(r, 8, 5), "mem_pct": around(r, 40, 5), "temp_c": around(r, 38, 3),
		"reason": "ok", "malformed": int64(0), "snmp_version": "v2c", "eos_status": "supported",
	}, t))
	for p := 1; p <= PortsPerSw; p++ {
		role, speed := "access", 1000.0
		switch {
		case p > PortsPerSw-2:
			role, speed = "uplink", 10000
		case p%12 == 0:
			role = "ap"
		}
		up := r.IntN(10) < 7 || role != "access"
		in, out := 0.0, 0.0
		if up {
			in, out = around(r, speed*1e6*0.02, speed*1e6*0.02), around(r, speed*1e6*0.01, speed*1e6*0.01)
		}
		pts = append(pts, point.New("snmp_if", map[string]string{"device": dev, "ifname": fmt.Sprintf("Gi1/0/%d", p), "role": role}, map[string]any{
			"oper_up": up, "admin_up": true, "speed_mbps": speed, "in_bps": in, "out_bps": out,
			"util_in_pct": in / (speed * 1e4), "util_out_pct": out / (speed * 1e4), "in_errors_ps": 0.0, "out_errors_ps": 0.0,
			"in_discards_ps": 0.0, "out_discards_ps": float64(r.IntN(2)) * 0.01, "if_type": 6.0, "duplex": "full",
		}, t))
	}
	pts = append(pts, point.New("snmp_poe", map[string]string{"device": dev, "group": "1"}, map[string]any{
		"power_w": around(r, 180, 40), "budget_w": 740.0, "budget_used_pct": around(r, 24, 5), "ports_delivering": int64(14),
		"ports_fault": int64(0), "oper_status": "on",
	}, t))
	return pts
}

func oldBuildWLC(r *rand.Rand, t time.Time) []point.Point {
	pts := make([]point.Point, 0, APs)
	for i := 1; i <= APs; i++ {
		pts = append(pts, point.New("wifi_ap", map[string]string{"controller": "wlc-01", "device": "wlc-01",
			"ap": fmt.Sprintf("AP-%03d", i), "ap_mac": fmt.Sprintf("00:3a:7d:00:%02x:%02x", i/256, i%256)}, map[string]any{
			"up": true, "clients": float64(r.IntN(35)), "channel": float64([]int{36, 44, 52, 60, 100, 149}[i%6]),
			"util_pct": around(r, 25, 15), "noise_dbm": around(r, -92, 3), "model": "C9120AXI-E", "serial": fmt.Sprintf("FGL2%06d", i),
		}, t))
	}
	return pts
}

func oldBuildFiltering(r *rand.Rand, t time.Time) []point.Point {
	pts := make([]point.Point, 0, FilterTargets*Profiles+SafeSearchHosts*2)
	cats := []struct{ cat, kind, expect string }{{"child-abuse", "must_block", "block"}, {"terrorism", "must_block", "block"},
		{"adult-content", "must_block", "block"}, {"malware", "must_block", "block"}, {"must-allow", "must_allow", "allow"},
		{"circumvention", "circumvention", "block"}}
	for _, prof := range []string{"student", "staff", "guest"}[:Profiles] {
		for i := range FilterTargets {
			c := cats[i%len(cats)]
			outcome, mech := "blocked", "dns_sinkhole"
			if c.expect == "allow" {
				outcome, mech = "allowed", ""
			}
			f := map[string]any{"ok": true, "pass": true, "outcome": outcome, "url": fmt.Sprintf("https://t%02d.%s.test.example/", i, c.cat),
				"duration_ms": around(r, 120, 80)}
			if mech != "" {
				f["mechanism"], f["detail"] = mech, "10.0.0.250"
			}
			pts = append(pts, point.New("filter", map[string]string{"suite": "uk-baseline", "category": c.cat, "kind": c.kind,
				"expect": c.expect, "target": fmt.Sprintf("%s-%02d", c.cat, i), "profile": prof}, f, t))
		}
	}
	hosts := [SafeSearchHosts][2]string{{"google", "www.google.com"}, {"youtube", "www.youtube.com"}, {"bing", "www.bing.com"}, {"duckduckgo", "duckduckgo.com"}}
	for _, prof := range []string{"student", "staff"} {
		for _, h := range hosts {
			pts = append(pts, point.New("safesearch", map[string]string{"suite": "uk-baseline", "engine": h[0], "target": h[0], "host": h[1], "profile": prof},
				map[string]any{"ok": true, "enforced": true, "method": "dns", "level": "strict", "detail": "CNAME strict", "duration_ms": around(r, 10, 5)}, t))
		}
	}
	return pts
}

func oldBuildHost(r *rand.Rand, t time.Time) []point.Point {
	return []point.Point{point.New("host", map[string]string{"host": "probity-01", "path": "/"}, map[string]any{
		"cpu_pct": around(r, 5, 3), "mem_pct": around(r, 30, 2), "disk_pct": 22.5, "load1": around(r, 0.2, 0.1), "load5": 0.2,
		"load15": 0.15, "procs": int64(120 + r.IntN(10)), "uptime_s": int64(1_000_000), "temp_c": around(r, 48, 4), "nic_mbps": 1000.0,
	}, t)}
}

func oldBuildAgent(r *rand.Rand, t time.Time) []point.Point {
	return []point.Point{point.New("agent", map[string]string{"version": "loadgen"}, map[string]any{
		"queued_batches": int64(r.IntN(2)), "queued_bytes": int64(r.IntN(4000)), "dropped_points": int64(0), "ship_failures": int64(0),
		"probe_failures": int64(0), "shipped_batches": int64(1000 + r.IntN(1000)),
	}, t)}
}

func oldBuildReach(r *rand.Rand, t time.Time) []point.Point {
	return []point.Point{point.New("reachability", map[string]string{"target": "collector.trust.example:443"}, map[string]any{
		"attempts": int64(60), "failures": int64(0), "loss_pct": 0.0, "rtt_avg_ms": around(r, 12, 3), "rtt_max_ms": around(r, 30, 10),
		"outages": int64(0), "longest_outage_s": 0.0, "outage_ongoing": false, "ok": true, "result": "ok", "whoami_ok": true,
	}, t)}
}

func oldBuildCyber(r *rand.Rand, t time.Time) []point.Point {
	checks := []string{"mgmt_exposure", "mgmt_cleartext", "snmp_community", "snmp_v3", "tls", "firmware", "mail_spf", "mail_dmarc", "malware", "mail_mta_sts"}
	pts := make([]point.Point, 0, CyberChecks)
	for i := range CyberChecks {
		finding := r.IntN(5) == 0
		sev := "none"
		if finding {
			sev = "medium"
		}
		pts = append(pts, point.New("cyber", map[string]string{"check": checks[i%len(checks)], "target": fmt.Sprintf("sw-%02d", i+1), "vlan": "staff"},
			map[string]any{"ok": true, "finding": finding, "severity": sev, "detail": "checked from the staff VLAN"}, t))
	}
	return pts
}
