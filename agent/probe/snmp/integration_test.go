package snmp

import (
	"context"
	"testing"
	"time"

	"github.com/probity-edu/probity/agent/probe"
	"github.com/probity-edu/probity/agent/snmp"
	"github.com/probity-edu/probity/internal/point"
)

// TestRunAgainstSnmpsim polls every recording served by snmpsimd plus a
// device that never answers, twice: the first run has no rates, the second
// has them; the dead device is reported without holding up the others.
func TestRunAgainstSnmpsim(t *testing.T) {
	endpoint, names := startSnmpsim(t)
	cfg := Defaults
	roles := map[string]string{"access-switch": "edge", "core-switch": "core", "cisco-wlc": "wlc", "aruba-controller": "wlc",
		"unifi-ap": "ap", "aruba-switch": "edge", "ups-on-battery": "ups"}
	for _, n := range names {
		cfg.Devices = append(cfg.Devices, Device{Target: snmp.Target{Name: n, Address: endpoint, Community: n, Timeout: 3 * time.Second},
			Role: roles[n]})
	}
	cfg.Devices = append(cfg.Devices, Device{Target: snmp.Target{Name: "dead", Address: deadDevice(t), Community: "public",
		Timeout: 300 * time.Millisecond, Retries: -1}, Role: "edge"})
	p, err := New(cfg, probe.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	first, err := p.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond) // counters need time between samples
	second, err := p.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}

	for run, pts := range [][]point.Point{first, second} {
		devs := byDevice(pts, "snmp_device")
		if len(devs) != len(cfg.Devices) {
			t.Errorf("run %d: %d snmp_device points, want %d", run+1, len(devs), len(cfg.Devices))
		}
		for name, ds := range devs {
			d := ds[0]
			reachable := d.Fields["reachable"].(bool)
			if name == "dead" {
				if reachable || d.Fields["reason"] != "timeout" {
					t.Errorf("run %d: dead device: reachable=%v reason=%v, want false timeout", run+1, reachable, d.Fields["reason"])
				}
				continue
			}
			if !reachable || d.Fields["reason"] != "ok" {
				t.Errorf("run %d: %s: reachable=%v reason=%v", run+1, name, reachable, d.Fields["reason"])
			}
			if d.Tags["profile"] == "" || d.Fields["uptime_s"] == nil || d.Fields["snmp_version"] != "v2c" {
				t.Errorf("run %d: %s: snmp_device %v %v", run+1, name, d.Tags, d.Fields)
			}
		}
	}

	// The chassis model from ENTITY-MIB gives the tag and the end-of-support date.
	if sw := byDevice(second, "snmp_device")["access-switch"][0]; sw.Tags["model"] != "WS-C2960X-48FPD-L" || sw.Tags["vendor"] != "cisco" ||
		sw.Tags["profile"] != "cisco-switch" || sw.Fields["eos_date"] != "2027-10-31" || sw.Fields["eos_status"] == "unknown" {
		t.Errorf("access-switch snmp_device %v %v", sw.Tags, sw.Fields)
	}

	// access switch: 48+ interfaces with names, rates only in the second run.
	ifs1, ifs2 := byDevice(first, "snmp_if")["access-switch"], byDevice(second, "snmp_if")["access-switch"]
	if len(ifs2) < 48 {
		t.Errorf("access-switch: %d snmp_if points, want 48 or more", len(ifs2))
	}
	for _, pt := range ifs1 {
		if _, ok := pt.Fields["in_bps"]; ok {
			t.Errorf("first run has a rate: %v %v", pt.Tags, pt.Fields)
			break
		}
	}
	withRate := 0
	for _, pt := range ifs2 {
		if pt.Tags["ifname"] == "" {
			t.Errorf("snmp_if without ifname: %v", pt.Tags)
		}
		if _, ok := pt.Fields["in_bps"]; ok {
			withRate++
		}
	}
	if withRate < 48 {
		t.Errorf("second run: %d access-switch interfaces with in_bps, want 48 or more", withRate)
	}
	if poe := byDevice(second, "snmp_poe")["access-switch"]; len(poe) == 0 || poe[0].Fields["ports_delivering"] == nil || poe[0].Fields["budget_w"] == nil {
		t.Errorf("access-switch snmp_poe: %v", poe)
	}
	if ports := byDevice(second, "snmp_poe_port")["access-switch"]; len(ports) < 48 {
		t.Errorf("access-switch: %d snmp_poe_port points, want 48", len(ports))
	}

	// WLC: 20 APs, each with its radios, named through the lookup.
	aps := map[string]bool{}
	radios, noisy := 0, 0
	for _, pt := range byDevice(second, "wifi_ap")["cisco-wlc"] {
		if pt.Tags["controller"] != "cisco-wlc" || pt.Tags["ap"] == "" {
			t.Errorf("wifi_ap tags %v", pt.Tags)
		}
		aps[pt.Tags["ap"]] = true
		if pt.Tags["radio"] != "" {
			radios++
			if n, ok := pt.Fields["noise_dbm"].(float64); ok && (n > -90 || n < -96) {
				t.Errorf("radio %v noise %v dBm, want the mean of its scanned channels, -95 to -91", pt.Tags, n)
			} else if ok {
				noisy++
			}
		}
	}
	if len(aps) != 20 || radios != 40 {
		t.Errorf("cisco-wlc: %d APs and %d radio points, want 20 and 40", len(aps), radios)
	}
	if noisy != 38 { // AP 17 is down: its radios scan nothing
		t.Errorf("cisco-wlc: %d radios with a noise floor, want the 38 of the 19 APs up", noisy)
	}

	// Port roles, and the counts the switching rules read.
	devs2 := byDevice(second, "snmp_device")
	for _, name := range []string{"access-switch", "core-switch"} {
		roles := map[string]int{}
		for _, pt := range byDevice(second, "snmp_if")[name] {
			roles[pt.Tags["role"]]++
		}
		d := devs2[name][0].Fields
		t.Logf("%s: port roles %v; uplinks_10g_up %v, access_ports_below_1g %v, ap_ports_below_2500m %v, wan_links_up %v",
			name, roles, d["uplinks_10g_up"], d["access_ports_below_1g"], d["ap_ports_below_2500m"], d["wan_links_up"])
		if roles["access"] == 0 && roles["uplink"] == 0 {
			t.Errorf("%s: no access or uplink ports: %v", name, roles)
		}
		if _, ok := d["uplinks_10g_up"].(int64); !ok {
			t.Errorf("%s: no uplinks_10g_up count: %v", name, d)
		}
	}
	if n, _ := devs2["core-switch"][0].Fields["uplinks_10g_up"].(int64); n < 2 {
		t.Errorf("core-switch: %d uplinks up at 10 Gbit/s, want its two", n)
	}

	// UPS on battery.
	ups := byDevice(second, "snmp_ups")["ups-on-battery"]
	// manufacturer is a label scalar: the second run takes it from the cache.
	if len(ups) != 1 || ups[0].Fields["on_battery"] != true || ups[0].Fields["manufacturer"] != "Example Power" {
		t.Errorf("ups: %v", ups)
	}
	for _, pt := range second {
		if pt.Tags["device"] == "" {
			t.Errorf("%s without device tag: %v", pt.Measurement, pt.Tags)
		}
		if err := pt.Validate(); err != nil {
			t.Errorf("%s %v: %v", pt.Measurement, pt.Tags, err)
		}
	}
}

func byDevice(pts []point.Point, measurement string) map[string][]point.Point {
	out := map[string][]point.Point{}
	for _, pt := range pts {
		if pt.Measurement == measurement {
			out[pt.Tags["device"]] = append(out[pt.Tags["device"]], pt)
		}
	}
	return out
}
