package standards

import (
	"slices"
	"strconv"
	"testing"
)

func TestMeasurementsLoad(t *testing.T) {
	tab, err := parseTable(measurementsYAML)
	if err != nil {
		t.Fatal(err)
	}
	// The table in ARCHITECTURE.md section 3 plus the fields the probes emit.
	want := map[string][]string{
		"reachability": {"attempts", "failures", "loss_pct", "rtt_avg_ms", "rtt_max_ms", "outages", "longest_outage_s",
			"outage_ongoing", "ongoing_outage_s", "ok", "result", "whoami_ok", "whoami_error"},
		"wan_path": {"address", "previous", "changed", "gap_s"},
		"ping":     {"ok", "result", "icmp_mode", "sent", "received", "loss_pct", "rtt_min_ms", "rtt_avg_ms", "rtt_max_ms", "rtt_p95_ms", "jitter_ms"},
		"dns":      {"ok", "result", "rcode", "answers", "answer", "cname", "duration_ms"},
		"http":     {"ok", "result", "status", "bytes", "error", "dns_ms", "connect_ms", "tls_ms", "ttfb_ms", "total_ms", "cert_days_left"},
		"throughput": {"mbps", "mbps_p90", "mbps_mean", "ramp_s", "stable", "samples", "bytes", "server_bytes", "bytes_today",
			"duration_s", "idle_rtt_ms", "loaded_rtt_ms", "loaded_rtt_p90_ms", "loaded_rtt_failures", "bufferbloat_ms", "tcp_rtt_ms",
			"retrans", "retrans_pct", "rwnd_limited_pct", "sndbuf_limited_pct", "limit_reason", "nic_mbps", "cpu_pct", "wan_mbps",
			"cross_mbps", "ok", "result", "error"},
		"snmp_device": {"reachable", "poll_ms", "uptime_s", "uplinks_10g_up", "wan_links_up", "access_ports_below_1g", "ap_ports_below_2500m", "ap_ports_below_1g", "psus_ok", "firmware", "cpu_pct", "mem_pct", "temp_c", "reason", "malformed",
			"snmp_version", "eos_status", "eos_date", "sys_descr", "sys_object_id", "sys_name", "sys_location", "mem_used_units", "mem_size_units"},
		"snmp_if": {"oper_up", "speed_mbps", "in_bps", "out_bps", "util_in_pct", "util_out_pct", "in_errors_ps", "out_errors_ps", "in_discards_ps",
			"out_discards_ps", "admin_up", "alias", "if_type", "duplex"},
		"snmp_poe":      {"power_w", "budget_w", "budget_used_pct", "ports_delivering", "ports_fault", "oper_status"},
		"snmp_poe_port": {"status", "power_w", "allocated_w", "ent_index"},
		"wifi_ap":       {"up", "clients", "channel", "util_pct", "noise_dbm", "radio_up", "model", "serial", "ap_group", "ssid"},
		"snmp_entity":   {"descr", "firmware", "software", "serial", "model", "oper_state"},
		"snmp_psu":      {"descr", "state", "ok"},
		"snmp_ups":      {"manufacturer", "model", "battery_status", "seconds_on_battery", "runtime_min", "charge_pct", "output_source", "on_battery"},
		"snmp_lldp":     {"rem_sys_name", "rem_port_id", "rem_caps"},
		"snmp_stp":      {"protocol", "version", "topology_changes_ps"},
		"snmp_vrrp":     {"state", "priority"},
		"filter":        {"ok", "pass", "outcome", "mechanism", "detail", "url", "error", "duration_ms"},
		"safesearch":    {"ok", "enforced", "method", "level", "detail", "error", "duration_ms"},
		"host":          {"cpu_pct", "mem_pct", "disk_pct", "load1", "load5", "load15", "procs", "uptime_s", "temp_c", "nic_mbps"},
		"cyber": {"ok", "finding", "severity", "detail", "fix", "address", "port", "role", "reachable", "result", "protocol", "http", "http_status",
			"location", "chain_ok", "chain_error", "days_left", "not_after", "subject", "issuer", "max_version", "cipher", "tls10", "tls11",
			"records", "record", "all", "redirect", "p", "sp", "rua", "present", "answered", "v3", "engine_id", "vendor", "family", "minimum",
			"source", "version", "version_from", "model", "reason", "url", "kind", "outcome", "mechanism", "proxy", "error", "duration_ms"},
		"agent": {"queued_batches", "queued_bytes", "dropped_points", "ship_failures", "probe_failures", "shipped_batches"},
	}
	wantTags := map[string][]string{
		"reachability": {"target"}, "wan_path": {"event"},
		"ping": {"target", "role"}, "dns": {"resolver", "qname", "qtype"}, "http": {"target", "role"},
		"throughput": {"server", "direction", "method", "streams", "mode", "probe_limited"}, "snmp_device": {"device", "role", "vendor", "model", "profile"},
		"snmp_if": {"device", "ifname", "role"}, "snmp_poe": {"device", "group"}, "wifi_ap": {"controller", "ap", "radio", "device", "ap_mac"},
		"snmp_poe_port": {"device", "group", "port", "ifname"}, "snmp_entity": {"device", "ent_index", "entity", "class"},
		"snmp_psu": {"device", "psu"}, "snmp_ups": {"device"}, "snmp_lldp": {"device", "local_port_num", "rem_index", "local_port"},
		"snmp_stp": {"device"}, "snmp_vrrp": {"device", "ifindex", "vrid"},
		"filter": {"suite", "category", "kind", "expect", "target", "profile"}, "safesearch": {"suite", "engine", "target", "host", "profile"}, "host": {"host", "path"},
		"cyber": {"check", "target", "vlan"},
		"agent": {"version"},
	}
	if len(tab.Measurements) != len(want) {
		t.Errorf("%d measurements, want %d", len(tab.Measurements), len(want))
	}
	for name, fields := range want {
		m, ok := tab.Lookup(name)
		if !ok {
			t.Errorf("measurement %s missing", name)
			continue
		}
		var got []string
		for _, f := range m.Fields {
			got = append(got, f.Name)
		}
		if !slices.Equal(got, fields) {
			t.Errorf("%s fields = %v, want %v", name, got, fields)
		}
		var tags []string
		for _, tg := range m.Tags {
			tags = append(tags, tg.Name)
		}
		if !slices.Equal(tags, wantTags[name]) {
			t.Errorf("%s tags = %v, want %v", name, tags, wantTags[name])
		}
		for _, common := range []string{"site", "agent"} {
			if _, ok := tab.Tag(m, common); !ok {
				t.Errorf("%s: common tag %s not found", name, common)
			}
		}
	}
	// Spot checks of types the scoring rules depend on.
	for _, c := range []struct{ m, f, typ, unit string }{
		{"dns", "rcode", TypeString, ""}, {"dns", "answers", TypeInt, "count"}, {"dns", "answer", TypeString, ""},
		{"http", "ok", TypeBool, ""}, {"http", "bytes", TypeInt, "bytes"}, {"throughput", "mbps", TypeFloat, "Mbit/s"},
		{"ping", "icmp_mode", TypeString, ""}, {"host", "procs", TypeInt, "count"}, {"ping", "loss_pct", TypeFloat, "%"},
	} {
		m, _ := tab.Lookup(c.m)
		f, ok := m.Field(c.f)
		if !ok || f.Type != c.typ || f.Unit != c.unit {
			t.Errorf("%s.%s = %+v, want type %s unit %q", c.m, c.f, f, c.typ, c.unit)
		}
	}
}

func TestMeasurementsIsACopy(t *testing.T) {
	a := Measurements()
	a.Measurements[0].Fields[0].Name = "changed"
	if Measurements().Measurements[0].Fields[0].Name == "changed" {
		t.Error("Measurements returned the package's own table")
	}
}

func TestParseTableRejects(t *testing.T) {
	for name, doc := range map[string]string{
		"unknown key":  "measurements:\n  - {name: a, doc: d, noun: n, fieldz: []}\n",
		"bad type":     "measurements:\n  - {name: a, doc: d, noun: n, fields: [{name: x, type: number, doc: d}]}\n",
		"bad unit":     "measurements:\n  - {name: a, doc: d, noun: n, fields: [{name: x, type: float, unit: furlongs, doc: d}]}\n",
		"unit on bool": "measurements:\n  - {name: a, doc: d, noun: n, fields: [{name: x, type: bool, unit: ms, doc: d}]}\n",
		"ok not bool":  "measurements:\n  - {name: a, doc: d, noun: n, fields: [{name: ok, type: string, doc: d}]}\n",
		"twice":        "measurements:\n  - {name: a, doc: d, noun: n, fields: [{name: x, type: bool, doc: d}]}\n  - {name: a, doc: d, noun: n, fields: [{name: x, type: bool, doc: d}]}\n",
		"no noun":      "measurements:\n  - {name: a, doc: d, fields: [{name: x, type: bool, doc: d}]}\n",
		"repeated tag": "common_tags: [{name: site, doc: d}]\nmeasurements:\n  - {name: a, doc: d, noun: n, tags: [{name: site, doc: d}], fields: [{name: x, type: bool, doc: d}]}\n",
		"repeat field": "measurements:\n  - {name: a, doc: d, noun: n, fields: [{name: x, type: bool, doc: d}, {name: x, type: bool, doc: d}]}\n",
		"undocumented": "measurements:\n  - {name: a, doc: d, noun: n, fields: [{name: x, type: bool}]}\n",
	} {
		if _, err := parseTable([]byte(doc)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestDefault(t *testing.T) {
	c, err := Load(catalogueYAML, "catalogue.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if Default().Version != c.Version || c.Version == "" || c.Checked == "" {
		t.Errorf("version %q checked %q", c.Version, c.Checked)
	}
	// Rows the brief names must be there, with the evidence kind the
	// standards document gives them.
	for id, ev := range map[string]string{
		"FM-1": EvidenceAttested, "FM-2": EvidenceAttested, "FM-3": EvidenceAttested, "FM-4": EvidenceAttested,
		"FM-5": EvidenceAttested, "FM-13": EvidenceMeasured, "FM-15": EvidencePartly, "CL-4": EvidencePartly,
		"DL-1": EvidenceAttested, "DL-2": EvidencePartly, "DL-3": EvidenceAttested, "DL-4": EvidenceAttested,
		"IT-7": EvidenceAttested, "BB-2": EvidenceMeasured,
	} {
		r, ok := c.Requirement(id)
		if !ok {
			t.Errorf("%s missing", id)
			continue
		}
		if r.Evidence != ev {
			t.Errorf("%s evidence %s, want %s", id, r.Evidence, ev)
		}
	}
	// Termly attestations as dfe-standards.md section 16 lists them.
	for _, r := range c.Requirements {
		termly := slices.Contains([]string{"CY-22", "CY-24", "CY-28"}, r.ID)
		if termly != (r.AttestationLife == LifeTermly) {
			t.Errorf("%s attestation_life %q", r.ID, r.AttestationLife)
		}
	}
	// The filtering rules group by profile and target: every user group's
	// every test counts, and the failing ones are named.
	for _, id := range []string{"FM-6", "FM-13", "FM-15", "FM-16"} {
		r, _ := c.Requirement(id)
		cond := r.Rule.Conditions[0]
		if cond.GroupBy != "profile,target" || !cond.OnlyOK || cond.Stat != StatShare || cond.Compare.Value != 100 {
			t.Errorf("%s: %+v", id, cond)
		}
	}
	// FM-7 needs both list tests; neither is published, so both wait for
	// the school's URLs rather than passing on whichever one is set.
	fm7, _ := c.Requirement("FM-7")
	if len(fm7.Rule.Conditions) != 2 || fm7.Rule.Conditions[0].Where["category"] != "child-abuse" || fm7.Rule.Conditions[1].Where["category"] != "terrorism" {
		t.Errorf("FM-7: %+v", fm7.Rule)
	}
	cl4, _ := c.Requirement("CL-4")
	if cond := cl4.Rule.Conditions[0]; cond.OnlyOK || cond.GroupBy != "target" || cond.Window.Hours() != 720 || cond.Compare.Value != 99 {
		t.Errorf("CL-4: %+v", cond)
	}
	bb2, _ := c.Requirement("BB-2")
	if !slices.Equal(bb2.Phases, []string{"primary"}) || bb2.Rule.Conditions[0].Unit != "Mbit/s" {
		t.Errorf("BB-2: %+v", bb2)
	}
}

// The six core standards come first, then the rest; within a standard the
// ids ascend, so list and report read in the DfE's order.
func TestDefaultOrder(t *testing.T) {
	reqs := Default().Requirements
	order := []string{"broadband", "wireless", "switching", "cyber", "filtering", "leadership",
		"it-support", "cabling", "servers", "cloud", "devices", "accessibility"}
	for i := 1; i < len(reqs); i++ {
		a, b := reqs[i-1], reqs[i]
		ia, ib := slices.Index(order, a.Standard), slices.Index(order, b.Standard)
		switch {
		case ia > ib:
			t.Errorf("%s (%s) comes before %s (%s)", a.ID, a.Standard, b.ID, b.Standard)
		case ia == ib && idNumber(a.ID) >= idNumber(b.ID):
			t.Errorf("%s comes before %s", a.ID, b.ID)
		}
		if !a.Core && b.Core {
			t.Errorf("core %s after non-core %s", b.ID, a.ID)
		}
	}
}

func idNumber(id string) int {
	n, _ := strconv.Atoi(idPattern.FindStringSubmatch(id)[2])
	return n
}

// Every row whose rule reads a measurement no landed probe produces says
// which planned probe will feed it, so a report can say why it has no data;
// measured rows without a rule always do (the loader insists).
func TestDefaultAwaitingProbes(t *testing.T) {
	planned := map[string]string{}
	for _, pp := range PlannedProbes {
		if pp.Doc == "" {
			t.Errorf("planned probe %s has no doc", pp.Name)
		}
		for _, m := range pp.Measurements {
			if _, ok := Measurements().Lookup(m); !ok {
				t.Errorf("planned probe %s: measurement %s is not in measurements.yaml", pp.Name, m)
			}
			planned[m] = pp.Name
		}
	}
	for _, r := range Default().Requirements {
		if r.Evidence == EvidenceMeasured && r.Rule == nil && r.AwaitingProbe == "" {
			t.Errorf("%s: measured, no rule, no awaited probe", r.ID)
		}
		if r.Rule == nil {
			continue
		}
		for _, c := range r.Rule.Conditions {
			if p, ok := planned[c.Measurement]; ok && r.AwaitingProbe != p {
				t.Errorf("%s: %q reads %s, which the %s probe will produce; awaiting_probe is %q", r.ID, c.Name, c.Measurement, p, r.AwaitingProbe)
			}
		}
	}
	if bb2, _ := Default().Requirement("BB-2"); bb2.AwaitingProbe != "" || bb2.Rule == nil || bb2.Checked != Default().Checked {
		t.Errorf("BB-2 awaiting %q, rule %v, checked %q: the throughput probe feeds it", bb2.AwaitingProbe, bb2.Rule != nil, bb2.Checked)
	}
}
