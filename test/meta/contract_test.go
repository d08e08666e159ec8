package meta

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/probity-edu/probity/agent/health"
	"github.com/probity-edu/probity/agent/probe"
	"github.com/probity-edu/probity/agent/probe/dns"
	"github.com/probity-edu/probity/agent/probe/filtering"
	"github.com/probity-edu/probity/agent/probe/host"
	"github.com/probity-edu/probity/agent/probe/httpcheck"
	"github.com/probity-edu/probity/agent/probe/ping"
	snmpprobe "github.com/probity-edu/probity/agent/probe/snmp"
	"github.com/probity-edu/probity/agent/probe/throughput"
	"github.com/probity-edu/probity/agent/probe/wan"
	"github.com/probity-edu/probity/agent/schedule"
	"github.com/probity-edu/probity/agent/ship"
	"github.com/probity-edu/probity/agent/snmp"
	"github.com/probity-edu/probity/agent/spool"
	"github.com/probity-edu/probity/collector/speedtest"
	"github.com/probity-edu/probity/collector/standards"
	"github.com/probity-edu/probity/internal/point"
	"github.com/probity-edu/probity/internal/testenv"
	"github.com/probity-edu/probity/internal/wire"
)

// TestProbesKeepTheMeasurementContract runs every probe kind against real
// peers on loopback and checks that each point it emits uses only tags and
// fields declared in collector/standards/measurements.yaml, with the
// declared types: the table that scoring rules and docs are checked against
// must describe what the agent really sends.
func TestProbesKeepTheMeasurementContract(t *testing.T) {
	testenv.RequireIntegration(t, "runs every probe on loopback")
	table := standards.Measurements()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	d := probe.Deps{}.WithDefaults()

	resolver := testenv.StartDNS(t, []string{
		"www.google.com. 300 IN CNAME forcesafesearch.google.com.",
		"forcesafesearch.google.com. 300 IN A 216.239.38.120",
	}, "use-application-dns.net.")
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok")) }))
	defer web.Close()

	var probes []probe.Probe
	dc := dns.Defaults
	dc.Resolvers = []string{resolver.Addr, "127.0.0.1:1"}
	dc.Queries = []dns.Query{{Name: "www.google.com", Type: "A"}, {Name: "use-application-dns.net", Type: "A"}}
	dc.Timeout = time.Second
	hc := httpcheck.Defaults
	hc.Targets = []httpcheck.Target{{URL: web.URL, Name: "web", Role: "cloud"}, {URL: "http://127.0.0.1:1/", Name: "closed"}}
	for _, build := range []func() (probe.Probe, error){
		func() (probe.Probe, error) { return dns.New(dc, d) },
		func() (probe.Probe, error) { return httpcheck.New(hc, d) },
		func() (probe.Probe, error) { return host.New(host.Defaults, d) },
	} {
		p, err := build()
		if err != nil {
			t.Fatal(err)
		}
		probes = append(probes, p)
	}
	if os.Geteuid() == 0 {
		pc := ping.Defaults
		pc.Targets = []ping.Target{{Host: "127.0.0.1", Role: "gateway"}}
		pc.Count = 2
		pc.Interval = 20 * time.Millisecond
		p, err := ping.New(pc, d)
		if err != nil {
			t.Fatal(err)
		}
		probes = append(probes, p)
	}

	seen := map[string]bool{}
	for _, p := range probes {
		pts, err := p.Run(ctx)
		if err != nil {
			t.Fatalf("%T: %v", p, err)
		}
		for _, pt := range pts {
			seen[pt.Measurement] = true
			checkPoint(t, table, pt)
		}
	}
	// wan: one short observation window against a loopback collector that
	// answers whoami as the real one does, for both of its measurements.
	coll := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		json.NewEncoder(w).Encode(wire.Whoami{AgentID: "a", SiteID: "s", Address: host})
	}))
	defer coll.Close()
	wc := wan.Defaults
	wc.Every, wc.ConnectTimeout = 100*time.Millisecond, 100*time.Millisecond
	wp, err := wan.New(wc, probe.Deps{Collector: &probe.Collector{URL: coll.URL, Token: "t", Client: coll.Client()}})
	if err != nil {
		t.Fatal(err)
	}
	wctx, wcancel := context.WithTimeout(ctx, 4500*time.Millisecond)
	pts, err := wp.Run(wctx)
	wcancel()
	if err != nil {
		t.Fatalf("wan: %v", err)
	}
	for _, pt := range pts {
		seen[pt.Measurement] = true
		checkPoint(t, table, pt)
	}
	// throughput: against the real speed-test server on loopback, one test
	// per direction and mode, with lo as the "WAN" for the cross-traffic
	// fields and a budget small enough that the later tests are skipped.
	tokens := filepath.Join(t.TempDir(), "tokens")
	if err := os.WriteFile(tokens, []byte("contract-test-agent-credential\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	auth, err := speedtest.LoadTokenFile(tokens, nil)
	if err != nil {
		t.Fatal(err)
	}
	st := httptest.NewServer((&speedtest.Server{Auth: auth}).Handler())
	defer st.Close()
	tc := throughput.Defaults
	tc.Server, tc.Streams, tc.Duration, tc.WAN.Interface = st.URL, 2, 2*time.Second, "lo"
	tc.DailyBudget = 0
	runTP := func(c throughput.Config) map[string]int {
		tp, err := throughput.New(c, probe.Deps{Collector: &probe.Collector{Token: "contract-test-agent-credential", Client: st.Client()}})
		if err != nil {
			t.Fatal(err)
		}
		pts, err := tp.Run(ctx)
		if err != nil {
			t.Fatalf("throughput: %v", err)
		}
		results := map[string]int{}
		for _, pt := range pts {
			seen[pt.Measurement] = true
			checkPoint(t, table, pt)
			results[fmt.Sprint(pt.Fields["result"])]++
		}
		return results
	}
	if got := runTP(tc); got["ok"] != 4 {
		t.Errorf("throughput results %v, want 4 ok", got)
	}
	tc.DailyBudget, tc.SingleStream = 1<<20, false
	if got := runTP(tc); got["ok"] != 1 || got["budget"] != 1 {
		t.Errorf("throughput results %v, want the download run and the upload skipped for the budget", got)
	}
	seen["agent"] = true
	checkPoint(t, table, health.Point(time.Now(), "dev", spool.Stats{}, ship.Stats{}, schedule.Stats{}))
	for _, m := range []string{"dns", "http", "host", "reachability", "wan_path", "throughput"} {
		if !seen[m] {
			t.Errorf("no %s points were produced", m)
		}
	}
}

// TestSNMPProbeKeepsTheMeasurementContract runs the snmp probe twice (the
// second run has the counter rates) against every recording in
// agent/snmp/testdata/snmprec served by a real snmpsimd on loopback, plus a
// device that never answers, and checks every point it emits.
func TestSNMPProbeKeepsTheMeasurementContract(t *testing.T) {
	testenv.RequireIntegration(t, "runs the snmp probe against snmpsimd on loopback")
	testenv.RequireRoot(t) // snmpsimd drops privileges to nobody
	snmpsimd := testenv.RequireBinary(t, "snmpsimd")
	table := standards.Measurements()

	// snmpsimd runs as nobody: its data must be readable and its cache
	// writable by nobody, which t.TempDir (0700) is not.
	root, err := os.MkdirTemp("", "probity-contract-snmpsim-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(root)
	data, cache := filepath.Join(root, "data"), filepath.Join(root, "cache")
	for _, dir := range []string{data, cache} {
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(cache, 0o777); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join("..", "..", "agent", "snmp", "testdata", "snmprec", "*.snmprec"))
	if len(files) == 0 {
		t.Fatal("no snmprec recordings found")
	}
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	endpoint := pc.LocalAddr().String()
	pc.Close()
	cfg := snmpprobe.Defaults
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(data, filepath.Base(f)), b, 0o644); err != nil {
			t.Fatal(err)
		}
		name := strings.TrimSuffix(filepath.Base(f), ".snmprec")
		cfg.Devices = append(cfg.Devices, snmpprobe.Device{Target: snmp.Target{Name: name, Address: endpoint, Community: name, Timeout: 3 * time.Second}})
	}
	dead, err := net.ListenPacket("udp4", "127.0.0.1:0") // reads nothing, answers nothing
	if err != nil {
		t.Fatal(err)
	}
	defer dead.Close()
	cfg.Devices = append(cfg.Devices, snmpprobe.Device{Target: snmp.Target{Name: "dead", Address: dead.LocalAddr().String(),
		Community: "public", Timeout: 300 * time.Millisecond, Retries: -1}, Role: "core"})

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var logs bytes.Buffer
	sim := exec.CommandContext(ctx, snmpsimd, "--data-dir="+data, "--cache-dir="+cache,
		"--agent-udpv4-endpoint="+endpoint, "--process-user=nobody", "--process-group=nogroup", "--logging-method=null")
	sim.Stdout, sim.Stderr = &logs, &logs
	if err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cancel()
		_ = sim.Wait()
		if t.Failed() {
			t.Logf("snmpsimd output:\n%s", logs.String())
		}
	}()
	ready, err := snmp.NewClient(snmp.Target{Name: "ready", Address: endpoint, Community: "ups-on-battery", Timeout: time.Second, Retries: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer ready.Close()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if _, err := ready.Get(ctx, []string{"1.3.6.1.2.1.1.5.0"}); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("snmpsimd did not answer on %s", endpoint)
		}
	}

	p, err := snmpprobe.New(cfg, probe.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	seen := map[string]bool{}
	for run := range 2 {
		if run > 0 {
			time.Sleep(time.Second) // counters need time between samples
		}
		pts, err := p.Run(ctx)
		if err != nil {
			t.Fatalf("snmp: %v", err)
		}
		for _, pt := range pts {
			seen[pt.Measurement] = true
			checkPoint(t, table, pt)
		}
	}
	for _, m := range []string{"snmp_device", "snmp_if", "snmp_poe", "snmp_poe_port", "wifi_ap", "snmp_entity", "snmp_psu",
		"snmp_ups", "snmp_lldp", "snmp_stp", "snmp_vrrp"} {
		if !seen[m] {
			t.Errorf("no %s points were produced", m)
		}
	}
}

func checkPoint(t *testing.T, table standards.Table, p point.Point) {
	t.Helper()
	m, ok := table.Lookup(p.Measurement)
	if !ok {
		t.Errorf("measurement %s is not in measurements.yaml", p.Measurement)
		return
	}
	for k := range p.Tags {
		if _, ok := table.Tag(m, k); !ok {
			t.Errorf("%s: tag %s is not declared", p.Measurement, k)
		}
	}
	for k, v := range p.Fields {
		f, ok := m.Field(k)
		if !ok {
			t.Errorf("%s: field %s is not declared", p.Measurement, k)
			continue
		}
		var got string
		switch v.(type) {
		case float64:
			got = standards.TypeFloat
		case int64:
			got = standards.TypeInt
		case bool:
			got = standards.TypeBool
		case string:
			got = standards.TypeString
		}
		if got != f.Type {
			t.Errorf("%s: field %s is %T, declared %s", p.Measurement, k, v, f.Type)
		}
	}
}

// TestFilteringProbeKeepsTheMeasurementContract runs the filtering probe
// with the shipped suite against a loopback resolver: the allow-list names
// answer 127.0.0.1 (nothing listens on 80 or 443 there, so they read as
// tcp_reset), Google answers its SafeSearch name, everything else gets
// NXDOMAIN. No packet leaves loopback.
func TestFilteringProbeKeepsTheMeasurementContract(t *testing.T) {
	testenv.RequireIntegration(t, "runs the filtering probe against a loopback resolver")
	table := standards.Measurements()
	recs := []string{
		"www.google.com. 300 IN CNAME forcesafesearch.google.com.",
		"forcesafesearch.google.com. 300 IN A 216.239.38.120",
		"mask.icloud.com. 300 IN A 127.0.0.1",
	}
	for _, n := range []string{"www.gov.uk", "www.nhs.uk", "en.wikipedia.org"} {
		recs = append(recs, n+". 300 IN A 127.0.0.1")
	}
	resolver := testenv.StartDNS(t, recs)
	c := filtering.Defaults
	c.Resolver, c.AllowPrivate, c.Timeout = resolver.Addr, true, 2*time.Second
	c.Profiles = []filtering.Profile{{Name: "student"}, {Name: "staff"}}
	p, err := filtering.New(c, probe.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	pts, err := p.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]map[string]bool{}
	for _, pt := range pts {
		checkPoint(t, table, pt)
		if seen[pt.Measurement] == nil {
			seen[pt.Measurement] = map[string]bool{}
		}
		seen[pt.Measurement][fmt.Sprint(pt.Fields["outcome"], pt.Fields["method"])] = true
	}
	for m, want := range map[string][]string{"filter": {"blocked<nil>", "allowed<nil>"}, "safesearch": {"<nil>dns", "<nil>blocked"}} {
		for _, w := range want {
			if !seen[m][w] {
				t.Errorf("%s: no point with %s (saw %v)", m, w, seen[m])
			}
		}
	}
}
