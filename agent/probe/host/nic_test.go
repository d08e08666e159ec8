package host

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const routeHeader = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"

var routeCases = []struct {
	name, table, want string
}{
	{"one default", routeHeader +
		"eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n" +
		"eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n", "eth0"},
	{"lowest metric wins", routeHeader +
		"wlan0\t00000000\t0101A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0\n" +
		"eth1\t00000000\t0100000A\t0003\t0\t0\t100\t00000000\t0\t0\t0\n", "eth1"},
	{"a route that is not up is skipped", routeHeader +
		"eth0\t00000000\t010200C0\t0002\t0\t0\t0\t00000000\t0\t0\t0\n", ""},
	{"no default", routeHeader + "eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n", ""},
	{"empty", "", ""},
	{"header only", routeHeader, ""},
	{"garbage", routeHeader + "eth0 00000000 x y z\n\x00\n", ""},
}

func TestParseDefaultRoute(t *testing.T) {
	for _, tc := range routeCases {
		if got := parseDefaultRoute(tc.table); got != tc.want {
			t.Errorf("%s: parseDefaultRoute = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func FuzzParseDefaultRoute(f *testing.F) {
	for _, tc := range routeCases {
		f.Add(tc.table)
	}
	f.Fuzz(func(t *testing.T, table string) {
		nic := parseDefaultRoute(table)
		if nic != "" && !containsField(table, nic) {
			t.Errorf("parseDefaultRoute returned %q, which is not in the table", nic)
		}
	})
}

func containsField(table, s string) bool {
	for _, line := range splitLines(table) {
		for _, f := range fields(line) {
			if f == s {
				return true
			}
		}
	}
	return false
}

var speedCases = []struct {
	in   string
	want float64
	ok   bool
}{
	{"1000\n", 1000, true},
	{"10000", 10000, true},
	{"-1\n", 0, false},
	{"0", 0, false},
	{"", 0, false},
	{"fast", 0, false},
	{" 100 ", 100, true},
}

func TestParseSpeed(t *testing.T) {
	for _, tc := range speedCases {
		got, ok := parseSpeed(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseSpeed(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func FuzzParseSpeed(f *testing.F) {
	for _, tc := range speedCases {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if v, ok := parseSpeed(s); ok && v <= 0 {
			t.Errorf("parseSpeed(%q) = %v reported as known", s, v)
		}
	})
}

func TestLinkSpeedAndDefaultNICFromFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(rel, s string) {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("route", routeCases[1].table)
	write("net/eth1/speed", "2500\n")
	write("net/wlan0/speed", "-1\n")
	p := &Prober{procRoute: filepath.Join(dir, "route"), sysNet: filepath.Join(dir, "net")}
	if nic := p.defaultNIC(); nic != "eth1" {
		t.Fatalf("defaultNIC = %q, want eth1", nic)
	}
	if v, ok := p.linkSpeed("eth1"); !ok || v != 2500 {
		t.Errorf("eth1: %v, %v", v, ok)
	}
	for _, nic := range []string{"wlan0", "missing", ""} {
		if v, ok := p.linkSpeed(nic); ok {
			t.Errorf("%q: speed %v reported as known", nic, v)
		}
	}
}

func splitLines(s string) []string { return strings.Split(s, "\n") }
func fields(s string) []string     { return strings.Fields(s) }
