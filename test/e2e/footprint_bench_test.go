package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/probity-edu/probity/collector/store"
	"github.com/probity-edu/probity/collector/store/sqlite"
	"github.com/probity-edu/probity/internal/testenv"
)

const (
	footprintStartMark = "<!-- footprint:begin -->"
	footprintEndMark   = "<!-- footprint:end -->"
	// footprintTelegrafVersion is the Telegraf the agent is compared with,
	// built with only the plugins the comparison needs (as a school would
	// with a custom build, and smaller than the full release).
	footprintTelegrafVersion = "v1.37.2"
	footprintTelegrafTags    = "custom,inputs.snmp,inputs.ping,inputs.dns_query,inputs.http_response,inputs.cpu,inputs.mem,inputs.disk,outputs.influxdb_v2"
	footprintSample          = 5 * time.Second
)

// footprintDevices are the simulated SNMP devices: recordings of
// agent/snmp/testdata/snmprec, by file name (their v2c community).
var footprintDevices = []struct{ name, community, role string }{
	{"access-sw", "access-switch", "edge"},
	{"core-sw", "core-switch", "core"},
	{"wlc", "cisco-wlc", "wlc"},
}

// TestBenchFootprint is `make bench-footprint`, not a test: the agent and
// a Telegraf built with only the needed plugins run the same school's
// checks side by side for PROBITY_BENCH_MINUTES (default 5) against
// loopback peers, both sending to a real collector, and it writes their
// memory, CPU and binary size into docs/benchmarks.md. The target (agent
// at most 1/3 of Telegraf's memory and 1/2 of its CPU) is reported, not
// asserted; that both sides measured and delivered is asserted.
func TestBenchFootprint(t *testing.T) {
	if os.Getenv("PROBITY_BENCH_FOOTPRINT") == "" {
		t.Skip("a benchmark: run it with make bench-footprint")
	}
	testenv.RequireRoot(t) // snmpsimd, and raw ICMP for both
	minutes := 5.0
	if v, err := strconv.ParseFloat(os.Getenv("PROBITY_BENCH_MINUTES"), 64); err == nil && v > 0 {
		minutes = v
	}
	telegraf := footprintTelegraf(t)
	var recs []string
	for _, d := range footprintDevices {
		recs = append(recs, filepath.Join(repoRoot(), "agent", "snmp", "testdata", "snmprec", d.community+".snmprec"))
	}
	sim := testenv.StartSnmpsim(t, recs)
	simHost, simPort, _ := strings.Cut(sim, ":")

	// The school's resolver and intranet: data only, nothing leaves loopback.
	names := []string{"www.google.com", "www.youtube.com", "www.bing.com", "intranet.school.example"}
	dnsSrv := testenv.StartDNS(t, []string{
		"www.google.com. 300 IN CNAME forcesafesearch.google.com.", "forcesafesearch.google.com. 300 IN A 216.239.38.120",
		"www.youtube.com. 300 IN CNAME restrict.youtube.com.", "restrict.youtube.com. 300 IN A 216.239.38.120",
		"www.bing.com. 300 IN CNAME strict.bing.com.", "strict.bing.com. 300 IN A 204.79.197.220",
		"intranet.school.example. 300 IN A 127.0.0.1",
	})
	dnsHost, dnsPort, _ := strings.Cut(dnsSrv.Addr, ":")
	page := strings.Repeat("<p>a school intranet page</p>\n", 300) // ~9 KB
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, page)
	}))
	t.Cleanup(web.Close)
	var urls []string
	for _, p := range []string{"/", "/login", "/moodle/", "/mis/"} {
		urls = append(urls, web.URL+p)
	}
	pings := []string{"127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4"}

	// The collector, the agent enrolled, Telegraf with a credential.
	e := &env{dir: t.TempDir()}
	e.agentBin, e.collectorBin = binaries(t)
	port := freePort(t)
	e.base = fmt.Sprintf("http://127.0.0.1:%d", port)
	ccfg := filepath.Join(e.dir, "collector.yaml")
	writeFile(t, ccfg, fmt.Sprintf("listen: 127.0.0.1:%d\ndata_dir: %s\nlog: {level: warn, format: json}\n", port, filepath.Join(e.dir, "collector")))
	e.collectorArgs = []string{"--config", ccfg}
	e.startCollector(t)
	cli := func(args ...string) string { return run(t, e.collectorBin, append(args, e.collectorArgs...)...) }
	cli("trust", "add", "E2E Trust")
	cli("site", "add", "--trust", "E2E Trust", "--name", "E2E Academy", "--urn", "123456", "--phase", "secondary", "--id", "e2e-academy")
	token := strings.TrimSpace(cli("agent", "token", "--site", "e2e-academy"))
	cred := strings.TrimSpace(cli("agent", "add", "--site", "e2e-academy", "--hostname", "telegraf-01"))

	e.agentConfig = filepath.Join(e.dir, "agent.yaml")
	writeFile(t, e.agentConfig, footprintAgentConfig(filepath.Join(e.dir, "agent"), pings, dnsSrv.Addr, names, urls, sim))
	if out := run(t, e.agentBin, "enrol", "--config", e.agentConfig, "--collector", e.base, "--token", token); !strings.Contains(out, "Enrolled as agent") {
		t.Fatalf("enrol output: %s", out)
	}
	tcfg := filepath.Join(e.dir, "telegraf.conf")
	writeFile(t, tcfg, footprintTelegrafConfig(e.base, cred, pings, dnsHost, dnsPort, names, urls, simHost, simPort))

	// The floor ships to a sink that reads and drops what it is sent.
	floorBin := footprintFloor(t)
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(sink.Close)

	begin := time.Now()
	agent := start(t, "probity-agent", e.agentBin, "run", "--config", e.agentConfig)
	tg := start(t, "telegraf", telegraf, "--config", tcfg)
	floor := start(t, "gofloor", floorBin, sink.URL)
	tools := []*footprintTool{
		{name: "probity-agent", bin: e.agentBin, p: agent},
		{name: "Telegraf " + footprintTelegrafVersion, bin: telegraf, p: tg},
		{name: "Go floor (`test/e2e/testdata/gofloor`)", bin: floorBin, p: floor},
	}
	runFor := time.Duration(minutes * float64(time.Minute))
	steadyFrom := begin.Add(time.Minute)
	tick := time.NewTicker(footprintSample)
	defer tick.Stop()
	for now := time.Now(); now.Sub(begin) < runFor; now = <-tick.C {
		for _, tool := range tools {
			select {
			case <-tool.p.done:
				t.Fatalf("%s exited during the run:\n%s", tool.name, tool.p.output())
			default:
			}
			pid := tool.p.cmd.Process.Pid
			rss := procStatusKiB(t, pid, "VmRSS:")
			if now.After(steadyFrom) {
				tool.steady = append(tool.steady, float64(rss))
				tool.anon = append(tool.anon, float64(procStatusKiB(t, pid, "RssAnon:")))
				if tool.cpuAt1 == 0 {
					tool.cpuAt1, tool.at1 = procCPU(t, pid), now
				}
			}
		}
	}
	elapsed := time.Since(begin)
	for _, tool := range tools {
		pid := tool.p.cmd.Process.Pid
		tool.hwm = hwm(t, pid)
		tool.cpu = procCPU(t, pid)
		tool.cpuPerHour = tool.cpu / elapsed.Hours()
		if tool.cpuAt1 > 0 {
			tool.steadyCPUPerHour = (tool.cpu - tool.cpuAt1) / time.Since(tool.at1).Hours()
		}
		st, err := os.Stat(tool.bin)
		if err != nil {
			t.Fatal(err)
		}
		tool.size = st.Size()
	}
	// Both must have measured and delivered, or the comparison means
	// nothing. Telegraf flushes every 10 s; give it one more.
	time.Sleep(12 * time.Second)
	agent.stop(t)
	tg.stop(t)
	floor.stop(t)
	footprintDelivered(t, filepath.Join(e.dir, "collector", "probity.db"), begin)

	tbl := footprintTable(tools, elapsed)
	if os.Getenv("PROBITY_BENCH_NOWRITE") != "" {
		t.Logf("PROBITY_BENCH_NOWRITE set: docs/benchmarks.md left alone\n%s", tbl)
		return
	}
	writeFootprintTable(t, tbl)
}

// footprintTool is one side of the comparison and what was measured of it.
type footprintTool struct {
	name, bin string
	p         *proc
	steady    []float64 // VmRSS samples after the first minute, KiB
	// anon are RssAnon samples after the first minute, KiB: the private
	// memory, without the executable's pages (shared, clean, evictable
	// page cache, which RSS counts and a binary's size mostly decides).
	anon             []float64
	hwm              int64   // KiB
	cpu              float64 // CPU seconds over the whole run
	cpuAt1           float64 // CPU seconds at the end of the first minute
	at1              time.Time
	cpuPerHour       float64
	steadyCPUPerHour float64
	size             int64
}

// footprintFloor builds test/e2e/testdata/gofloor as the agent is built
// here (plain go build, CGO off) and returns its path.
func footprintFloor(t *testing.T) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "gofloor")
	if err := goBuild(dst, "./test/e2e/testdata/gofloor", nil); err != nil {
		t.Fatal(err)
	}
	return dst
}

// footprintTelegraf returns the Telegraf to compare with, building it from
// the Go module proxy into CacheDir()/bin/telegraf-footprint the first
// time (about a minute on 2 cores). The plain CacheDir()/bin/telegraf of
// scripts/setup-test.sh lacks these plugins and is left alone.
func footprintTelegraf(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("PROBITY_TELEGRAF_FOOTPRINT"); p != "" {
		return p
	}
	dst := filepath.Join(testenv.CacheDir(), "bin", "telegraf-footprint")
	if _, err := os.Stat(dst); err == nil {
		return dst
	}
	tmp := t.TempDir()
	t.Logf("building Telegraf %s with %s (once; cached in %s)", footprintTelegrafVersion, footprintTelegrafTags, dst)
	cmd := exec.Command("go", "install", "-tags", footprintTelegrafTags, "github.com/influxdata/telegraf/cmd/telegraf@"+footprintTelegrafVersion)
	cmd.Dir = tmp // outside this module: @version builds ignore it anyway
	cmd.Env = append(os.Environ(), "GOBIN="+tmp)
	if out, err := cmd.CombinedOutput(); err != nil {
		testenv.Unavailable(t, "building Telegraf %s: %v\n%s", footprintTelegrafVersion, err, out)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(tmp, "telegraf"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst+".tmp", b, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(dst+".tmp", dst); err != nil {
		t.Fatal(err)
	}
	return dst
}

// footprintAgentConfig is the school's configuration for the agent:
// ping 4 targets every 10 s, DNS 4 names every 30 s, HTTP 4 targets every
// 30 s, host every 60 s, SNMP 3 devices every 60 s. Everything else is
// the shipped default (4 probes at once, 16 SNMP workers, shipping every
// 10 s, its own health point every minute).
func footprintAgentConfig(state string, pings []string, resolver string, names, urls []string, sim string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "state_dir: %s\nlog: {level: warn, format: json}\nprobes:\n", state)
	b.WriteString("  - name: gateway\n    kind: ping\n    interval: 10s\n    ping:\n      count: 5\n      interval: 200ms\n      mode: privileged\n      targets:\n")
	for _, p := range pings {
		fmt.Fprintf(&b, "        - {host: %s}\n", p)
	}
	fmt.Fprintf(&b, "  - name: dns\n    kind: dns\n    interval: 30s\n    dns:\n      resolvers: [\"%s\"]\n      timeout: 2s\n      queries:\n", resolver)
	for _, n := range names {
		fmt.Fprintf(&b, "        - {name: %s, type: A}\n", n)
	}
	b.WriteString("  - name: web\n    kind: http\n    interval: 30s\n    http:\n      timeout: 10s\n      targets:\n")
	for i, u := range urls {
		fmt.Fprintf(&b, "        - {url: \"%s\", name: site-%d}\n", u, i)
	}
	b.WriteString("  - name: host\n    kind: host\n    interval: 60s\n    host: {disk_paths: [\"/\"]}\n")
	b.WriteString("  - name: network\n    kind: snmp\n    interval: 60s\n    snmp:\n      devices:\n")
	for _, d := range footprintDevices {
		fmt.Fprintf(&b, "        - {name: %s, address: \"%s\", community: %s, role: %s}\n", d.name, sim, d.community, d.role)
	}
	return b.String()
}

// tfField is one Telegraf snmp field: a numeric OID (no MIB files are
// installed, so every field is named here).
type tfField struct {
	name, oid string
	tag       bool
}

// The columns the agent's profiles read (agent/snmp/profiles: generic for
// every device, cisco-switch on the access switch, cisco-wlc on the WLC),
// as Telegraf tables. Telegraf cannot join across tables with different
// indexes (the agent's lookups: ifName on PoE ports, AP names on radios),
// so those are left as separate tables.
var (
	tfSystem = []tfField{
		{"sysDescr", "1.3.6.1.2.1.1.1.0", false}, {"sysObjectID", "1.3.6.1.2.1.1.2.0", false},
		{"sysUpTime", "1.3.6.1.2.1.1.3.0", false}, {"sysName", "1.3.6.1.2.1.1.5.0", true},
		{"sysLocation", "1.3.6.1.2.1.1.6.0", false},
		{"dot1dStpProtocolSpecification", "1.3.6.1.2.1.17.2.1.0", false}, {"dot1dStpVersion", "1.3.6.1.2.1.17.2.16.0", false},
		{"dot1dStpTopChanges", "1.3.6.1.2.1.17.2.4.0", false},
	}
	tfGeneric = map[string][]tfField{
		"snmp_if": {
			{"ifName", "1.3.6.1.2.1.31.1.1.1.1", true}, {"ifDescr", "1.3.6.1.2.1.2.2.1.2", false}, {"ifAlias", "1.3.6.1.2.1.31.1.1.1.18", false},
			{"ifType", "1.3.6.1.2.1.2.2.1.3", false}, {"ifAdminStatus", "1.3.6.1.2.1.2.2.1.7", false}, {"ifOperStatus", "1.3.6.1.2.1.2.2.1.8", false},
			{"ifHighSpeed", "1.3.6.1.2.1.31.1.1.1.15", false}, {"ifSpeed", "1.3.6.1.2.1.2.2.1.5", false},
			{"ifHCInOctets", "1.3.6.1.2.1.31.1.1.1.6", false}, {"ifHCOutOctets", "1.3.6.1.2.1.31.1.1.1.10", false},
			{"ifInOctets", "1.3.6.1.2.1.2.2.1.10", false}, {"ifOutOctets", "1.3.6.1.2.1.2.2.1.16", false},
			{"ifInErrors", "1.3.6.1.2.1.2.2.1.14", false}, {"ifOutErrors", "1.3.6.1.2.1.2.2.1.20", false},
			{"ifInDiscards", "1.3.6.1.2.1.2.2.1.13", false}, {"ifOutDiscards", "1.3.6.1.2.1.2.2.1.19", false},
			{"dot3StatsDuplexStatus", "1.3.6.1.2.1.10.7.2.1.19", false},
		},
		"snmp_cpu":     {{"hrProcessorLoad", "1.3.6.1.2.1.25.3.3.1.2", false}},
		"snmp_storage": {{"hrStorageType", "1.3.6.1.2.1.25.2.3.1.2", false}, {"hrStorageSize", "1.3.6.1.2.1.25.2.3.1.5", false}, {"hrStorageUsed", "1.3.6.1.2.1.25.2.3.1.6", false}},
		"snmp_entity": {
			{"entPhysicalName", "1.3.6.1.2.1.47.1.1.1.1.7", true}, {"entPhysicalDescr", "1.3.6.1.2.1.47.1.1.1.1.2", false},
			{"entPhysicalClass", "1.3.6.1.2.1.47.1.1.1.1.5", false}, {"entPhysicalFirmwareRev", "1.3.6.1.2.1.47.1.1.1.1.9", false},
			{"entPhysicalSoftwareRev", "1.3.6.1.2.1.47.1.1.1.1.10", false}, {"entPhysicalSerialNum", "1.3.6.1.2.1.47.1.1.1.1.11", false},
			{"entPhysicalModelName", "1.3.6.1.2.1.47.1.1.1.1.13", false}, {"entStateOper", "1.3.6.1.2.1.131.1.1.1.3", false},
		},
		"snmp_poe":      {{"pethMainPsePower", "1.3.6.1.2.1.105.1.3.1.1.2", false}, {"pethMainPseOperStatus", "1.3.6.1.2.1.105.1.3.1.1.3", false}, {"pethMainPseConsumptionPower", "1.3.6.1.2.1.105.1.3.1.1.4", false}},
		"snmp_poe_port": {{"pethPsePortDetectionStatus", "1.3.6.1.2.1.105.1.1.1.6", false}},
		"snmp_lldp":     {{"lldpRemSysName", "1.0.8802.1.1.2.1.4.1.1.9", true}, {"lldpRemPortId", "1.0.8802.1.1.2.1.4.1.1.7", false}, {"lldpRemSysCapEnabled", "1.0.8802.1.1.2.1.4.1.1.12", false}},
		"snmp_lldp_loc": {{"lldpLocPortId", "1.0.8802.1.1.2.1.3.7.1.3", true}},
		"snmp_vrrp":     {{"vrrpOperState", "1.3.6.1.2.1.68.1.3.1.3", false}, {"vrrpOperPriority", "1.3.6.1.2.1.68.1.3.1.5", false}},
	}
	tfCiscoSwitch = map[string][]tfField{
		"snmp_cisco_cpu":      {{"cpmCPUTotal5minRev", "1.3.6.1.4.1.9.9.109.1.1.1.1.8", false}},
		"snmp_cisco_temp":     {{"ciscoEnvMonTemperatureStatusValue", "1.3.6.1.4.1.9.9.13.1.3.1.3", false}},
		"snmp_cisco_psu":      {{"ciscoEnvMonSupplyStatusDescr", "1.3.6.1.4.1.9.9.13.1.5.1.2", true}, {"ciscoEnvMonSupplyState", "1.3.6.1.4.1.9.9.13.1.5.1.3", false}},
		"snmp_cisco_poe_port": {{"cpeExtPsePortPwrAllocated", "1.3.6.1.4.1.9.9.402.1.2.1.7", false}, {"cpeExtPsePortPwrConsumption", "1.3.6.1.4.1.9.9.402.1.2.1.9", false}, {"cpeExtPsePortEntPhyIndex", "1.3.6.1.4.1.9.9.402.1.2.1.11", false}},
	}
	tfCiscoWLC = map[string][]tfField{
		"snmp_wlc_ap":    {{"bsnAPName", "1.3.6.1.4.1.14179.2.2.1.1.3", true}, {"bsnAPOperationStatus", "1.3.6.1.4.1.14179.2.2.1.1.6", false}, {"bsnAPModel", "1.3.6.1.4.1.14179.2.2.1.1.16", false}, {"bsnAPSerialNumber", "1.3.6.1.4.1.14179.2.2.1.1.17", false}},
		"snmp_wlc_radio": {{"bsnAPIfOperStatus", "1.3.6.1.4.1.14179.2.2.2.1.12", false}, {"bsnAPIfPhyChannelNumber", "1.3.6.1.4.1.14179.2.2.2.1.4", false}, {"bsnApIfNoOfUsers", "1.3.6.1.4.1.14179.2.2.2.1.15", false}},
		"snmp_wlc_noise": {{"bsnAPIfDBNoisePower", "1.3.6.1.4.1.14179.2.2.15.1.21", false}},
		"snmp_wlc_util":  {{"bsnAPIfLoadChannelUtilization", "1.3.6.1.4.1.14179.2.2.13.1.3", false}},
	}
)

// footprintTelegrafConfig is the same school's checks for Telegraf, each
// input's measurement prefixed telegraf_ (docs/telegraf.md), sending to
// the collector's InfluxDB v2 write with the credential of `agent add`.
func footprintTelegrafConfig(collector, cred string, pings []string, dnsHost, dnsPort string, names, urls []string, simHost, simPort string) string {
	q := func(xs []string) string {
		var s []string
		for _, x := range xs {
			s = append(s, strconv.Quote(x))
		}
		return "[" + strings.Join(s, ", ") + "]"
	}
	var b strings.Builder
	fmt.Fprintf(&b, `[agent]
  interval = "10s"
  flush_interval = "10s"
  hostname = "telegraf-01"
  quiet = true

[[outputs.influxdb_v2]]
  urls = [%q]
  token = %q
  organization = "e2e-academy"
  bucket = "probity"
  content_encoding = "gzip"

[[inputs.ping]]
  name_prefix = "telegraf_"
  interval = "10s"
  method = "native"
  urls = %s
  count = 5
  ping_interval = 0.2
  timeout = 2.0

[[inputs.dns_query]]
  name_prefix = "telegraf_"
  interval = "30s"
  servers = [%q]
  port = %s
  domains = %s
  record_type = "A"
  timeout = "2s"

[[inputs.http_response]]
  name_prefix = "telegraf_"
  interval = "30s"
  urls = %s
  response_timeout = "10s"
  method = "GET"

[[inputs.cpu]]
  name_prefix = "telegraf_"
  interval = "60s"
  percpu = false
  totalcpu = true

[[inputs.mem]]
  name_prefix = "telegraf_"
  interval = "60s"

[[inputs.disk]]
  name_prefix = "telegraf_"
  interval = "60s"
  mount_points = ["/"]
`, collector, cred, q(pings), dnsHost, dnsPort, q(names), q(urls))
	for _, d := range footprintDevices {
		tables := []map[string][]tfField{tfGeneric}
		switch d.role {
		case "edge":
			tables = append(tables, tfCiscoSwitch)
		case "wlc":
			tables = append(tables, tfCiscoWLC)
		}
		fmt.Fprintf(&b, `
[[inputs.snmp]]
  name_prefix = "telegraf_"
  interval = "60s"
  agents = ["udp://%s:%s"]
  version = 2
  community = %q
  timeout = "2s"
  retries = 1
  max_repetitions = 25
  name = "snmp"
  [inputs.snmp.tags]
    device = %q
`, simHost, simPort, d.community, d.name)
		for _, f := range tfSystem {
			fmt.Fprintf(&b, "  [[inputs.snmp.field]]\n    name = %q\n    oid = %q\n    is_tag = %v\n", f.name, "."+f.oid, f.tag)
		}
		for _, set := range tables {
			var names []string
			for n := range set {
				names = append(names, n)
			}
			sort.Strings(names)
			for _, n := range names {
				fmt.Fprintf(&b, "  [[inputs.snmp.table]]\n    name = %q\n    inherit_tags = [\"sysName\"]\n", n)
				for _, f := range set[n] {
					fmt.Fprintf(&b, "    [[inputs.snmp.table.field]]\n      name = %q\n      oid = %q\n      is_tag = %v\n", f.name, "."+f.oid, f.tag)
				}
			}
		}
	}
	return b.String()
}

// footprintDelivered checks, in the collector's store, that each side's
// checks ran, succeeded and arrived: the comparison is void otherwise.
func footprintDelivered(t *testing.T, dbPath string, from time.Time) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), dbPath, sqlite.Options{})
	if err != nil {
		t.Fatalf("opening the collector's store: %v", err)
	}
	defer st.Close()
	type check struct {
		measurement, field string
		ok                 func(any) bool
	}
	isTrue := func(v any) bool { return v == true }
	isZero := func(v any) bool { f, ok := footprintNum(v); return ok && f == 0 }
	isStr := func(s string) func(any) bool { return func(v any) bool { return v == s } }
	isNum := func(v any) bool { _, ok := footprintNum(v); return ok }
	checks := []check{
		// The agent's own.
		{"ping", "loss_pct", isZero},
		{"dns", "rcode", isStr("NOERROR")},
		{"http", "status", func(v any) bool { f, ok := footprintNum(v); return ok && f == 200 }},
		{"host", "cpu_pct", isNum},
		{"snmp_device", "reachable", isTrue},
		{"snmp_if", "oper_up", func(v any) bool { _, ok := v.(bool); return ok }},
		{"wifi_ap", "radio_up", func(v any) bool { _, ok := v.(bool); return ok }},
		// Telegraf's.
		{"telegraf_ping", "percent_packet_loss", isZero},
		{"telegraf_dns_query", "rcode_value", isZero},
		{"telegraf_http_response", "result_type", isStr("success")},
		{"telegraf_cpu", "usage_idle", isNum},
		{"telegraf_mem", "used_percent", isNum},
		{"telegraf_disk", "used_percent", isNum},
		{"telegraf_snmp", "sysUpTime", isNum},
		{"telegraf_snmp_if", "ifHCInOctets", isNum},
		{"telegraf_snmp_wlc_ap", "bsnAPOperationStatus", isNum},
	}
	for _, c := range checks {
		pts, err := st.Points(context.Background(), store.PointQuery{Site: "e2e-academy", Measurement: c.measurement, From: from, To: time.Now()})
		if err != nil {
			t.Fatalf("reading %s: %v", c.measurement, err)
		}
		// Only points that carry the field count: a wifi_ap point is an
		// AP or a radio, and an interface without 64-bit counters has no
		// ifHCInOctets.
		good, with := 0, 0
		for _, p := range pts {
			if v, ok := p.Fields[c.field]; ok {
				with++
				if c.ok(v) {
					good++
				}
			}
		}
		t.Logf("stored %s: %d points, %d with %s, %d of them good", c.measurement, len(pts), with, c.field, good)
		if good == 0 || good < with*9/10 {
			var sample any
			if len(pts) > 0 {
				sample = pts[0].Fields
			}
			t.Errorf("%s: %d of %d points with %s have a good one (first: %v)", c.measurement, good, with, c.field, sample)
		}
	}
}

// footprintNum is a stored numeric field, whichever type it came back as.
func footprintNum(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int64:
		return float64(x), true
	case uint64:
		return float64(x), true
	}
	return 0, false
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s[len(s)/2]
}

func footprintTable(tools []*footprintTool, elapsed time.Duration) string {
	a, tg, floor := tools[0], tools[1], tools[2]
	mib := func(kib float64) string { return fmt.Sprintf("%.1f", kib/1024) }
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", footprintStartMark)
	fmt.Fprintf(&b, "Run on %s, %s/%s, %d CPUs, all three for %.1f minutes at the same time; RSS sampled every %s from /proc/<pid>/status; "+
		"steady RSS is the median of the samples after the first minute, private memory the median of RssAnon (RSS less the executable's and other files' pages); CPU is utime + stime from /proc/<pid>/stat.\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 MST"), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), elapsed.Minutes(), footprintSample)
	b.WriteString("| | peak RSS (MiB) | steady RSS (MiB) | steady private memory (MiB) | CPU s per hour (whole run) | CPU s per hour (after the first minute) | binary (MiB) |\n")
	b.WriteString("|---|---|---|---|---|---|---|\n")
	for _, x := range tools {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %.1f | %.1f | %.1f |\n", x.name, mib(float64(x.hwm)), mib(median(x.steady)), mib(median(x.anon)),
			x.cpuPerHour, x.steadyCPUPerHour, float64(x.size)/(1<<20))
	}
	ratio := func(x, y float64) string {
		if y == 0 {
			return "-"
		}
		return fmt.Sprintf("%.2f", x/y)
	}
	for _, x := range []*footprintTool{a, floor} {
		name := "agent / Telegraf"
		if x == floor {
			name = "floor / Telegraf"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s |\n", name,
			ratio(float64(x.hwm), float64(tg.hwm)), ratio(median(x.steady), median(tg.steady)), ratio(median(x.anon), median(tg.anon)),
			ratio(x.cpuPerHour, tg.cpuPerHour), ratio(x.steadyCPUPerHour, tg.steadyCPUPerHour), ratio(float64(x.size), float64(tg.size)))
	}
	memOK := float64(a.hwm) <= float64(tg.hwm)/3 && median(a.steady) <= median(tg.steady)/3
	cpuOK := a.steadyCPUPerHour <= tg.steadyCPUPerHour/2
	fmt.Fprintf(&b, "\nTarget (issue 9): the agent at most 1/3 of Telegraf's memory (peak and steady RSS): **%s**; "+
		"at most 1/2 of its CPU (after the first minute): **%s**.\n", snmpVerdict(memOK), snmpVerdict(cpuOK))
	fmt.Fprintf(&b, "%s\n", footprintEndMark)
	return b.String()
}

func writeFootprintTable(t *testing.T, table string) {
	t.Helper()
	writeBenchBlock(t, footprintStartMark, footprintEndMark, table)
}
