package loadgen

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"time"
)

// Source is one thing an agent does on a schedule: one probe run or one
// device poll, whose points are written together. Each source of each
// school starts at its own random phase, as real agents' do.
type Source struct {
	Name  string
	Every time.Duration
	// Append appends the lines of one run at t to lp, line protocol as
	// point.Encode writes it, and returns how many it appended.
	Append AppendFunc
	// Counts is how many points of each measurement one run writes.
	Counts map[string]int
}

// AppendFunc appends the lines of one run of a source, drawing its values
// from r.
type AppendFunc func(lp []byte, r *rand.Rand, t time.Time) ([]byte, int)

// Shape of the simulated school, the brief of issue 11: a secondary with
// a full network.
const (
	PingTargets   = 4
	DNSNames      = 4
	HTTPTargets   = 5
	Switches      = 20
	PortsPerSw    = 48
	APs           = 40
	FilterTargets = 48 // per profile
	Profiles      = 3  // student, staff, guest: 144 filter points a run
	// ThroughputEvery is 4 tests in an 8-hour school day.
	ThroughputEvery = 2 * time.Hour
	// SafeSearch: 4 engine hosts for 2 profiles; cyber: 20 checks a day.
	SafeSearchHosts = 4
	CyberChecks     = 20
)

// Mix is a real school's sources at their real intervals: a secondary
// with Switches switches.
func Mix() []Source { return MixOf(Switches) }

// MixOf is Mix for a school with this many switches (0 or more), the bulk
// of its points: 50 a switch a minute, 50 for the rest of the school. Five
// switches make the small school, 300 points a minute, 5 a
// second. Their series are rendered here, once for all the schools that
// share the mix.
func MixOf(switches int) []Source {
	var m []Source
	add := func(name string, every time.Duration, counts map[string]int, a AppendFunc) {
		m = append(m, Source{Name: name, Every: every, Append: a, Counts: counts})
	}
	add("ping", time.Minute, map[string]int{"ping": PingTargets}, pingRun())
	add("dns", 5*time.Minute, map[string]int{"dns": DNSNames}, dnsRun())
	add("http", 5*time.Minute, map[string]int{"http": HTTPTargets}, httpRun())
	add("throughput", ThroughputEvery, map[string]int{"throughput": 2}, throughputRun())
	for i := 1; i <= switches; i++ {
		dev := fmt.Sprintf("sw-%02d", i)
		add("snmp "+dev, time.Minute, map[string]int{"snmp_device": 1, "snmp_if": PortsPerSw, "snmp_poe": 1}, switchRun(dev))
	}
	add("snmp wlc", time.Minute, map[string]int{"wifi_ap": APs}, wlcRun())
	add("filtering", time.Hour, map[string]int{"filter": FilterTargets * Profiles, "safesearch": SafeSearchHosts * 2}, filteringRun())
	add("host", time.Minute, map[string]int{"host": 1}, hostRun())
	add("agent", time.Minute, map[string]int{"agent": 1}, agentRun())
	add("reachability", time.Minute, map[string]int{"reachability": 1}, reachRun())
	add("cyber", 24*time.Hour, map[string]int{"cyber": CyberChecks}, cyberRun())
	return m
}

// PerMinute is the points per school per minute of each measurement in m.
func PerMinute(m []Source) map[string]float64 {
	out := map[string]float64{}
	for _, s := range m {
		for meas, n := range s.Counts {
			out[meas] += float64(n) * float64(time.Minute) / float64(s.Every)
		}
	}
	return out
}

// TotalPerMinute sums PerMinute.
func TotalPerMinute(m []Source) float64 {
	var t float64
	for _, v := range PerMinute(m) {
		t += v
	}
	return t
}

// MixTable is PerMinute as a Markdown table, for the docs.
func MixTable(m []Source) string {
	pm := PerMinute(m)
	keys := make([]string, 0, len(pm))
	for k := range pm {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return pm[keys[i]] > pm[keys[j]] })
	s := "| measurement | points per school per minute |\n|---|---|\n"
	for _, k := range keys {
		s += fmt.Sprintf("| `%s` | %.3g |\n", k, pm[k])
	}
	return s + fmt.Sprintf("| **total** | **%.1f** (%.1f points/s) |\n", TotalPerMinute(m), TotalPerMinute(m)/60)
}

// around is v ± spread, never below zero.
func around(r *rand.Rand, v, spread float64) float64 {
	return max(0, v+(r.Float64()*2-1)*spread)
}

// The sources below render their series once and return what appends a
// run. Each run draws its values in the order its fields are declared,
// the varying ones passed to shape.append in that order too.

type tags = map[string]string

func pingRun() AppendFunc {
	targets := [PingTargets][2]string{{"10.0.0.1", "gateway"}, {"isp-gw.example.net", "isp"}, {"1.1.1.1", "internet"}, {"collector.trust.example", "collector"}}
	base := [PingTargets]float64{0.6, 4, 9, 12}
	var shapes [PingTargets]*shape
	for i, tg := range targets {
		shapes[i] = newShape("ping", tags{"target": tg[0], "role": tg[1]},
			field{"ok", true}, field{"result", "ok"}, field{"icmp_mode", "datagram"}, field{"sent", int64(5)}, field{"received", slot},
			field{"loss_pct", slot}, field{"rtt_min_ms", slot}, field{"rtt_avg_ms", slot}, field{"rtt_max_ms", slot},
			field{"rtt_p95_ms", slot}, field{"jitter_ms", slot})
	}
	return func(lp []byte, r *rand.Rand, t time.Time) ([]byte, int) {
		ns := t.UnixNano()
		for i, sh := range shapes {
			avg := around(r, base[i], base[i]/4)
			lost := int64(0)
			if r.IntN(200) == 0 {
				lost = 1
			}
			lp = sh.append(lp, ns, ival(5-lost), fval(float64(lost)*20), fval(avg*0.8), fval(avg), fval(avg*1.4), fval(avg*1.3), fval(avg*0.1))
		}
		return lp, len(shapes)
	}
}

func dnsRun() AppendFunc {
	names := [DNSNames]string{"www.google.com", "www.youtube.com", "www.bing.com", "intranet.school.example"}
	var shapes [DNSNames]*shape
	for i, n := range names {
		shapes[i] = newShape("dns", tags{"resolver": "10.0.0.53:53", "qname": n, "qtype": "A"},
			field{"ok", true}, field{"result", "ok"}, field{"rcode", "NOERROR"}, field{"answers", int64(2)},
			field{"answer", "forcesafesearch.google.com,216.239.38.120"}, field{"cname", "forcesafesearch.google.com"}, field{"duration_ms", slot})
	}
	return func(lp []byte, r *rand.Rand, t time.Time) ([]byte, int) {
		ns := t.UnixNano()
		for _, sh := range shapes {
			lp = sh.append(lp, ns, fval(around(r, 8, 6)))
		}
		return lp, len(shapes)
	}
}

func httpRun() AppendFunc {
	targets := [HTTPTargets][2]string{{"https://www.gov.uk/", "internet"}, {"https://login.microsoftonline.com/", "cloud"},
		{"https://accounts.google.com/", "cloud"}, {"https://mis.trust.example/", "cloud"}, {"http://intranet.school.example/", "intranet"}}
	var shapes [HTTPTargets]*shape
	for i, tg := range targets {
		shapes[i] = newShape("http", tags{"target": tg[0], "role": tg[1]},
			field{"ok", true}, field{"result", "ok"}, field{"status", int64(200)}, field{"bytes", slot},
			field{"dns_ms", slot}, field{"connect_ms", slot}, field{"tls_ms", slot}, field{"ttfb_ms", slot}, field{"total_ms", slot},
			field{"cert_days_left", slot})
	}
	return func(lp []byte, r *rand.Rand, t time.Time) ([]byte, int) {
		ns := t.UnixNano()
		for _, sh := range shapes {
			dns, conn, tls, ttfb := around(r, 5, 4), around(r, 10, 5), around(r, 25, 10), around(r, 80, 40)
			lp = sh.append(lp, ns, ival(int64(20000+r.IntN(80000))), fval(dns), fval(conn), fval(tls), fval(ttfb),
				fval(dns+conn+tls+ttfb+around(r, 30, 20)), fval(float64(30+r.IntN(300))))
		}
		return lp, len(shapes)
	}
}

func throughputRun() AppendFunc {
	var shapes [2]*shape
	for i, dir := range [2]string{"download", "upload"} {
		shapes[i] = newShape("throughput", tags{"server": "speedtest.trust.example:443", "direction": dir,
			"method": "http", "streams": "4", "mode": "multi", "probe_limited": "false"},
			field{"mbps", slot}, field{"mbps_p90", slot}, field{"mbps_mean", slot}, field{"ramp_s", slot}, field{"stable", true},
			field{"samples", int64(100)}, field{"bytes", slot}, field{"duration_s", 10.0}, field{"idle_rtt_ms", slot},
			field{"loaded_rtt_ms", slot}, field{"bufferbloat_ms", slot}, field{"limit_reason", "network"},
			field{"nic_mbps", 1000.0}, field{"cpu_pct", slot}, field{"ok", true}, field{"result", "ok"})
	}
	return func(lp []byte, r *rand.Rand, t time.Time) ([]byte, int) {
		ns := t.UnixNano()
		for _, sh := range shapes {
			mbps := around(r, 850, 100)
			lp = sh.append(lp, ns, fval(mbps), fval(mbps*1.05), fval(mbps*0.93), fval(around(r, 1.5, 0.5)),
				ival(int64(mbps*1.25e6*10)), fval(around(r, 6, 2)), fval(around(r, 25, 10)), fval(around(r, 19, 10)),
				fval(around(r, 30, 10)))
		}
		return lp, len(shapes)
	}
}

// switchPort is one port's series and what its role fixes.
type switchPort struct {
	sh     *shape
	access bool
	speed  float64 // Mb/s
}

func switchRun(dev string) AppendFunc {
	device := newShape("snmp_device", tags{"device": dev, "role": "edge", "vendor": "cisco",
		"model": "WS-C2960X-48FPD-L", "profile": "cisco-switch"},
		field{"reachable", true}, field{"poll_ms", slot}, field{"uptime_s", slot}, field{"uplinks_10g_up", int64(2)},
		field{"access_ports_below_1g", slot}, field{"ap_ports_below_2500m", int64(2)}, field{"ap_ports_below_1g", int64(0)},
		field{"psus_ok", int64(1)}, field{"firmware", "15.2(7)E8"}, field{"cpu_pct", slot}, field{"mem_pct", slot},
		field{"temp_c", slot}, field{"reason", "ok"}, field{"malformed", int64(0)}, field{"snmp_version", "v2c"},
		field{"eos_status", "supported"})
	ports := make([]switchPort, PortsPerSw)
	for p := 1; p <= PortsPerSw; p++ {
		role, speed := "access", 1000.0
		switch {
		case p > PortsPerSw-2:
			role, speed = "uplink", 10000
		case p%12 == 0:
			role = "ap"
		}
		ports[p-1] = switchPort{access: role == "access", speed: speed,
			sh: newShape("snmp_if", tags{"device": dev, "ifname": fmt.Sprintf("Gi1/0/%d", p), "role": role},
				field{"oper_up", slot}, field{"admin_up", true}, field{"speed_mbps", speed}, field{"in_bps", slot},
				field{"out_bps", slot}, field{"util_in_pct", slot}, field{"util_out_pct", slot}, field{"in_errors_ps", 0.0},
				field{"out_errors_ps", 0.0}, field{"in_discards_ps", 0.0}, field{"out_discards_ps", slot}, field{"if_type", 6.0},
				field{"duplex", "full"})}
	}
	poe := newShape("snmp_poe", tags{"device": dev, "group": "1"},
		field{"power_w", slot}, field{"budget_w", 740.0}, field{"budget_used_pct", slot}, field{"ports_delivering", int64(14)},
		field{"ports_fault", int64(0)}, field{"oper_status", "on"})
	return func(lp []byte, r *rand.Rand, t time.Time) ([]byte, int) {
		ns := t.UnixNano()
		lp = device.append(lp, ns, fval(around(r, 300, 150)), ival(int64(3_000_000+r.IntN(1000))), ival(int64(r.IntN(3))),
			fval(around(r, 8, 5)), fval(around(r, 40, 5)), fval(around(r, 38, 3)))
		for _, p := range ports {
			up := r.IntN(10) < 7 || !p.access
			in, out := 0.0, 0.0
			if up {
				in, out = around(r, p.speed*1e6*0.02, p.speed*1e6*0.02), around(r, p.speed*1e6*0.01, p.speed*1e6*0.01)
			}
			lp = p.sh.append(lp, ns, bval(up), fval(in), fval(out), fval(in/(p.speed*1e4)), fval(out/(p.speed*1e4)),
				fval(float64(r.IntN(2))*0.01))
		}
		lp = poe.append(lp, ns, fval(around(r, 180, 40)), fval(around(r, 24, 5)))
		return lp, len(ports) + 2
	}
}

func wlcRun() AppendFunc {
	shapes := make([]*shape, APs)
	for i := 1; i <= APs; i++ {
		shapes[i-1] = newShape("wifi_ap", tags{"controller": "wlc-01", "device": "wlc-01",
			"ap": fmt.Sprintf("AP-%03d", i), "ap_mac": fmt.Sprintf("00:3a:7d:00:%02x:%02x", i/256, i%256)},
			field{"up", true}, field{"clients", slot}, field{"channel", float64([]int{36, 44, 52, 60, 100, 149}[i%6])},
			field{"util_pct", slot}, field{"noise_dbm", slot}, field{"model", "C9120AXI-E"}, field{"serial", fmt.Sprintf("FGL2%06d", i)})
	}
	return func(lp []byte, r *rand.Rand, t time.Time) ([]byte, int) {
		ns := t.UnixNano()
		for _, sh := range shapes {
			lp = sh.append(lp, ns, fval(float64(r.IntN(35))), fval(around(r, 25, 15)), fval(around(r, -92, 3)))
		}
		return lp, len(shapes)
	}
}

func filteringRun() AppendFunc {
	cats := []struct{ cat, kind, expect string }{{"child-abuse", "must_block", "block"}, {"terrorism", "must_block", "block"},
		{"adult-content", "must_block", "block"}, {"malware", "must_block", "block"}, {"must-allow", "must_allow", "allow"},
		{"circumvention", "circumvention", "block"}}
	var shapes []*shape // the filter checks, then the SafeSearch ones
	for _, prof := range []string{"student", "staff", "guest"}[:Profiles] {
		for i := range FilterTargets {
			c := cats[i%len(cats)]
			fs := []field{{"ok", true}, {"pass", true}, {"outcome", "blocked"},
				{"url", fmt.Sprintf("https://t%02d.%s.test.example/", i, c.cat)}, {"duration_ms", slot},
				{"mechanism", "dns_sinkhole"}, {"detail", "10.0.0.250"}}
			if c.expect == "allow" {
				fs[2].val, fs = "allowed", fs[:5]
			}
			shapes = append(shapes, newShape("filter", tags{"suite": "uk-baseline", "category": c.cat, "kind": c.kind,
				"expect": c.expect, "target": fmt.Sprintf("%s-%02d", c.cat, i), "profile": prof}, fs...))
		}
	}
	hosts := [SafeSearchHosts][2]string{{"google", "www.google.com"}, {"youtube", "www.youtube.com"}, {"bing", "www.bing.com"}, {"duckduckgo", "duckduckgo.com"}}
	for _, prof := range []string{"student", "staff"} {
		for _, h := range hosts {
			shapes = append(shapes, newShape("safesearch", tags{"suite": "uk-baseline", "engine": h[0], "target": h[0], "host": h[1], "profile": prof},
				field{"ok", true}, field{"enforced", true}, field{"method", "dns"}, field{"level", "strict"},
				field{"detail", "CNAME strict"}, field{"duration_ms", slot}))
		}
	}
	return func(lp []byte, r *rand.Rand, t time.Time) ([]byte, int) {
		ns := t.UnixNano()
		for i, sh := range shapes {
			if i < FilterTargets*Profiles {
				lp = sh.append(lp, ns, fval(around(r, 120, 80)))
			} else {
				lp = sh.append(lp, ns, fval(around(r, 10, 5)))
			}
		}
		return lp, len(shapes)
	}
}

func hostRun() AppendFunc {
	sh := newShape("host", tags{"host": "probity-01", "path": "/"},
		field{"cpu_pct", slot}, field{"mem_pct", slot}, field{"disk_pct", 22.5}, field{"load1", slot}, field{"load5", 0.2},
		field{"load15", 0.15}, field{"procs", slot}, field{"uptime_s", int64(1_000_000)}, field{"temp_c", slot}, field{"nic_mbps", 1000.0})
	return func(lp []byte, r *rand.Rand, t time.Time) ([]byte, int) {
		return sh.append(lp, t.UnixNano(), fval(around(r, 5, 3)), fval(around(r, 30, 2)), fval(around(r, 0.2, 0.1)),
			ival(int64(120+r.IntN(10))), fval(around(r, 48, 4))), 1
	}
}

func agentRun() AppendFunc {
	sh := newShape("agent", tags{"version": "loadgen"},
		field{"queued_batches", slot}, field{"queued_bytes", slot}, field{"dropped_points", int64(0)}, field{"ship_failures", int64(0)},
		field{"probe_failures", int64(0)}, field{"shipped_batches", slot})
	return func(lp []byte, r *rand.Rand, t time.Time) ([]byte, int) {
		return sh.append(lp, t.UnixNano(), ival(int64(r.IntN(2))), ival(int64(r.IntN(4000))), ival(int64(1000+r.IntN(1000)))), 1
	}
}

func reachRun() AppendFunc {
	sh := newShape("reachability", tags{"target": "collector.trust.example:443"},
		field{"attempts", int64(60)}, field{"failures", int64(0)}, field{"loss_pct", 0.0}, field{"rtt_avg_ms", slot},
		field{"rtt_max_ms", slot}, field{"outages", int64(0)}, field{"longest_outage_s", 0.0}, field{"outage_ongoing", false},
		field{"ok", true}, field{"result", "ok"}, field{"whoami_ok", true})
	return func(lp []byte, r *rand.Rand, t time.Time) ([]byte, int) {
		return sh.append(lp, t.UnixNano(), fval(around(r, 12, 3)), fval(around(r, 30, 10))), 1
	}
}

func cyberRun() AppendFunc {
	checks := []string{"mgmt_exposure", "mgmt_cleartext", "snmp_community", "snmp_v3", "tls", "firmware", "mail_spf", "mail_dmarc", "malware", "mail_mta_sts"}
	shapes := make([]*shape, CyberChecks)
	for i := range CyberChecks {
		shapes[i] = newShape("cyber", tags{"check": checks[i%len(checks)], "target": fmt.Sprintf("sw-%02d", i+1), "vlan": "staff"},
			field{"ok", true}, field{"finding", slot}, field{"severity", slot}, field{"detail", "checked from the staff VLAN"})
	}
	return func(lp []byte, r *rand.Rand, t time.Time) ([]byte, int) {
		ns := t.UnixNano()
		for _, sh := range shapes {
			finding := r.IntN(5) == 0
			sev := "none"
			if finding {
				sev = "medium"
			}
			lp = sh.append(lp, ns, bval(finding), sval(sev))
		}
		return lp, len(shapes)
	}
}
