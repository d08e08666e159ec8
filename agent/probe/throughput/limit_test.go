package throughput

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/probity-edu/probity/agent/snmp"
)

func TestJudge(t *testing.T) {
	up := func(busy, rwnd, sndbuf uint64) []StreamInfo {
		return []StreamInfo{{BusyUs: busy / 2, RwndLimitedUs: rwnd / 2, SndbufLimited: sndbuf / 2}, {BusyUs: busy / 2, RwndLimitedUs: rwnd / 2, SndbufLimited: sndbuf / 2}}
	}
	for _, tc := range []struct {
		name    string
		mbps    float64
		h       host
		cpu     float64
		dir     string
		infos   []StreamInfo
		reason  string
		limited bool
	}{
		{"line sets the rate", 95, host{nicMbps: 1000}, 20, "download", nil, LimitNetwork, false},
		{"at the NIC's speed", 94, host{nicMbps: 100}, 20, "download", nil, LimitNIC, true},
		{"unknown NIC speed", 940, host{}, 20, "download", nil, LimitNetwork, false},
		{"Pi 3 B+ USB bus", 290, host{nicMbps: 1000, busMbps: 300}, 20, "download", nil, LimitBus, true},
		{"CPU saturated", 400, host{nicMbps: 1000}, 97, "upload", nil, LimitCPU, true},
		{"send buffer", 400, host{nicMbps: 1000}, 30, "upload", up(1000, 0, 800), LimitSendBuffer, true},
		{"server window", 400, host{nicMbps: 1000}, 30, "upload", up(1000, 700, 0), LimitRecvWindow, false},
		{"small TCP signals", 400, host{nicMbps: 1000}, 30, "upload", up(1000, 100, 100), LimitNetwork, false},
		// Download TCP_INFO is the receiver's: its sender-side counters mean nothing.
		{"download ignores sender counters", 400, host{nicMbps: 1000}, 30, "download", up(1000, 0, 900), LimitNetwork, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := judge(tc.mbps, tc.h, tc.cpu, true, tc.dir, tc.infos)
			if l.reason != tc.reason || l.probeLimited != tc.limited {
				t.Fatalf("judge = %s (probe limited %v), want %s (%v)", l.reason, l.probeLimited, tc.reason, tc.limited)
			}
		})
	}
	if l := judge(400, host{}, 99, false, "upload", nil); l.reason != LimitNetwork {
		t.Errorf("an unknown CPU share must not be read as saturated: %s", l.reason)
	}
}

// fakeSysfs writes the files the probe reads under a temporary /sys.
func fakeSysfs(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for p, v := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestFindHost(t *testing.T) {
	sys := fakeSysfs(t, map[string]string{
		"class/net/eth0/speed":               "1000\n",
		"class/net/wlan0/speed":              "-1\n",
		"firmware/devicetree/base/model":     "Raspberry Pi 3 Model B Plus Rev 1.3\x00",
		"class/net/eth0/statistics/rx_bytes": "1000",
	})
	h := findHost("eth0", "", sys)
	if h.nicMbps != 1000 || h.nic != "eth0" {
		t.Errorf("eth0: %+v", h)
	}
	if h := findHost("wlan0", "", sys); h.nicMbps != 0 {
		t.Errorf("an interface reporting -1 has no known speed: %+v", h)
	}
	// /proc/device-tree/model wins when present (a real Pi); elsewhere the
	// fake sysfs copy is read.
	if _, err := os.Stat("/proc/device-tree/model"); err != nil && (h.busMbps != 300 || h.board == "") {
		t.Errorf("Pi 3 B+ board: %+v", h)
	}
	if r := routeInterface("127.0.0.1:9"); r != "lo" {
		t.Errorf("route to 127.0.0.1 goes through %q, want lo", r)
	}
}

func TestWANCounters(t *testing.T) {
	sys := fakeSysfs(t, map[string]string{
		"class/net/wan0/statistics/rx_bytes": "123456\n",
		"class/net/wan0/statistics/tx_bytes": "654321\n",
	})
	p := &Prober{log: slog.New(slog.DiscardHandler)}
	if _, ok := p.wanCounters(t.Context()); ok {
		t.Fatal("counters without a source")
	}
	p.SetWAN(LocalInterface{Name: "wan0", Sysfs: sys})
	o, ok := p.wanCounters(t.Context())
	if !ok || o.rx != 123456 || o.tx != 654321 {
		t.Fatalf("counters %+v %v", o, ok)
	}
	p.SetWAN(LocalInterface{Name: "missing0", Sysfs: sys})
	if _, ok := p.wanCounters(t.Context()); ok {
		t.Fatal("a missing interface gave counters")
	}
}

func TestDailyBudget(t *testing.T) {
	p := &Prober{cfg: Config{DailyBudget: 100 << 20, Duration: 10 * time.Second}, lastMbps: map[string]float64{}}
	day := time.Date(2026, 12, 4, 10, 0, 0, 0, time.Local)
	if _, _, ok := p.reserve("download", day); !ok {
		t.Fatal("the first test of the day must run: its size is not known yet")
	}
	p.account("download", 60<<20, day)
	p.lastMbps["download"] = 40 // 50 MB in 10 s: 60 + 50 > 100 MiB
	need, used, ok := p.reserve("download", day.Add(time.Hour))
	if ok || used != 60<<20 || need != 50_000_000 {
		t.Fatalf("reserve = need %d used %d ok %v; want a refusal", need, used, ok)
	}
	if _, used, ok := p.reserve("download", day.Add(24*time.Hour)); !ok || used != 0 {
		t.Fatalf("a new day starts from zero: used %d ok %v", used, ok)
	}
}

func TestConfigValidate(t *testing.T) {
	ok := Defaults
	if err := ok.Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	for _, tc := range []struct {
		name string
		edit func(*Config)
	}{
		{"too many streams", func(c *Config) { c.Streams = 17 }},
		{"no streams", func(c *Config) { c.Streams = 0 }},
		{"too long", func(c *Config) { c.Duration = 61 * time.Second }},
		{"sampling too slow", func(c *Config) { c.SampleEvery = 200 * time.Millisecond }},
		{"grace over half", func(c *Config) { c.Grace = 6 * time.Second }},
		{"bad direction", func(c *Config) { c.Directions = []string{"sideways"} }},
		{"direction twice", func(c *Config) { c.Directions = []string{"upload", "upload"} }},
		{"bad method", func(c *Config) { c.Method = "ndt7" }},
		{"bad server URL", func(c *Config) { c.Server = "ftp://x" }},
		{"iperf3 without server", func(c *Config) { c.Method = "iperf3" }},
		{"bad latency target", func(c *Config) { c.LatencyTarget = "nohostport" }},
		{"wan.snmp without an interface", func(c *Config) { c.WAN.SNMP = &snmp.Target{Address: "192.0.2.1", Community: "secret-community"} }},
		{"wan.snmp with a bad target", func(c *Config) {
			c.WAN.Interface, c.WAN.SNMP = "Gi0/0", &snmp.Target{Address: "192.0.2.1", Version: "v1"}
		}},
	} {
		c := Defaults
		c.Directions = append([]string(nil), c.Directions...)
		tc.edit(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}
