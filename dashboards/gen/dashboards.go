package main

import (
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// dash is one dashboard file.
type dash struct {
	file   string // under dashboards/
	uid    string
	title  string
	desc   string
	vars   []cog.Builder[dashboard.VariableModel] // after datasource, trust and school
	panels []panel
}

// dashboards lists every dashboard, in the order the docs list them.
func dashboards() []dash {
	return []dash{trustOverview(), schoolBroadband(), switchingWifi(), filtering(), agentHealth()}
}

// Value mappings of a level (standard_status, standard_verdict).
var (
	standardLevels = []mapping{
		{"0", "Not evidenced", grey}, {"1", "Not met", red}, {"2", "Partly met", amber}, {"3", "Met", green},
	}
	verdictLevels = []mapping{
		{"0", "Not enough data", grey}, {"1", "Not met", red}, {"2", "Partly met / plan needed", amber}, {"3", "Met / attested", green},
		{"not_enough_data", "not enough data", grey}, {"not_met", "not met", red}, {"attestation_expired", "attestation expired", red},
		{"partly_met", "partly met", amber}, {"plan_needed", "plan needed", amber}, {"met", "met", green}, {"attested", "attested", green},
	}
	upDown = []mapping{{"true", "Up", green}, {"false", "Down", red}, {"1", "Up", green}, {"0", "Down", red}}
	passed = []mapping{{"true", "Pass", green}, {"false", "Fail", red}, {"1", "Pass", green}, {"0", "Fail", red}}
)

// levelSteps colour a 0..3 level: grey, red, amber, green.
var levelSteps = []step{{1, red}, {2, amber}, {3, green}}

// verdictTable lists the requirement verdicts, worst first.
func verdictTable(title, where, desc, reqs string, w, h uint32) panel {
	return panel{
		kind: kindTable, title: title, desc: desc, reqs: reqs,
		source: "standard_verdict: last(level), last(summary) by school, requirement, state",
		w:      w, h: h, unit: "none", base: grey, steps: levelSteps, mappings: verdictLevels,
		targets: []target{{query: latest(`last("level") AS "level", last("summary") AS "summary"`,
			"standard_verdict", where, `"school", "requirement", "state"`), format: formatTable}},
		sortBy: "level", colourCells: true, colourCols: []string{"state"},
		transforms: []dashboard.DataTransformerConfig{transformation("organize", map[string]any{
			"excludeByName": map[string]any{"Time": true},
			"indexByName":   map[string]any{"school": 0, "requirement": 1, "state": 2, "level": 3, "summary": 4},
		})},
	}
}

func trustOverview() dash {
	return dash{
		file: "probity-trust-overview.json", uid: "probity-trust-overview", title: "Probity: trust overview",
		desc: "Every school of the trust against the DfE core standards, the requirements not met, and whether each school's agents deliver data.",
		panels: []panel{
			{
				kind: kindTable, title: "Core standards by school",
				desc:   "Each school (row) against each core standard (column) as the governors' report judges it at the last scoring run: Met, Partly met, Not met or Not evidenced.",
				reqs:   "the core standards (broadband, wireless, switching, cyber, filtering, leadership)",
				source: "standard_status: last(level) by school, standard",
				w:      24, h: 9, unit: "none", base: grey, steps: levelSteps, mappings: standardLevels,
				targets: []target{{query: latest(`last("level") AS "level"`, "standard_status", "", `"school", "standard"`), format: formatTable}},
				transforms: []dashboard.DataTransformerConfig{transformation("groupingToMatrix", map[string]any{
					"columnField": "standard", "rowField": "school", "valueField": "level", "emptyValue": "null",
				})},
				colourCells: true,
			},
			verdictTable("Requirement verdicts, worst first", "",
				"Every requirement verdict of the selected schools at the last scoring run, Not met first (red), then Partly met (amber), Not enough data (grey) and Met (green), with the collector's one-sentence reason. A requirement whose state changed within the time range shows once per state; the time column is when each was last written.",
				"every scored requirement (BB-*, WL-*, SW-*, CY-*, FM-* ...)", 24, 12),
			{
				kind: kindTable, title: "Agents last seen",
				desc:   "Seconds since each agent last delivered data to the collector, at the last scoring run: green under 15 minutes, amber under an hour, red beyond. An agent never seen has no row.",
				source: "agent_status: last(last_seen_age_s) by school, agent, hostname",
				w:      12, h: 9, unit: "s", base: green, steps: []step{{900, amber}, {3600, red}},
				targets: []target{{query: latest(`last("last_seen_age_s") AS "last seen"`, "agent_status", "", `"school", "agent", "hostname"`), format: formatTable}},
				sortBy:  "last seen", sortDesc: true, colourCells: true,
			},
			{
				kind: kindBarGauge, title: "Data coverage (last 30 days)",
				desc:   "Share of the last 30 days on which each school sent data (as the trust report counts it): red under 50%, amber under 90%, green from 90%. Verdicts on a school with little data say Not enough data rather than Not met.",
				source: "school_status: last(coverage_pct) by school",
				w:      12, h: 9, unit: "percent", min: f(0), max: f(100), base: red, steps: []step{{50, amber}, {90, green}},
				targets: []target{{query: latest(`last("coverage_pct")`, "school_status", "", `"school"`), alias: "$tag_school"}},
			},
		},
	}
}

// throughputPanel is the multi-stream median of one direction against
// the phase's DfE threshold drawn as a dashed line.
func throughputPanel(direction, title string, primaryMin float64) panel {
	return panel{
		kind: kindTimeseries, title: title,
		desc: "Median goodput of the multi-stream " + direction + " tests (the headline figure), one series per school and probe_limited (true: the agent itself was the bottleneck, such tests are left out of scoring). " +
			"The dashed red line is the school's phase threshold for the monthly median (100/30 Mbit/s primary, 900/900 secondary and FE).",
		reqs:   "BB-2, BB-3",
		source: "throughput: median(mbps) where direction='" + direction + "', mode='multi'; school_status: last(" + direction + "_target_mbps)",
		w:      12, h: 9, unit: "Mbits", min: f(0), base: red, steps: []step{{primaryMin, green}},
		targets: []target{
			{query: series(`median("mbps")`, "throughput", `"direction" = '`+direction+`' AND "mode" = 'multi'`, `"site", "probe_limited"`, "none"),
				alias: "$tag_site " + direction + " (probe_limited=$tag_probe_limited)"},
			{query: series(`last("`+direction+`_target_mbps")`, "school_status", "", `"site"`, "previous"),
				alias: "$tag_site threshold"},
		},
		dashed: "/threshold/",
	}
}

func throughputStat(direction, title string, primaryMin float64) panel {
	return panel{
		kind: kindStat, title: title,
		desc:   "Median of the multi-stream " + direction + " tests over the whole time range, per school (tests the agent itself limited included). Green from " + fmtNum(primaryMin) + " Mbit/s, the primary threshold; secondary and FE need 900.",
		reqs:   "BB-2, BB-3",
		source: "throughput: median(mbps) where direction='" + direction + "', mode='multi', by site",
		w:      6, h: 5, unit: "Mbits", base: red, steps: []step{{primaryMin, green}},
		targets: []target{{query: latest(`median("mbps")`, "throughput", `"direction" = '`+direction+`' AND "mode" = 'multi'`, `"site"`), alias: "$tag_site"}},
	}
}

func schoolBroadband() dash {
	return dash{
		file: "probity-school-broadband.json", uid: "probity-school-broadband", title: "Probity: school broadband",
		desc: "Broadband of the selected schools: speed against the DfE thresholds, latency idle and loaded, loss, jitter, DNS, and the internet path's changes and outages.",
		panels: []panel{
			throughputStat("download", "Download median", 100),
			throughputStat("upload", "Upload median", 30),
			{
				kind: kindStat, title: "Outages in range",
				desc:   "Outages of the internet path (2 or more consecutive failed one-per-second TCP connects) that ended in the time range, per school: green none, amber 1 or more, red 5 or more.",
				reqs:   "BB-5, BB-6",
				source: "reachability: sum(outages) by site",
				w:      6, h: 5, unit: "none", base: green, steps: []step{{1, amber}, {5, red}},
				targets: []target{{query: latest(`sum("outages")`, "reachability", "", `"site"`), alias: "$tag_site"}},
			},
			{
				kind: kindStat, title: "Longest outage in range",
				desc:   "Longest outage of the internet path that ended in the time range, per school: green under 10 s, amber under 5 minutes, red from 5 minutes (the longest failover gap BB-6 allows).",
				reqs:   "BB-6",
				source: "reachability: max(longest_outage_s) by site",
				w:      6, h: 5, unit: "s", base: green, steps: []step{{10, amber}, {300, red}},
				targets: []target{{query: latest(`max("longest_outage_s")`, "reachability", "", `"site"`), alias: "$tag_site"}},
			},
			throughputPanel("download", "Download speed against the threshold", 100),
			throughputPanel("upload", "Upload speed against the threshold", 30),
			{
				kind: kindTimeseries, title: "Latency idle and under load",
				desc:   "Median TCP handshake time to the speed-test server before the tests (idle) and during the transfer (loaded), per school and direction; the gap is bufferbloat. Green under 50 ms, amber under 150 ms, red beyond. No DfE figure.",
				source: "throughput: median(idle_rtt_ms), median(loaded_rtt_ms) by site, direction",
				w:      12, h: 8, unit: "ms", min: f(0), base: green, steps: []step{{50, amber}, {150, red}},
				targets: []target{{query: series(`median("idle_rtt_ms") AS "idle", median("loaded_rtt_ms") AS "loaded"`, "throughput", "", `"site", "direction"`, "none"),
					alias: "$tag_site $tag_direction $col"}},
			},
			{
				kind: kindTimeseries, title: "Ping round trip by role",
				desc:   "Mean ICMP round trip per school and target role (gateway, isp, internet, collector). Green under 50 ms, amber under 150 ms, red beyond. No DfE figure.",
				source: "ping: mean(rtt_avg_ms) by site, role",
				w:      12, h: 8, unit: "ms", min: f(0), base: green, steps: []step{{50, amber}, {150, red}},
				targets: []target{{query: series(`mean("rtt_avg_ms")`, "ping", "", `"site", "role"`, "null"), alias: "$tag_site $tag_role"}},
			},
			{
				kind: kindTimeseries, title: "Packet and connect loss",
				desc:   "Share of ICMP echoes without a reply per target role (ping), and of one-per-second TCP connects that failed (reachability, the internet path). Green under 1%, amber under 5%, red beyond.",
				reqs:   "BB-5, BB-6",
				source: "ping: mean(loss_pct) by site, role; reachability: mean(loss_pct) by site, target",
				w:      12, h: 8, unit: "percent", min: f(0), base: green, steps: []step{{1, amber}, {5, red}},
				targets: []target{
					{query: series(`mean("loss_pct")`, "ping", "", `"site", "role"`, "null"), alias: "$tag_site ping $tag_role"},
					{query: series(`mean("loss_pct")`, "reachability", "", `"site", "target"`, "null"), alias: "$tag_site connect $tag_target"},
				},
			},
			{
				kind: kindTimeseries, title: "Jitter",
				desc:   "Mean difference between consecutive ICMP round trips per school and target role. Green under 10 ms, amber under 30 ms (where calls start to suffer), red beyond. No DfE figure.",
				source: "ping: mean(jitter_ms) by site, role",
				w:      12, h: 8, unit: "ms", min: f(0), base: green, steps: []step{{10, amber}, {30, red}},
				targets: []target{{query: series(`mean("jitter_ms")`, "ping", "", `"site", "role"`, "null"), alias: "$tag_site $tag_role"}},
			},
			{
				kind: kindTimeseries, title: "DNS lookup time by resolver",
				desc:   "Median time to a DNS answer per school and resolver. Green under 100 ms, amber under 500 ms, red beyond. No DfE figure.",
				source: "dns: median(duration_ms) by site, resolver",
				w:      12, h: 8, unit: "ms", min: f(0), base: green, steps: []step{{100, amber}, {500, red}},
				targets: []target{{query: series(`median("duration_ms")`, "dns", "", `"site", "resolver"`, "null"), alias: "$tag_site $tag_resolver"}},
			},
			{
				kind: kindTimeseries, title: "Outages of the internet path",
				desc:   "Outages (2 or more consecutive failed connects) ending in each interval, and the longest of them in seconds, per school and target. Green none, amber from 1, red from 5; the longest gap BB-6 allows is 300 s.",
				reqs:   "BB-5, BB-6",
				source: "reachability: sum(outages), max(longest_outage_s) by site, target",
				w:      12, h: 8, unit: "none", min: f(0), base: green, steps: []step{{1, amber}, {5, red}}, bars: true,
				targets: []target{{query: series(`sum("outages") AS "outages", max("longest_outage_s") AS "longest outage (s)"`, "reachability", "", `"site", "target"`, "none"),
					alias: "$tag_site $tag_target $col"}},
			},
			{
				kind: kindTable, title: "WAN path changes",
				desc:   "The public address each school reaches the collector from, when it was first seen (event first) and whenever it changed (event change: traffic moved to another connection, a failover or failback), with the address before and the gap of failed connects before it. Gap green under 60 s, amber under 300 s, red from 300 s.",
				reqs:   "BB-5, BB-6",
				source: "wan_path: last(address), last(previous), max(gap_s) by site, event, per interval",
				w:      24, h: 8, unit: "s", base: green, steps: []step{{60, amber}, {300, red}},
				targets: []target{{query: series(`last("address") AS "address", last("previous") AS "previous", max("gap_s") AS "gap"`, "wan_path", "", `"site", "event"`, "none"),
					format: formatTable}},
				sortBy: "Time", sortDesc: true, colourCells: true,
			},
		},
	}
}

// device limits the switching panels to the selected devices.
const device = `"device" =~ /^$device$/`

func switchingWifi() dash {
	q := `SHOW TAG VALUES FROM "snmp_device" WITH KEY = "device" WHERE "trust" =~ /^$trust$/ AND "site" =~ /^$school$/`
	return dash{
		file: "probity-switching-wifi.json", uid: "probity-switching-wifi", title: "Probity: switching and Wi-Fi",
		desc: "Switches, PoE and Wi-Fi of the selected schools as the agent polls them over SNMP.",
		vars: []cog.Builder[dashboard.VariableModel]{queryVar("device", "Device", q)},
		panels: []panel{
			{
				kind: kindTimeline, title: "Device reachability",
				desc:   "Whether each polled device answered SNMP (green Up, red Down) over time. The measured switching and wireless requirements rest on these polls.",
				reqs:   "SW-1, SW-3, SW-5, WL-2",
				source: "snmp_device: last(reachable) by site, device",
				w:      12, h: 8, unit: "bool", base: red, steps: []step{{1, green}}, mappings: upDown,
				targets: []target{{query: series(`last("reachable")`, "snmp_device", device, `"site", "device"`, "none"), alias: "$tag_site $tag_device"}},
			},
			{
				kind: kindTimeseries, title: "SNMP poll time",
				desc:   "Time each device's poll took. Green under 1 s, amber under 5 s, red beyond (a slow or overloaded management plane).",
				source: "snmp_device: max(poll_ms) by site, device",
				w:      12, h: 8, unit: "ms", min: f(0), base: green, steps: []step{{1000, amber}, {5000, red}},
				targets: []target{{query: series(`max("poll_ms")`, "snmp_device", device, `"site", "device"`, "none"), alias: "$tag_site $tag_device"}},
			},
			{
				kind: kindTable, title: "Devices",
				desc:   "Each polled device with its model, software, SNMP version, end-of-support status (past red, near amber, supported green) and uptime (red under 10 minutes: a recent reboot).",
				reqs:   "SW-13, SW-16, SW-17",
				source: "snmp_device: last(firmware), last(eos_status), last(snmp_version), last(uptime_s) by site, device, role, vendor, model",
				w:      24, h: 8, unit: "s", base: red, steps: []step{{600, green}},
				mappings: []mapping{{"past", "past", red}, {"near", "near", amber}, {"supported", "supported", green}, {"unknown", "unknown", grey}},
				targets: []target{{query: latest(`last("firmware") AS "firmware", last("snmp_version") AS "snmp", last("eos_status") AS "support", last("uptime_s") AS "uptime"`,
					"snmp_device", device, `"site", "device", "role", "vendor", "model"`), format: formatTable}},
				sortBy: "device", colourCells: true, colourCols: []string{"support"},
			},
			{
				kind: kindTimeseries, title: "Port errors",
				desc:   "Inbound and outbound errors per second on each port (worst in each interval). Any sustained errors mean a cabling, optic or duplex fault: green under 0.1/s, amber under 1/s, red beyond.",
				reqs:   "SW-1",
				source: "snmp_if: max(in_errors_ps), max(out_errors_ps) by site, device, ifname",
				w:      12, h: 8, unit: "pps", min: f(0), base: green, steps: []step{{0.1, amber}, {1, red}},
				targets: []target{{query: series(`max("in_errors_ps") AS "in", max("out_errors_ps") AS "out"`, "snmp_if", device, `"site", "device", "ifname"`, "none"),
					alias: "$tag_device $tag_ifname $col"}},
			},
			{
				kind: kindTimeseries, title: "Port discards",
				desc:   "Inbound and outbound discards per second on each port (worst in each interval): frames dropped for lack of buffer, usually congestion. Green under 1/s, amber under 10/s, red beyond.",
				source: "snmp_if: max(in_discards_ps), max(out_discards_ps) by site, device, ifname",
				w:      12, h: 8, unit: "pps", min: f(0), base: green, steps: []step{{1, amber}, {10, red}},
				targets: []target{{query: series(`max("in_discards_ps") AS "in", max("out_discards_ps") AS "out"`, "snmp_if", device, `"site", "device", "ifname"`, "none"),
					alias: "$tag_device $tag_ifname $col"}},
			},
			{
				kind: kindTimeseries, title: "Uplink utilisation",
				desc:   "Inbound and outbound rate of each uplink port as a share of its speed (worst in each interval). Green under 70%, amber under 90%, red beyond: a full uplink holds back what users get.",
				reqs:   "BB-4, SW-5",
				source: "snmp_if: max(util_in_pct), max(util_out_pct) where role='uplink' by site, device, ifname",
				w:      12, h: 8, unit: "percent", min: f(0), max: f(100), base: green, steps: []step{{70, amber}, {90, red}},
				targets: []target{{query: series(`max("util_in_pct") AS "in", max("util_out_pct") AS "out"`, "snmp_if", device+` AND "role" = 'uplink'`, `"site", "device", "ifname"`, "none"),
					alias: "$tag_device $tag_ifname $col"}},
			},
			{
				kind: kindTimeseries, title: "PoE power against budget",
				desc:   "Power delivered by each PoE group (solid) against its budget (dashed red). The share used is on the next panel; SW-3 holds it to 90%.",
				reqs:   "SW-3",
				source: "snmp_poe: mean(power_w), mean(budget_w) by site, device, group",
				w:      12, h: 8, unit: "watt", min: f(0), base: green,
				targets: []target{{query: series(`mean("power_w") AS "power", mean("budget_w") AS "budget"`, "snmp_poe", device, `"site", "device", "group"`, "none"),
					alias: "$tag_device group $tag_group $col"}},
				dashed: "/budget/",
			},
			{
				kind: kindBarGauge, title: "PoE budget used",
				desc:   "Latest share of each PoE group's power budget in use. Green under 80%, amber under 90%, red from 90% (SW-3's limit, leaving room for more devices).",
				reqs:   "SW-3",
				source: "snmp_poe: last(budget_used_pct) by site, device, group",
				w:      12, h: 8, unit: "percent", min: f(0), max: f(100), base: green, steps: []step{{80, amber}, {90, red}},
				targets: []target{{query: latest(`last("budget_used_pct")`, "snmp_poe", device, `"site", "device", "group"`), alias: "$tag_device group $tag_group"}},
			},
			{
				kind: kindTimeline, title: "Access points up",
				desc:   "Whether each access point is joined to its controller (green Up, red Down) over time, per controller. WL-5 and WL-7 want every AP up 99% of the time.",
				reqs:   "WL-5, WL-7",
				source: "wifi_ap: last(up) by site, controller, ap",
				w:      12, h: 8, unit: "bool", base: red, steps: []step{{1, green}}, mappings: upDown,
				targets: []target{{query: series(`last("up")`, "wifi_ap", "", `"site", "controller", "ap"`, "none"), alias: "$tag_controller / $tag_ap"}},
			},
			{
				kind: kindTimeseries, title: "Wi-Fi clients per AP",
				desc:   "Associated clients on each access point (most in each interval). Green under 30, amber under 50, red from 50: a crowded AP gives each client little airtime.",
				reqs:   "WL-3",
				source: "wifi_ap: max(clients) by site, ap",
				w:      12, h: 8, unit: "none", min: f(0), base: green, steps: []step{{30, amber}, {50, red}},
				targets: []target{{query: series(`max("clients")`, "wifi_ap", "", `"site", "ap"`, "none"), alias: "$tag_ap"}},
			},
			{
				kind: kindTimeseries, title: "Channel utilisation per AP",
				desc:   "Channel utilisation of each access point radio (highest in each interval). Green under 50%, amber under 80%, red beyond: a busy channel means interference or too many clients.",
				reqs:   "WL-6",
				source: "wifi_ap: max(util_pct) by site, ap, radio",
				w:      12, h: 8, unit: "percent", min: f(0), max: f(100), base: green, steps: []step{{50, amber}, {80, red}},
				targets: []target{{query: series(`max("util_pct")`, "wifi_ap", "", `"site", "ap", "radio"`, "none"), alias: "$tag_ap $tag_radio"}},
			},
		},
	}
}

func filtering() dash {
	return dash{
		file: "probity-filtering.json", uid: "probity-filtering", title: "Probity: filtering",
		desc: "Web filtering checks of the selected schools: category results, SafeSearch, over-blocking, and the filtering requirement verdicts.",
		panels: []panel{
			verdictTable("Filtering requirement verdicts", `"standard" = 'filtering'`,
				"The filtering and monitoring requirement verdicts of the selected schools at the last scoring run, Not met first, with the collector's reason.",
				"FM-1 to FM-19", 24, 9),
			{
				kind: kindTimeline, title: "Category checks over time",
				desc:   "The result of every filter check target over time, per category and profile (student, staff, guest): green Pass (blocked what must be blocked, allowed what must be allowed), red Fail.",
				reqs:   "BB-8, FM-6, FM-7, FM-8, FM-9, FM-10, FM-13",
				source: "filter: last(pass) by site, kind, category, profile, target",
				w:      24, h: 12, unit: "bool", base: red, steps: []step{{1, green}}, mappings: passed,
				targets: []target{{query: series(`last("pass")`, "filter", "", `"site", "kind", "category", "profile", "target"`, "none"),
					alias: "$tag_category / $tag_profile / $tag_target"}},
			},
			{
				kind: kindTable, title: "Checks by category and profile",
				desc:   "Every filter check target in the time range with its last outcome, how it was blocked, whether that was the expected outcome (red Fail first) and how many checks ran.",
				reqs:   "BB-8, FM-6, FM-7, FM-13, FM-14",
				source: "filter: last(pass), last(outcome), last(mechanism), count(pass) by site, kind, category, profile, target",
				w:      24, h: 10, unit: "none", base: red, steps: []step{{1, green}}, mappings: passed,
				targets: []target{{query: latest(`last("pass") AS "pass", last("outcome") AS "outcome", last("mechanism") AS "mechanism", count("pass") AS "checks"`,
					"filter", "", `"site", "kind", "category", "profile", "target"`), format: formatTable}},
				sortBy: "pass", colourCells: true,
			},
			{
				kind: kindTimeline, title: "SafeSearch enforced",
				desc:   "Whether each search engine host's safe mode is enforced (or the engine blocked) for each profile over time: green Pass, red Fail.",
				reqs:   "FM-15",
				source: "safesearch: last(enforced) by site, engine, host, profile",
				w:      12, h: 9, unit: "bool", base: red, steps: []step{{1, green}}, mappings: passed,
				targets: []target{{query: series(`last("enforced")`, "safesearch", "", `"site", "engine", "host", "profile"`, "none"),
					alias: "$tag_engine $tag_host / $tag_profile"}},
			},
			{
				kind: kindTable, title: "Over-blocked sites (must allow)",
				desc:   "Sites that must stay reachable (education, health, safeguarding help) with their last outcome per profile: Fail (red) means the filter blocked them. Mechanism is how the last block seen was made.",
				reqs:   "FM-16",
				source: "filter: last(outcome), last(mechanism), last(pass) where kind='must_allow' by site, target, profile",
				w:      12, h: 9, unit: "none", base: red, steps: []step{{1, green}}, mappings: passed,
				targets: []target{{query: latest(`last("outcome") AS "last outcome", last("mechanism") AS "last mechanism", last("pass") AS "last pass"`,
					"filter", `"kind" = 'must_allow'`, `"site", "target", "profile"`), format: formatTable}},
				sortBy: "last pass", colourCells: true,
			},
		},
	}
}

func agentHealth() dash {
	return dash{
		file: "probity-agent-health.json", uid: "probity-agent-health", title: "Probity: agent health",
		desc: "The agents themselves: spool queue, dropped points, failed probes and deliveries, versions and their hosts.",
		panels: []panel{
			{
				kind: kindTable, title: "Agent versions and last seen",
				desc:   "Each enrolled agent with its version, seconds since it last delivered (green under 15 minutes, amber under an hour, red beyond) and whether it was seen in the last 24 hours.",
				source: "agent_status: last(version), last(last_seen_age_s), last(seen_24h) by school, agent, hostname",
				w:      24, h: 8, unit: "s", base: green, steps: []step{{900, amber}, {3600, red}},
				mappings: []mapping{{"true", "yes", green}, {"false", "no", red}},
				targets: []target{{query: latest(`last("version") AS "version", last("last_seen_age_s") AS "last seen", last("seen_24h") AS "seen 24h"`,
					"agent_status", "", `"school", "agent", "hostname"`), format: formatTable}},
				sortBy: "last seen", sortDesc: true, colourCells: true,
			},
			{
				kind: kindTimeseries, title: "Spool queue (batches)",
				desc:   "Batches waiting in each agent's spool for delivery. A few are normal; a growing queue means the collector is unreachable: green under 10, amber under 100, red beyond.",
				source: "agent: max(queued_batches) by site, agent",
				w:      12, h: 8, unit: "none", min: f(0), base: green, steps: []step{{10, amber}, {100, red}},
				targets: []target{{query: series(`max("queued_batches")`, "agent", "", `"site", "agent"`, "none"), alias: "$tag_site $tag_agent"}},
			},
			{
				kind: kindTimeseries, title: "Spool queue (bytes)",
				desc:   "Bytes waiting in each agent's spool. Green under 10 MB, amber under 100 MB, red beyond (the spool drops the oldest points when full).",
				source: "agent: max(queued_bytes) by site, agent",
				w:      12, h: 8, unit: "bytes", min: f(0), base: green, steps: []step{{10e6, amber}, {100e6, red}},
				targets: []target{{query: series(`max("queued_bytes")`, "agent", "", `"site", "agent"`, "none"), alias: "$tag_site $tag_agent"}},
			},
			{
				kind: kindTimeseries, title: "Dropped points",
				desc:   "Points each agent dropped since its spool was created (cumulative): the spool was full or too old, or the collector refused a batch. Any is red: those measurements are lost.",
				source: "agent: max(dropped_points) by site, agent",
				w:      12, h: 8, unit: "none", min: f(0), base: green, steps: []step{{1, red}},
				targets: []target{{query: series(`max("dropped_points")`, "agent", "", `"site", "agent"`, "none"), alias: "$tag_site $tag_agent"}},
			},
			{
				kind: kindTimeseries, title: "Probe and delivery failures",
				desc:   "Probe runs that could not measure at all, and failed deliveries to the collector, since each agent started (cumulative). Green none, amber from 1, red from 10.",
				source: "agent: max(probe_failures), max(ship_failures) by site, agent",
				w:      12, h: 8, unit: "none", min: f(0), base: green, steps: []step{{1, amber}, {10, red}},
				targets: []target{{query: series(`max("probe_failures") AS "probe failures", max("ship_failures") AS "delivery failures"`, "agent", "", `"site", "agent"`, "none"),
					alias: "$tag_site $tag_agent $col"}},
			},
			{
				kind: kindTimeseries, title: "Host CPU",
				desc:   "CPU use of each agent's host. Green under 70%, amber under 90%, red beyond: a busy host can limit the throughput tests.",
				source: "host: mean(cpu_pct) by site, host",
				w:      8, h: 8, unit: "percent", min: f(0), max: f(100), base: green, steps: []step{{70, amber}, {90, red}},
				targets: []target{{query: series(`mean("cpu_pct")`, "host", "", `"site", "host"`, "null"), alias: "$tag_site $tag_host"}},
			},
			{
				kind: kindTimeseries, title: "Host memory",
				desc:   "Memory use of each agent's host. Green under 80%, amber under 95%, red beyond.",
				source: "host: mean(mem_pct) by site, host",
				w:      8, h: 8, unit: "percent", min: f(0), max: f(100), base: green, steps: []step{{80, amber}, {95, red}},
				targets: []target{{query: series(`mean("mem_pct")`, "host", "", `"site", "host"`, "null"), alias: "$tag_site $tag_host"}},
			},
			{
				kind: kindTimeseries, title: "Host disk",
				desc:   "Disk use of the path the agent's spool lives on. Green under 80%, amber under 90%, red beyond: a full disk stops the spool.",
				source: "host: max(disk_pct) by site, host, path",
				w:      8, h: 8, unit: "percent", min: f(0), max: f(100), base: green, steps: []step{{80, amber}, {90, red}},
				targets: []target{{query: series(`max("disk_pct")`, "host", "", `"site", "host", "path"`, "null"), alias: "$tag_site $tag_host $tag_path"}},
			},
		},
	}
}
