package profile

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func shipped(t *testing.T) *Set {
	t.Helper()
	s, err := Shipped()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestShippedProfilesLoad(t *testing.T) {
	s := shipped(t)
	want := []string{"aruba-controller", "aruba-switch", "cisco-switch", "cisco-wlc", "generic", "ieee80211", "ruckus", "unifi"}
	if got := s.Names(); !slices.Equal(got, want) {
		t.Fatalf("profiles %v, want %v", got, want)
	}
	for _, n := range s.Names() {
		reads := s.Reads(n)
		if len(reads) == 0 {
			t.Errorf("%s: no reads after resolving extends", n)
		}
		seen := map[string]bool{}
		for _, r := range reads {
			if seen[r.Name] {
				t.Errorf("%s: read %q twice after resolving", n, r.Name)
			}
			seen[r.Name] = true
		}
	}
}

func readNames(reads []Read) []string {
	var out []string
	for _, r := range reads {
		out = append(out, r.Name)
	}
	return out
}

func TestResolveReplacesByName(t *testing.T) {
	s := shipped(t)
	generic, cisco := s.Reads(Generic), s.Reads("cisco-switch")
	// cisco-switch replaces generic's cpu, power_supplies and poe_ports in
	// place and adds temperature at the end.
	want := append(readNames(generic), "temperature")
	if got := readNames(cisco); !slices.Equal(got, want) {
		t.Fatalf("cisco-switch reads %v, want %v", got, want)
	}
	for _, r := range cisco {
		if r.Name == "cpu" && r.Table.OID != "1.3.6.1.4.1.9.9.109.1.1.1.1" {
			t.Errorf("cpu read not replaced: %s", r.Table.OID)
		}
	}
	for _, r := range generic {
		if r.Name == "cpu" && r.Table.OID != "1.3.6.1.2.1.25.3.3.1" {
			t.Errorf("generic cpu changed by resolving cisco-switch: %s", r.Table.OID)
		}
	}
}

func TestMatch(t *testing.T) {
	s := shipped(t)
	cases := []struct{ oid, descr, want string }{
		{"1.3.6.1.4.1.9.1.1208", "Cisco IOS Software, C2960X Software", "cisco-switch"},
		{".1.3.6.1.4.1.9.1.1208", "", "cisco-switch"},               // leading dot
		{"1.3.6.1.4.1.9.1.2427", "Cisco Controller", "cisco-wlc"},   // by sysDescr over the longer-or-equal prefix
		{"1.3.6.1.4.1.9.1.1069", "anything", "cisco-wlc"},           // by product OID
		{"1.3.6.1.4.1.9.10.1", "", Generic},                         // 9.10 is not under 9.1
		{"1.3.6.1.4.1.14823.1.1.39", "ArubaOS", "aruba-controller"}, //
		{"1.3.6.1.4.1.14823.1.2.70", "ArubaOS Instant", Generic},    // Instant AP, not a controller
		{"1.3.6.1.4.1.11.2.3.7.11.160", "Aruba JL261A 2930F", "aruba-switch"},
		{"1.3.6.1.4.1.47196.4.1.1.1.1", "Aruba AOS-CX", Generic},
		{"1.3.6.1.4.1.41112.1.6", "", "unifi"},                             //
		{"1.3.6.1.4.1.8072.3.2.10", "UAP-AC-Pro 6.6.77", "unifi"},          // net-snmp OID, UniFi sysDescr
		{"1.3.6.1.4.1.8072.3.2.10", "Linux core-sw 6.1.0", Generic},        // plain Linux
		{"1.3.6.1.4.1.25053.3.1.5.15", "Ruckus Wireless ZD1200", "ruckus"}, //
		{"1.3.6.1.4.1.25053.3.1.11", "SmartZone 100", Generic},             // SmartZone is not covered
		{"", "", Generic},
	}
	for _, c := range cases {
		if got := s.Match(c.oid, c.descr); got.Name != c.want {
			t.Errorf("Match(%q, %q) = %s, want %s", c.oid, c.descr, got.Name, c.want)
		}
	}
}

func TestBadProfiles(t *testing.T) {
	cases := map[string][]string{
		"unknown-key.yaml":         {`unknown-key.yaml:11: reads[0].scalars[1]: unknown key "typ"`},
		"bad-oid.yaml":             {`bad-oid.yaml:8: reads[0].scalars[1].oid: "SNMPv2-MIB::sysName.0" is not a numeric OID`},
		"unknown-measurement.yaml": {`unknown-measurement.yaml:5: reads[0].measurement: unknown measurement "snmp_devices"`},
		"duplicate-field.yaml":     {`duplicate-field.yaml:14: reads[0].table.columns[2].field: "in_bps" is written twice (also at reads[0].table.columns[1].field)`},
		"not-a-column.yaml": {
			`not-a-column.yaml:13: reads[0].table.columns[1].oid: 1.3.6.1.2.1.31.1.1.1.6 is not a column of 1.3.6.1.2.1.2.2.1`,
			`not-a-column.yaml:14: reads[0].table.columns[2].enum: required for type enum`,
		},
		"bad-type.yaml":     {`bad-type.yaml:8: reads[0].scalars[1].scale: "lots" is not a number`},
		"no-aggregate.yaml": {`no-aggregate.yaml:12: reads[0].table.columns[0].aggregate: required: this table has no tags`},
	}
	files, _ := filepath.Glob("testdata/bad/*.yaml")
	if len(files) != len(cases) {
		t.Errorf("%d files in testdata/bad, %d cases", len(files), len(cases))
	}
	for name, wants := range cases {
		data, err := os.ReadFile(filepath.Join("testdata/bad", name))
		if err != nil {
			t.Fatal(err)
		}
		_, err = Parse(data, name)
		if err == nil {
			t.Errorf("%s: loaded without error", name)
			continue
		}
		for _, w := range wants {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error\n%v\nlacks\n%s", name, err, w)
			}
		}
	}
}

func TestBadTypeAlsoUnknownType(t *testing.T) {
	// A decoding error (scale: lots) stops before validation, so the
	// unknown type is reported once the scale is fixed.
	data := []byte("name: x\ndescription: d\nreads:\n  - name: s\n    measurement: snmp_device\n    scalars:\n      - {oid: 1.3.6.1.2.1.1.3.0, name: sysUpTime, field: up, type: ticks}\n")
	_, err := Parse(data, "x.yaml")
	if err == nil || !strings.Contains(err.Error(), `x.yaml:7: reads[0].scalars[0].type: unknown type "ticks"`) {
		t.Fatalf("got %v", err)
	}
}

func parseAll(t *testing.T, docs map[string]string) []*Profile {
	t.Helper()
	var out []*Profile
	for file, doc := range docs {
		p, err := Parse([]byte(doc), file)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

const minimal = "description: d\nreads:\n  - name: system\n    measurement: snmp_device\n    scalars:\n      - {oid: 1.3.6.1.2.1.1.3.0, name: sysUpTime, field: uptime_s, type: timeticks}\n"

func TestExtendsCycleAndMissing(t *testing.T) {
	_, err := NewSet(parseAll(t, map[string]string{
		"generic.yaml": "name: generic\n" + minimal,
		"a.yaml":       "name: a\nextends: [b]\n" + minimal,
		"b.yaml":       "name: b\nextends: [a]\n" + minimal,
	}))
	if err == nil || !strings.Contains(err.Error(), "extends cycle: a → b → a") {
		t.Errorf("cycle: got %v", err)
	}
	_, err = NewSet(parseAll(t, map[string]string{
		"generic.yaml": "name: generic\n" + minimal,
		"a.yaml":       "name: a\nextends: [nothing]\n" + minimal,
	}))
	if err == nil || !strings.Contains(err.Error(), `a.yaml: extends[0]: no profile named "nothing"`) {
		t.Errorf("missing: got %v", err)
	}
	_, err = NewSet(parseAll(t, map[string]string{"a.yaml": "name: a\n" + minimal}))
	if err == nil || !strings.Contains(err.Error(), "no profile named generic") {
		t.Errorf("no generic: got %v", err)
	}
}

func TestOverrideFolder(t *testing.T) {
	s, err := LoadSet("testdata/override")
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Match("1.3.6.1.4.1.11.2.3.7.11.76", "ProCurve J9085A Switch 2610-24"); got.Name != "hpe-procurve-2610" {
		t.Errorf("added profile not matched: %s", got.Name)
	}
	if got := s.Match("1.3.6.1.4.1.11.2.3.7.11.160", "Aruba 2930F"); got.Name != "aruba-switch" {
		t.Errorf("shipped profile lost to the added one: %s", got.Name)
	}
	p := s.Get("cisco-switch")
	if p == nil || !strings.HasPrefix(p.File, "testdata/override") {
		t.Fatalf("cisco-switch not replaced: %+v", p)
	}
	var cpu *Read
	for _, r := range s.Reads("cisco-switch") {
		if r.Name == "cpu" {
			cpu = &r
		}
		if r.Name == "temperature" {
			t.Errorf("the shipped cisco-switch's temperature read survived the override")
		}
	}
	if cpu == nil || cpu.Table.Columns[0].Name != "cpmCPUTotal1minRev" {
		t.Errorf("override's cpu read not used: %+v", cpu)
	}
	if len(s.Names()) != 9 {
		t.Errorf("profiles %v", s.Names())
	}

	// A second file in the folder with the same name is an error, not a
	// silent choice.
	dir := t.TempDir()
	for _, f := range []string{"a.yaml", "b.yaml"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("name: dup\nextends: [generic]\ndescription: d\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := LoadSet(dir); err == nil || !strings.Contains(err.Error(), `profile "dup" is also defined in`) {
		t.Errorf("duplicate in folder: got %v", err)
	}
}

func TestEOS(t *testing.T) {
	eos, err := ShippedEOS()
	if err != nil {
		t.Fatal(err)
	}
	e, ok := eos.Lookup("Cisco", "WS-C2960X-48FPD-L")
	if !ok || e.EndOfSupport != "2027-10-31" {
		t.Errorf("2960-X: %+v %v", e, ok)
	}
	// The longer prefix wins: 2960XR is not 2960X.
	if e, ok := eos.Lookup("cisco", "ws-c2960xr-24ps-i"); !ok || e.ModelPrefix != "WS-C2960XR-" {
		t.Errorf("2960-XR: %+v %v", e, ok)
	}
	if _, ok := eos.Lookup("aruba", "WS-C2960X-48FPD-L"); ok {
		t.Errorf("matched across vendors")
	}
	now := time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)
	for model, want := range map[string]string{"WS-C3750X-48PF-S": EOSPast, "WS-C2960X-24PS-L": EOSSupported, "C9300-48P": EOSUnknown} {
		if got, _ := eos.Status("cisco", model, now, 180*24*time.Hour); got != want {
			t.Errorf("status of %s = %s, want %s", model, got, want)
		}
	}
	if got, _ := eos.Status("cisco", "WS-C2960X-24PS-L", now, 365*24*time.Hour); got != EOSNear {
		t.Errorf("2960-X within a year: %s", got)
	}

	over, err := LoadEOS("testdata/override")
	if err != nil {
		t.Fatal(err)
	}
	if e, _ := over.Lookup("cisco", "WS-C2960X-48FPD-L"); e.EndOfSupport != "2028-01-31" {
		t.Errorf("override did not replace: %+v", e)
	}
	if _, ok := over.Lookup("hpe", "J9085A"); !ok {
		t.Errorf("override entry not added")
	}
	if len(over.Entries()) != len(eos.Entries())+1 {
		t.Errorf("%d entries after override, want %d", len(over.Entries()), len(eos.Entries())+1)
	}

	_, err = LoadEOS("testdata/eos-bad")
	for _, w := range []string{
		`eos.yaml:4: entries[0].end_of_support: "2021-13-31" is not a date`,
		`eos.yaml:6: entries[1]: duplicate of entries[0] (line 2)`,
		`eos.yaml:10: entries[2].vendor: "Cisco": write vendors in lower case`,
		`eos.yaml:10: entries[2].source: required`,
	} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("bad eos: error\n%v\nlacks\n%s", err, w)
		}
	}
}

func TestSplitIndex(t *testing.T) {
	tab := &Table{Index: []IndexPart{{Name: "mac", Type: IndexMAC}, {Name: "slot"}, {Name: "ssid", Type: IndexString}}}
	text, sub, err := tab.SplitIndex([]uint32{0, 58, 125, 0, 1, 17, 1, 2, 104, 105})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(text, []string{"00:3a:7d:00:01:11", "1", "hi"}) || len(sub[2]) != 3 {
		t.Errorf("got %v %v", text, sub)
	}
	if _, _, err := tab.SplitIndex([]uint32{0, 58, 125}); err == nil {
		t.Errorf("short index accepted")
	}
	if _, _, err := (&Table{Index: []IndexPart{{Name: "i"}}}).SplitIndex([]uint32{1, 2}); err == nil {
		t.Errorf("left-over sub-identifiers accepted")
	}
}
