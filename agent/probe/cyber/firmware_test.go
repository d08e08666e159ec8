package cyber

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/probity-edu/probity/agent/snmp"
	"github.com/probity-edu/probity/internal/testenv"
)

func TestCompareVersions(t *testing.T) {
	cases := []struct {
		a, b string
		want int // sign
	}{
		{"17.9.4", "17.9.4", 0},
		{"17.9.4a", "17.9.4", 1},
		{"17.9.4", "17.9.4a", -1},
		{"17.9.4a", "17.9.4b", -1},
		{"17.12.1", "17.9.4a", 1},
		{"7.2.10", "7.2.9", 1},
		{"7.2.7", "7.2.10", -1},
		{"16.12.05b", "16.12.5", 1},
		{"16.12.05b", "16.12.5b", 0},
		{"16.12.05", "16.12.10a", -1},
		{"17.09.04a", "17.9.4a", 0},
		{"15.2(7)E8", "15.2(7)E9", -1},
		{"15.2(7)E10", "15.2(7)E9", 1},
		{"v7.2.10,build1706,240918 (GA.M)", "7.2.7", 1},
		{"WC.16.10.0012", "16.10.0010", 1},
		{"WC.16.10.0012", "WC.16.10.0012", 0},
		{"8.10.0.7", "8.10.0.22", -1},
		{"2.04", "2.4", 0},
		{"1.0.1", "1.0a", 1},
	}
	sign := func(n int) int {
		switch {
		case n < 0:
			return -1
		case n > 0:
			return 1
		}
		return 0
	}
	for _, c := range cases {
		if got := sign(CompareVersions(c.a, c.b)); got != c.want {
			t.Errorf("CompareVersions(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
		if got := sign(CompareVersions(c.b, c.a)); got != -c.want {
			t.Errorf("CompareVersions(%q, %q) = %d, want %d (reversed)", c.b, c.a, got, -c.want)
		}
	}
}

func TestShippedMinimums(t *testing.T) {
	m, err := LoadMinimums("")
	if err != nil {
		t.Fatal(err)
	}
	vendors := map[string]bool{}
	for _, f := range m.Files() {
		vendors[f.Vendor] = true
		for _, fam := range f.Families {
			if !strings.HasPrefix(fam.Source, "https://") || fam.Note == "" || fam.Name == "" {
				t.Errorf("%s %s: every shipped family needs a name, an https source and a note", f.File, fam.Match)
			}
		}
	}
	for _, v := range []string{"cisco", "fortinet"} {
		if !vendors[v] {
			t.Errorf("no shipped minimums for %s", v)
		}
	}
	// The shipped data judges what real devices say.
	type shippedCase struct {
		id      Identity
		family  string
		version string
		below   bool
	}
	cases := []shippedCase{
		{Identity{SysObjectID: "1.3.6.1.4.1.9.1.2494", Model: "C9300-48P", Software: "17.09.03",
			SysDescr: "Cisco IOS Software [Cupertino], Catalyst L3 Switch Software (CAT9K_IOSXE), Version 17.9.3, RELEASE SOFTWARE (fc6)"},
			"Catalyst 9000 (IOS XE)", "17.09.03", true},
		{Identity{SysObjectID: "1.3.6.1.4.1.9.1.2494",
			SysDescr: "Cisco IOS Software [Cupertino], Catalyst L3 Switch Software (CAT9K_IOSXE), Version 17.9.5, RELEASE SOFTWARE (fc1)"},
			"Catalyst 9000 (IOS XE)", "17.9.5", false},
		{Identity{SysObjectID: "1.3.6.1.4.1.12356.101.1.1", SysDescr: "FortiGate-60F",
			versionOID: map[string]string{"1.3.6.1.4.1.12356.101.4.1.1.0": "v7.2.6,build1575,231011 (GA.M)"}},
			"FortiGate (FortiOS)", "v7.2.6,build1575,231011 (GA.M)", true},
	}
	// A device on an older release train with its train's fix is safe;
	// one on a newer train below that train's fix is not.
	forti := func(v string) Identity {
		return Identity{SysObjectID: "1.3.6.1.4.1.12356.101.1.1", SysDescr: "FortiGate-60F",
			versionOID: map[string]string{"1.3.6.1.4.1.12356.101.4.1.1.0": v}}
	}
	cases = append(cases,
		shippedCase{forti("v7.0.14,build0601"), "FortiGate (FortiOS)", "v7.0.14,build0601", false},
		shippedCase{forti("v7.4.2,build2571"), "FortiGate (FortiOS)", "v7.4.2,build2571", true},
		shippedCase{Identity{SysObjectID: "1.3.6.1.4.1.9.1.2494", SysDescr: "Cisco IOS Software [Bengaluru], Catalyst L3 Switch Software (CAT9K_IOSXE), Version 17.6.6a, RELEASE SOFTWARE (fc1)"},
			"Catalyst 9000 (IOS XE)", "17.6.6a", false},
	)
	for _, c := range cases {
		f, fam, ok := m.Lookup(c.id)
		if !ok {
			t.Errorf("%q: no family", c.id.SysDescr)
			continue
		}
		v, _ := f.deviceVersion(c.id)
		min := fam.minimumFor(v)
		if fam.Name != c.family || v != c.version || (CompareVersions(v, min) < 0) != c.below {
			t.Errorf("%q: family %q version %q below=%v (minimum %s), want %q %q %v", c.id.SysDescr, fam.Name, v,
				CompareVersions(v, min) < 0, min, c.family, c.version, c.below)
		}
	}
	// A FortiGate name on a device of another vendor is not judged.
	if _, _, ok := m.Lookup(Identity{SysObjectID: "1.3.6.1.4.1.8072.3.2.10", SysDescr: "FortiGate lab VM"}); ok {
		t.Error("a non-Fortinet sysObjectID matched the Fortinet file")
	}
}

func TestMinimumsErrors(t *testing.T) {
	cases := map[string]struct{ yaml, want string }{
		"unknown key": {"vendor: x\nfamilies:\n  - match: a\n    minimum: '1.0'\n    source: https://x\n    minimun: '2'\n",
			"bad.yaml:6: families[0]: unknown key \"minimun\""},
		"no source": {"vendor: x\nfamilies:\n  - match: a\n    minimum: '1.0'\n",
			"bad.yaml:3: families[0].source: required"},
		"bad regex": {"vendor: x\nfamilies:\n  - match: 'C9300('\n    minimum: '1.0'\n    source: https://x\n",
			"bad.yaml:3: families[0].match: error parsing regexp"},
		"bad minimum": {"vendor: x\nfamilies:\n  - match: a\n    minimum: latest\n    source: https://x\n",
			"bad.yaml:4: families[0].minimum: \"latest\" is not a version"},
		"upper vendor": {"vendor: Cisco\nfamilies:\n  - match: a\n    minimum: '1'\n    source: https://x\n",
			"bad.yaml:1: vendor: \"Cisco\": write vendors in lower case"},
		"bad oid": {"vendor: x\nsys_object_id: [enterprises.9]\nfamilies:\n  - match: a\n    minimum: '1'\n    source: https://x\n",
			"bad.yaml:2: sys_object_id[0]: \"enterprises.9\" is not a numeric OID"},
		"no group": {"vendor: x\nversion_regex: 'Version \\S+'\nfamilies:\n  - match: a\n    minimum: '1'\n    source: https://x\n",
			"bad.yaml:2: version_regex: needs a group"},
		"no families": {"vendor: x\n", "bad.yaml"},
		"empty":       {"", "bad.yaml: empty minimums file"},
	}
	for name, c := range cases {
		_, err := ParseMinimums([]byte(c.yaml), "bad.yaml")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", name, err, c.want)
		}
	}
	// A bad file in minimums_dir stops the check from being built.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "x.yaml"), []byte(cases["no source"].yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadMinimums(dir); err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "x.yaml")+":3") {
		t.Errorf("LoadMinimums with a bad file: %v", err)
	}
}

// TestIntegrationFirmware polls simulated devices (snmpsim, the snmp
// package's recordings) against a trust's minimums folder that replaces
// the shipped Cisco file and adds HPE and Aruba ones (test minimums, not
// advice).
func TestIntegrationFirmware(t *testing.T) {
	testenv.RequireIntegration(t, "snmpsim on loopback")
	rec := func(n string) string { return filepath.Join("..", "..", "snmp", "testdata", "snmprec", n+".snmprec") }
	sim := testenv.StartSnmpsim(t, []string{rec("access-switch"), rec("aruba-switch"), rec("aruba-controller"), rec("core-switch")})

	dir := t.TempDir()
	files := map[string]string{
		// WS-C2960X-48FPD-L runs 15.2(7)E8 in the recording: one below.
		"cisco.yaml": `vendor: cisco
sys_object_id: [1.3.6.1.4.1.9]
families:
  - name: Catalyst 2960-X
    match: 'WS-C2960X'
    minimum: "15.2(7)E9"
    source: https://example.org/advisory-2960x
`,
		// The controller's sysDescr carries its version: ArubaOS 8.10.0.7.
		"aruba.yaml": `vendor: aruba
sys_object_id: [1.3.6.1.4.1.14823]
version_regex: 'Version ([0-9][0-9.]*)'
families:
  - name: Mobility controllers (ArubaOS 8.10)
    match: 'Aruba7[0-9]{3}|ArubaOS'
    minimum: "8.10.0.22"
    source: https://example.org/advisory-arubaos
`,
		// JL261A runs WC.16.10.0012: one above.
		"hpe.yaml": `vendor: hpe
sys_object_id: [1.3.6.1.4.1.11]
families:
  - name: 2930F
    match: '^JL261A$'
    minimum: "WC.16.10.0010"
    source: https://example.org/advisory-2930f
`,
	}
	for n, s := range files {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dev := func(name, community string) snmp.Target {
		return snmp.Target{Name: name, Address: sim, Version: snmp.V2c, Community: community, Timeout: 2 * time.Second, Retries: -1}
	}
	c := Defaults
	c.Firmware = &FirmwareConfig{MinimumsDir: dir, Devices: []snmp.Target{
		dev("access", "access-switch"), dev("aruba-sw", "aruba-switch"), dev("controller", "aruba-controller"),
		dev("core", "core-switch"),
		{Name: "gone", Address: closedUDPPort(t), Community: "public", Timeout: 500 * time.Millisecond, Retries: -1},
	}}
	got := runChecks(t, c)

	type want struct {
		ok, finding     bool
		version, detail string
	}
	wants := map[string]want{
		"access":     {true, true, "15.2(7)E8", "below the minimum safe version 15.2(7)E9 for Catalyst 2960-X"},
		"aruba-sw":   {true, false, "WC.16.10.0012", "at or above the minimum safe version WC.16.10.0010 for 2930F"},
		"controller": {true, true, "8.10.0.7", "below the minimum safe version 8.10.0.22"},
		"core":       {true, false, "", "no minimum known for this model"},
		"gone":       {false, false, "", "could not read the device"},
	}
	for name, w := range wants {
		p, ok := got[CheckFirmware+" "+name]
		if !ok {
			t.Errorf("%s: no point", name)
			continue
		}
		f := p.Fields
		if f["ok"] != w.ok || f["finding"] != w.finding {
			t.Errorf("%s: ok=%v finding=%v, want %v %v (%v)", name, f["ok"], f["finding"], w.ok, w.finding, f["detail"])
		}
		if d, _ := f["detail"].(string); !strings.Contains(d, w.detail) {
			t.Errorf("%s: detail %q, want %q in it", name, d, w.detail)
		}
		if w.version != "" && f["version"] != w.version {
			t.Errorf("%s: version %v, want %s", name, f["version"], w.version)
		}
	}
	if fix, _ := got[CheckFirmware+" access"].Fields["fix"].(string); fix != "upgrade to at least 15.2(7)E9; see https://example.org/advisory-2960x" {
		t.Errorf("access: fix %q", fix)
	}
	if m := got[CheckFirmware+" access"].Fields["model"]; m != "WS-C2960X-48FPD-L" {
		t.Errorf("access: model %v, want the chassis entPhysicalModelName", m)
	}
	if from := got[CheckFirmware+" controller"].Fields["version_from"]; from != "sysDescr" {
		t.Errorf("controller: version from %v, want sysDescr", from)
	}
}
