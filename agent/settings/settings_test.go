package settings

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/probity-edu/probity/internal/config"
)

func load(t *testing.T, path string) (Agent, error) {
	t.Helper()
	a := Defaults()
	err := config.Load(path, &a, config.Options{})
	return a, err
}

// Every shipped configuration loads and validates.
func TestShippedConfigsLoad(t *testing.T) {
	files, _ := filepath.Glob("../../configs/agent*.yaml")
	if len(files) < 2 {
		t.Fatalf("expected agent.yaml and agent.demo.yaml, found %v", files)
	}
	for _, f := range files {
		a, err := load(t, f)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if len(a.Probes) == 0 {
			t.Errorf("%s: no probes", f)
		}
	}
}

// The demo configuration must target only this machine.
func TestDemoConfigIsLoopbackOnly(t *testing.T) {
	a, err := load(t, "../../configs/agent.demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range a.Probes {
		var targets []string
		switch {
		case p.Ping != nil:
			for _, tg := range p.Ping.Targets {
				targets = append(targets, tg.Host)
			}
		case p.DNS != nil:
			targets = append(targets, p.DNS.Resolvers...)
		case p.HTTP != nil:
			for _, tg := range p.HTTP.Targets {
				targets = append(targets, tg.URL)
			}
		}
		for _, tg := range targets {
			if !strings.Contains(tg, "127.0.0.1") {
				t.Errorf("probe %s targets %s, which is not loopback", p.Name, tg)
			}
		}
	}
}

func TestKindDefaultsApplied(t *testing.T) {
	p := filepath.Join(t.TempDir(), "a.yaml")
	os.WriteFile(p, []byte("probes:\n  - name: gw\n    kind: ping\n    ping:\n      targets: [{host: 127.0.0.1}]\n"), 0o600)
	a, err := load(t, p)
	if err != nil {
		t.Fatal(err)
	}
	pr := a.Probes[0]
	if pr.Interval != Kinds["ping"] || pr.Ping.Count == 0 || pr.Ping.Interval == 0 {
		t.Fatalf("defaults not applied: interval %s, ping %+v", pr.Interval, pr.Ping)
	}
	if a.Spool.MaxAge != 7*24*time.Hour {
		t.Fatalf("top-level defaults lost: %+v", a.Spool)
	}
}

func TestInvalidConfigs(t *testing.T) {
	cases := map[string]string{
		"invalid-kind.yaml":           "invalid-kind.yaml:3: probes[0].kind: unknown probe kind \"pong\"",
		"invalid-section.yaml":        "invalid-section.yaml:2: probes[0].ping: section \"ping\" is required for kind \"ping\"",
		"invalid-mismatch.yaml":       "invalid-mismatch.yaml:5: probes[0].dns: section \"dns\" does not match kind \"ping\"",
		"invalid-duplicate.yaml":      "invalid-duplicate.yaml:3: probes[1].name: \"a\" is already used by probes[0]",
		"invalid-unknown-nested.yaml": "invalid-unknown-nested.yaml:6: probes[0].ping.cuont: unknown key \"cuont\"",
		"invalid-spool.yaml":          "invalid-spool.yaml:2: spool.max_bytes: must be at least 1MiB",
		"invalid-url.yaml":            "invalid-url.yaml:2: collector.url: must be an http:// or https:// URL",
		"invalid-throughput.yaml":     "invalid-throughput.yaml:5: probes[0].throughput.streams: must be between 1 and 16, not 32",
		"invalid-throughput.yaml#2":   "invalid-throughput.yaml:6: probes[0].throughput.duration: must be between 2s and 1m0s per direction, not 1m30s",
		"invalid-plan.yaml":           "invalid-plan.yaml:5: probes[0].plan.days",
		"invalid-plan.yaml#2":         "invalid-plan.yaml:6: probes[0].plan.windows",
	}
	for file, want := range cases {
		t.Run(file, func(t *testing.T) {
			_, err := load(t, filepath.Join("testdata", strings.Split(file, "#")[0]))
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("got %v\nwant it to contain %q", err, want)
			}
		})
	}
}

func TestThroughputWithPlan(t *testing.T) {
	a, err := load(t, filepath.Join("testdata", "valid-throughput.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	p := a.Probes[0]
	if p.Throughput == nil || p.Throughput.Streams != 8 || p.Throughput.Duration != 10*time.Second || !p.Throughput.SingleStream {
		t.Fatalf("throughput section with defaults: %+v", p.Throughput)
	}
	if p.Plan == nil || p.Plan.PerDay != 4 || len(p.Plan.Windows) != 2 || p.Plan.Timezone != "Europe/London" {
		t.Fatalf("plan: %+v", p.Plan)
	}
	if p.Interval != Kinds["throughput"] {
		t.Errorf("interval %s, want the kind's default", p.Interval)
	}
}

// An snmp section gets its defaults, keeps the client-layer keys of each
// device inline, and names a wrong key with its line.
func TestSNMPSection(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	os.WriteFile(good, []byte("probes:\n  - name: net\n    kind: snmp\n    snmp:\n      devices:\n        - {name: sw, address: 127.0.0.1, community: public, role: edge, timeout: 1s}\n"), 0o600)
	a, err := load(t, good)
	if err != nil {
		t.Fatal(err)
	}
	p := a.Probes[0]
	if p.Interval != time.Minute || p.SNMP == nil || p.SNMP.Workers == 0 || p.SNMP.LabelEvery == 0 || p.SNMP.Redetect == 0 {
		t.Fatalf("defaults not applied: %s %+v", p.Interval, p.SNMP)
	}
	if d := p.SNMP.Devices[0]; d.Name != "sw" || d.Community != "public" || d.Role != "edge" || d.Timeout != time.Second {
		t.Errorf("device %+v", d)
	}
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("probes:\n  - name: net\n    kind: snmp\n    snmp:\n      devices:\n        - {name: sw, address: 127.0.0.1, community: public, role: printer}\n"), 0o600)
	if _, err := load(t, bad); err == nil || !strings.Contains(err.Error(), "probes[0].snmp.devices[0].role") {
		t.Errorf("bad role: %v", err)
	}
}

func TestValidName(t *testing.T) {
	for name, want := range map[string]bool{
		"gateway": true, "a": true, "snmp-core.1_b": true, strings.Repeat("a", 63): true,
		"": false, strings.Repeat("a", 64): false, "-x": false, "_x": false, ".x": false, "Core": false, "a b": false, "a/b": false,
	} {
		if got := validName(name); got != want {
			t.Errorf("validName(%q) = %v, want %v", name, got, want)
		}
	}
}
