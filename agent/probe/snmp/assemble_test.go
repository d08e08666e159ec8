package snmp

import (
	"math"
	"testing"
	"time"

	"github.com/probity-edu/probity/agent/snmp"
	"github.com/probity-edu/probity/agent/snmp/profile"
)

// testProfile exercises every table feature on made-up values.
const testProfile = `
name: test
description: made-up reads for the assembly tests
reads:
  - name: ifs
    measurement: snmp_if
    table:
      oid: 1.3.6.1.2.1.2.2.1
      name: ifEntry
      augments:
        - {oid: 1.3.6.1.2.1.31.1.1.1, name: ifXEntry}
      index:
        - {name: ifindex}
      columns:
        - {oid: 1.3.6.1.2.1.31.1.1.1.1, name: ifName, tag: ifname, label: true, fallback: {oid: 1.3.6.1.2.1.2.2.1.2, name: ifDescr}}
        - {oid: 1.3.6.1.2.1.2.2.1.8, name: ifOperStatus, field: oper_up, type: bool, true: [1]}
        - {oid: 1.3.6.1.2.1.31.1.1.1.15, name: ifHighSpeed, field: speed_mbps, type: gauge, fallback: {oid: 1.3.6.1.2.1.2.2.1.5, name: ifSpeed, scale: 0.000001}}
        - {oid: 1.3.6.1.2.1.31.1.1.1.6, name: ifHCInOctets, field: in_bps, type: counter, scale: 8, fallback: {oid: 1.3.6.1.2.1.2.2.1.10, name: ifInOctets, scale: 8}}
        - {oid: 1.3.6.1.2.1.2.2.1.3, name: ifType, field: if_type, type: enum, enum: {6: ethernet}}
      filter:
        - {oid: 1.3.6.1.2.1.2.2.1.3, name: ifType, not_in: ["24"]}
      derive:
        - {field: util_in_pct, ratio: [in_bps, speed_mbps], scale: 0.0001}
  - name: radios
    measurement: wifi_ap
    table:
      oid: 1.3.6.1.4.1.14179.2.2.2.1
      name: bsnAPIfEntry
      index:
        - {name: ap_mac, type: mac, tag: ap_mac}
        - {name: slot, tag: radio}
      columns:
        - {oid: 1.3.6.1.4.1.14179.2.2.2.1.15, name: bsnApIfNoOfUsers, field: clients, type: gauge}
        - {oid: 1.3.6.1.4.1.14179.2.2.2.1.2, name: bsnAPIfType, field: ent_ref, type: gauge}
      lookups:
        - {oid: 1.3.6.1.4.1.14179.2.2.1.1.3, name: bsnAPName, key: ap_mac, tag: ap, label: true}
        - {oid: 1.3.6.1.2.1.47.1.1.1.1.7, name: entPhysicalName, key: bsnAPIfType, field: serial, type: string}
  - name: ports
    measurement: snmp_poe
    table:
      oid: 1.3.6.1.2.1.105.1.1.1
      name: pethPsePortEntry
      index:
        - {name: group, tag: group}
        - {name: port}
      columns:
        - {oid: 1.3.6.1.2.1.105.1.1.1.6, name: pethPsePortDetectionStatus, field: ports_delivering, type: bool, true: [3], aggregate: sum}
        - {oid: 1.3.6.1.2.1.105.1.1.1.7, name: pethPsePortPowerPriority, field: power_w, type: gauge, aggregate: max}
  - name: cpu
    measurement: snmp_device
    table:
      oid: 1.3.6.1.2.1.25.3.3.1
      name: hrProcessorEntry
      index:
        - {name: hr_device_index}
      columns:
        - {oid: 1.3.6.1.2.1.25.3.3.1.2, name: hrProcessorLoad, field: cpu_pct, type: gauge, aggregate: avg}
  - name: misc
    measurement: snmp_lldp
    scalars:
      - {oid: 1.3.6.1.2.1.1.2.0, name: sysObjectID, field: rem_port_id, type: oid}
      - {oid: 1.3.6.1.2.1.1.3.0, name: sysUpTime, field: uptime, type: timeticks}
      - {oid: 1.3.6.1.2.1.1.7.0, name: sysServices, field: rem_caps, type: bits, enum: {0: zero, 6: six, 9: nine}}
      - {oid: 1.3.6.1.2.1.1.8.0, name: sysORLastChange, field: rem_sys_name, type: mac}
`

func testReads(t *testing.T) map[string]profile.Read {
	t.Helper()
	p, err := profile.Parse([]byte(testProfile), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]profile.Read{}
	for _, r := range p.Reads {
		out[r.Name] = r
	}
	return out
}

func i(n int64) snmp.Value    { return snmp.Value{Kind: snmp.KindInteger, Int: n} }
func g(n uint64) snmp.Value   { return snmp.Value{Kind: snmp.KindGauge32, Uint: n} }
func c32(n uint64) snmp.Value { return snmp.Value{Kind: snmp.KindCounter32, Uint: n} }
func c64(n uint64) snmp.Value { return snmp.Value{Kind: snmp.KindCounter64, Uint: n} }
func s(x string) snmp.Value   { return snmp.Value{Kind: snmp.KindOctetString, Bytes: []byte(x)} }

// rateFrom uses the real snmp.Rates with a clock the test moves.
func rateFrom(r *snmp.Rates, at time.Time) rateFunc {
	return func(instance string, v snmp.Value) (float64, bool) {
		n, bits, _ := v.Counter()
		return r.Rate("dev", instance, n, bits, at)
	}
}

func TestTableRowsInterfaces(t *testing.T) {
	r := testReads(t)["ifs"]
	cycle := func(in1, in2 uint64) walked {
		return walked{
			".1.3.6.1.2.1.31.1.1.1.1":  {"1": s("Gi1/0/1")}, // ifName only for 1
			".1.3.6.1.2.1.2.2.1.2":     {"1": s("GigabitEthernet1/0/1"), "2": s("Vlan1"), "3": s("lo")},
			".1.3.6.1.2.1.2.2.1.8":     {"1": i(1), "2": i(2), "3": i(1)},
			".1.3.6.1.2.1.31.1.1.1.15": {"1": g(1000)},
			".1.3.6.1.2.1.2.2.1.5":     {"1": g(1000000000), "2": g(100000000), "3": g(0)},
			".1.3.6.1.2.1.31.1.1.1.6":  {"1": c64(in1)}, // HC counter only for 1
			".1.3.6.1.2.1.2.2.1.10":    {"2": c32(in2), "3": c32(5)},
			".1.3.6.1.2.1.2.2.1.3":     {"1": i(6), "2": i(53), "3": i(24)},
		}
	}
	rates := snmp.NewRates()
	t0 := time.Unix(1000, 0)
	rows, bad := tableRows(r, cycle(1000, 4294967000), rateFrom(rates, t0))
	if bad != 0 || len(rows) != 2 {
		t.Fatalf("first cycle: %d rows, %d malformed, want 2 and 0 (loopback filtered out): %v", len(rows), bad, rows)
	}
	for _, rw := range rows {
		if _, ok := rw.fields["in_bps"]; ok {
			t.Errorf("first cycle has a rate: %v", rw)
		}
		if _, ok := rw.fields["util_in_pct"]; ok {
			t.Errorf("first cycle has a derived utilisation: %v", rw)
		}
	}
	// Ten seconds later: 125 MB more on 1 (100 Mbit/s), and the 32-bit
	// counter of 2 wrapped by 1296 octets (+1 for the wrap itself).
	rows, _ = tableRows(r, cycle(1000+125000000, 1000), rateFrom(rates, t0.Add(10*time.Second)))
	byName := map[string]row{}
	for _, rw := range rows {
		byName[rw.tags["ifname"]] = rw
	}
	gi, vl := byName["Gi1/0/1"], byName["Vlan1"]
	if gi.fields == nil || vl.fields == nil {
		t.Fatalf("rows %v: want Gi1/0/1 (ifName) and Vlan1 (ifDescr fallback)", rows)
	}
	if gi.fields["in_bps"] != 1e8 || gi.fields["speed_mbps"] != 1000.0 || gi.fields["oper_up"] != true || gi.fields["if_type"] != "ethernet" {
		t.Errorf("Gi1/0/1 = %v", gi.fields)
	}
	if u, _ := gi.fields["util_in_pct"].(float64); math.Abs(u-10) > 1e-9 {
		t.Errorf("util_in_pct = %v, want 10 (100 Mbit/s of 1000 Mbit/s, in percent)", u)
	}
	wantVl := float64(4294967296-4294967000+1000) * 8 / 10
	if vl.fields["in_bps"] != wantVl || vl.fields["speed_mbps"] != 100.0 || vl.fields["oper_up"] != false || vl.fields["if_type"] != "53" {
		t.Errorf("Vlan1 = %v, want in_bps %v from the wrapped 32-bit fallback, speed 100 from ifSpeed × 10^-6", vl.fields, wantVl)
	}
}

func TestTableRowsLookupsAndMalformed(t *testing.T) {
	r := testReads(t)["radios"]
	data := walked{
		".1.3.6.1.4.1.14179.2.2.2.1.15": {"0.58.125.0.1.1.0": g(7), "0.58.125.0.1.1.1": g(3), "0.58.125.0.1.2.0": s("x"), "1.2.3": g(1)},
		".1.3.6.1.4.1.14179.2.2.2.1.2":  {"0.58.125.0.1.1.0": i(1001)},
		".1.3.6.1.4.1.14179.2.2.1.1.3":  {"0.58.125.0.1.1": s("ap-01")},
		".1.3.6.1.2.1.47.1.1.1.1.7":     {"1001": s("radio-module")},
	}
	rows, bad := tableRows(r, data, nil)
	// "1.2.3" is too short for a MAC and a slot; the string where a gauge
	// belongs is skipped: two malformed values.
	if bad != 2 {
		t.Errorf("malformed = %d, want 2", bad)
	}
	got := map[string]row{}
	for _, rw := range rows {
		got[rw.tags["ap_mac"]+"/"+rw.tags["radio"]] = rw
	}
	r0 := got["00:3a:7d:00:01:01/0"]
	if r0.tags["ap"] != "ap-01" || r0.fields["clients"] != 7.0 || r0.fields["serial"] != "radio-module" {
		t.Errorf("radio 0 = %v %v: want ap from the lookup by index part and serial from the lookup by column value", r0.tags, r0.fields)
	}
	if r1 := got["00:3a:7d:00:01:01/1"]; r1.tags["ap"] != "ap-01" || r1.fields["serial"] != nil {
		t.Errorf("radio 1 = %v %v", r1.tags, r1.fields)
	}
	if r2, ok := got["00:3a:7d:00:01:02/0"]; !ok || r2.tags["ap"] != "" {
		t.Errorf("radio of an AP without a name = %v (present: %v): want a row without ap tag", r2, ok)
	}
}

func TestTableRowsAggregate(t *testing.T) {
	reads := testReads(t)
	rows, _ := tableRows(reads["ports"], walked{
		".1.3.6.1.2.1.105.1.1.1.6": {"1.1": i(3), "1.2": i(3), "1.3": i(4), "2.1": i(3)},
		".1.3.6.1.2.1.105.1.1.1.7": {"1.1": i(1), "1.2": i(3), "1.3": i(2), "2.1": i(2)},
	}, nil)
	if len(rows) != 2 {
		t.Fatalf("rows %v, want one per group", rows)
	}
	if f := rows[0].fields; rows[0].tags["group"] != "1" || f["ports_delivering"] != int64(2) || f["power_w"] != 3.0 {
		t.Errorf("group 1 = %v %v, want 2 delivering (a summed bool counts) and max 3", rows[0].tags, f)
	}
	rows, _ = tableRows(reads["cpu"], walked{".1.3.6.1.2.1.25.3.3.1.2": {"196608": i(10), "196609": i(20), "196610": i(60)}}, nil)
	if len(rows) != 1 || rows[0].fields["cpu_pct"] != 30.0 || len(rows[0].tags) != 0 {
		t.Errorf("cpu = %v, want one tagless row with the average 30", rows)
	}
}

func TestScalarConversions(t *testing.T) {
	r := testReads(t)["misc"]
	rw, bad := scalarRow(r, map[string]snmp.Value{
		".1.3.6.1.2.1.1.2.0": {Kind: snmp.KindOID, Text: ".1.3.6.1.4.1.9.1.1208"},
		".1.3.6.1.2.1.1.3.0": {Kind: snmp.KindTimeTicks, Uint: 12345},
		".1.3.6.1.2.1.1.7.0": {Kind: snmp.KindOctetString, Bytes: []byte{0x82, 0x40}},
		".1.3.6.1.2.1.1.8.0": {Kind: snmp.KindOctetString, Bytes: []byte{1, 2, 3}}, // not a MAC
	}, nil)
	want := map[string]any{"rem_port_id": "1.3.6.1.4.1.9.1.1208", "uptime": int64(123), "rem_caps": "zero,six,nine"}
	if bad != 1 || len(rw.fields) != len(want) {
		t.Errorf("fields %v, malformed %d; want %v and 1", rw.fields, bad, want)
	}
	for k, v := range want {
		if rw.fields[k] != v {
			t.Errorf("%s = %#v, want %#v", k, rw.fields[k], v)
		}
	}
	if v, st := convert(profile.TypeMAC, nil, nil, 1, "", snmp.Value{Kind: snmp.KindOctetString, Bytes: []byte{0, 0x1b, 0xa, 0xff, 1, 2}}, nil); st != converted || v != "00:1b:0a:ff:01:02" {
		t.Errorf("mac = %v %v", v, st)
	}
	if _, st := convert(profile.TypeCounter, nil, nil, 1, "", g(5), nil); st != malformed {
		t.Errorf("a gauge read as a counter: %v, want malformed", st)
	}
}

func TestTableOIDsSplitsLabels(t *testing.T) {
	reads := testReads(t)
	labels, others := tableOIDs([]profile.Read{reads["ifs"], reads["radios"]})
	want := map[string]bool{".1.3.6.1.2.1.31.1.1.1.1": true, ".1.3.6.1.2.1.2.2.1.2": true, ".1.3.6.1.4.1.14179.2.2.1.1.3": true}
	if len(labels) != len(want) {
		t.Errorf("labels %v, want %v", labels, want)
	}
	for _, l := range labels {
		if !want[l] {
			t.Errorf("label %s unexpected", l)
		}
	}
	for _, o := range others {
		if want[o] {
			t.Errorf("%s read every cycle, want it cached as a label", o)
		}
	}
}
