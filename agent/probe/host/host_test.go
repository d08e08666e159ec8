package host

import (
	"context"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/shirou/gopsutil/v4/sensors"

	"github.com/probity-edu/probity/agent/probe"
	"github.com/probity-edu/probity/internal/config/cfgerr"
	"github.com/probity-edu/probity/internal/testenv"
)

func TestValidate(t *testing.T) {
	if err := Defaults.Validate(); err != nil {
		t.Errorf("Defaults: %v", err)
	}
	c := Config{DiskPaths: []string{"/", "var/lib", ""}, NIC: "eth0/1"}
	var paths []string
	for _, e := range cfgerr.Flatten(c.Validate()) {
		paths = append(paths, e.(*cfgerr.Error).Path)
	}
	if want := []string{"disk_paths[1]", "disk_paths[2]", "nic"}; !slices.Equal(paths, want) {
		t.Errorf("paths = %v, want %v", paths, want)
	}
}

func TestMaxTemp(t *testing.T) {
	if _, ok := maxTemp(nil); ok {
		t.Error("no sensors gave a temperature")
	}
	if _, ok := maxTemp([]sensors.TemperatureStat{{Temperature: 0}}); ok {
		t.Error("a sensor reading 0 (absent) gave a temperature")
	}
	got, ok := maxTemp([]sensors.TemperatureStat{{Temperature: 41.5}, {Temperature: 67}, {Temperature: 0}, {Temperature: 4000}})
	if !ok || got != 67 {
		t.Errorf("maxTemp = %v, %v; want 67", got, ok)
	}
}

func TestRunOnThisMachine(t *testing.T) {
	c := Defaults
	c.DiskPaths = []string{"/", os.TempDir()}
	p, err := New(c, probe.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pts, err := p.Run(ctx)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if len(pts) != 2 {
		t.Fatalf("%d points, want the host point and one for %s", len(pts), os.TempDir())
	}
	name, _ := os.Hostname()
	main, extra := pts[0], pts[1]
	for _, pt := range pts {
		if err := pt.Validate(); err != nil {
			t.Errorf("invalid point: %v", err)
		}
		if pt.Measurement != "host" || pt.Tags["host"] != name {
			t.Errorf("identity %s %v, want host host=%s", pt.Measurement, pt.Tags, name)
		}
	}
	if _, has := main.Tags["path"]; has || extra.Tags["path"] != os.TempDir() {
		t.Errorf("path tags: main %v, extra %v", main.Tags, extra.Tags)
	}
	t.Logf("host fields: %v", main.Fields)
	for _, k := range []string{"cpu_pct", "mem_pct", "disk_pct"} {
		if v, ok := main.Float(k); !ok || v < 0 || v > 100 {
			t.Errorf("%s = %v, want 0..100", k, main.Fields[k])
		}
	}
	if v, ok := extra.Float("disk_pct"); !ok || v < 0 || v > 100 {
		t.Errorf("extra disk_pct = %v", extra.Fields["disk_pct"])
	}
	for _, k := range []string{"load1", "load5", "load15"} {
		if v, ok := main.Float(k); !ok || v < 0 {
			t.Errorf("%s = %v, want >= 0", k, main.Fields[k])
		}
	}
	if v, ok := main.Fields["uptime_s"].(int64); !ok || v <= 0 {
		t.Errorf("uptime_s = %v, want > 0", main.Fields["uptime_s"])
	}
	if v, ok := main.Fields["procs"].(int64); !ok || v < 1 {
		t.Errorf("procs = %v, want >= 1", main.Fields["procs"])
	}
	if v, ok := main.Fields["temp_c"]; ok && (v.(float64) <= 0 || v.(float64) > 150) {
		t.Errorf("temp_c = %v", v)
	}
	if v, ok := main.Fields["nic_mbps"]; ok && v.(float64) <= 0 {
		t.Errorf("nic_mbps = %v", v)
	}
}

func TestRunMissingDiskPathIsLeftOut(t *testing.T) {
	p, err := New(Config{DiskPaths: []string{"/no/such/dir"}}, probe.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	pts, err := p.Run(context.Background())
	if err != nil || len(pts) != 1 {
		t.Fatalf("Run: %d points, %v", len(pts), err)
	}
	if _, has := pts[0].Fields["disk_pct"]; has {
		t.Errorf("disk_pct of a missing path: %v", pts[0].Fields)
	}
	if _, has := pts[0].Fields["cpu_pct"]; !has {
		t.Errorf("the other metrics went missing too: %v", pts[0].Fields)
	}
}

func TestRunCancelled(t *testing.T) {
	p, err := New(Defaults, probe.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.Run(ctx); err == nil {
		t.Error("Run with a cancelled context reported no error")
	}
}

// A veth pair has a link speed; the host's own virtual NIC may not.
func TestIntegrationNICSpeedOfVeth(t *testing.T) {
	testenv.RequireIntegration(t, "netns with a veth pair")
	ns := testenv.NewNetns(t)
	v := ns.AddVeth(t)
	p, err := New(Config{NIC: v.HostIf}, probe.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	pts, err := p.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	mbps, ok := pts[0].Fields["nic_mbps"].(float64)
	if !ok || mbps <= 0 {
		t.Errorf("nic_mbps of %s = %v, want the veth's speed", v.HostIf, pts[0].Fields["nic_mbps"])
	}
	t.Logf("%s: nic_mbps=%v", v.HostIf, mbps)
}
