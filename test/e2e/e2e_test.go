package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/influxdata/line-protocol/v2/lineprotocol"

	"github.com/probity-edu/probity/agent/spool"
	"github.com/probity-edu/probity/collector/store"
	"github.com/probity-edu/probity/collector/store/sqlite"
	"github.com/probity-edu/probity/internal/point"
	"github.com/probity-edu/probity/internal/testenv"
)

// env is one collector with a school and an enrolled agent configuration.
type env struct {
	agentBin, collectorBin string
	dir                    string
	collectorArgs          []string
	base                   string
	agentConfig            string
	collector              *proc
}

func setup(t *testing.T) *env {
	t.Helper()
	testenv.RequireIntegration(t, "end-to-end test builds and runs both binaries")
	e := &env{dir: t.TempDir()}
	e.agentBin, e.collectorBin = binaries(t)
	port := freePort(t)
	e.base = fmt.Sprintf("http://127.0.0.1:%d", port)
	ccfg := filepath.Join(e.dir, "collector.yaml")
	writeFile(t, ccfg, fmt.Sprintf(`listen: 127.0.0.1:%d
data_dir: %s
log: {level: debug, format: json}
jobs: {score_every: 1s, rollup_every: 2s, prune_every: 1h}
`, port, filepath.Join(e.dir, "collector")))
	e.collectorArgs = []string{"--config", ccfg}
	e.startCollector(t)

	run(t, e.collectorBin, append([]string{"trust", "add", "E2E Trust"}, e.collectorArgs...)...)
	run(t, e.collectorBin, append([]string{"site", "add", "--trust", "E2E Trust", "--name", "E2E Academy", "--urn", "123456", "--phase", "secondary", "--id", "e2e-academy"}, e.collectorArgs...)...)
	token := strings.TrimSpace(run(t, e.collectorBin, append([]string{"agent", "token", "--site", "e2e-academy"}, e.collectorArgs...)...))

	resolver := schoolResolver(t)
	pingProbe := ""
	if os.Geteuid() == 0 {
		pingProbe = `
  - name: loopback
    kind: ping
    interval: 1s
    ping: {targets: [{host: 127.0.0.1, role: gateway}], count: 3, interval: 50ms}`
	}
	e.agentConfig = filepath.Join(e.dir, "agent.yaml")
	writeFile(t, e.agentConfig, fmt.Sprintf(`state_dir: %s
log: {level: debug, format: json}
schedule: {stats_interval: 1s}
ship: {min_backoff: 200ms, max_backoff: 1s, batch_every: 200ms}
probes:%s
  - name: safesearch
    kind: dns
    interval: 1s
    dns:
      resolvers: ["%s"]
      queries:
        - {name: www.google.com}
        - {name: www.youtube.com}
        - {name: www.bing.com}
        - {name: use-application-dns.net}
      timeout: 1s
  # The shipped filtering suite against the loopback school resolver,
  # which answers NXDOMAIN for every name but the SafeSearch ones: every
  # must-block and circumvention check is blocked by DNS, SafeSearch is
  # enforced by DNS, and no packet leaves loopback.
  - name: filtering
    kind: filtering
    interval: 2s
    filtering: {resolver: "%[3]s", timeout: 1s}
  - name: cloud
    kind: http
    interval: 1s
    http: {targets: [{url: "%s/healthz", name: collector-health, role: cloud}], timeout: 2s}
  - name: host
    kind: host
    interval: 2s
`, filepath.Join(e.dir, "agent"), pingProbe, resolver, e.base))

	out := run(t, e.agentBin, "enrol", "--no-check", "--config", e.agentConfig, "--collector", e.base, "--token", token)
	if !strings.Contains(out, "Enrolled as agent") {
		t.Fatalf("enrol output: %s", out)
	}
	cred := filepath.Join(e.dir, "agent", "credential.json")
	if st, err := os.Stat(cred); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("credential file %s: %v (mode %v), want mode 0600", cred, err, st)
	}
	// The token is single use.
	var stderr strings.Builder
	again := execOut(e.agentBin, &stderr, "enrol", "--no-check", "--config", e.agentConfig, "--collector", e.base, "--token", token)
	if again == nil || !strings.Contains(stderr.String(), "401") {
		t.Fatalf("second enrolment with the same token: err=%v stderr=%s", again, stderr.String())
	}
	return e
}

func (e *env) startCollector(t *testing.T) {
	t.Helper()
	e.collector = start(t, "collector", e.collectorBin, append([]string{"serve"}, e.collectorArgs...)...)
	eventually(t, 20*time.Second, "collector /healthz", func() bool {
		resp, err := http.Get(e.base + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	e.authorize(t)
}

func writeFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}

func execOut(bin string, stderr io.Writer, args ...string) error {
	cmd := execCommand(bin, args...)
	cmd.Stderr = stderr
	return cmd.Run()
}

type verdict struct {
	Requirement string `json:"requirement"`
	State       string `json:"state"`
	Summary     string `json:"summary"`
}

func (e *env) verdicts(t *testing.T) map[string]verdict {
	t.Helper()
	var vs []verdict
	if err := getJSON(e.base+"/api/v1/sites/e2e-academy/verdicts", &vs); err != nil {
		t.Logf("verdicts: %v", err)
		return nil
	}
	m := map[string]verdict{}
	for _, v := range vs {
		m[v.Requirement] = v
	}
	return m
}

func TestIntegrationE2EChain(t *testing.T) {
	e := setup(t)

	// check: every probe once, a readable table, exit 0.
	out := run(t, e.agentBin, "check", "--config", e.agentConfig)
	for _, want := range []string{"PROBE", "safesearch", "www.google.com", "forcesafesearch.google.com", "collector-health", "NXDOMAIN"} {
		if !strings.Contains(out, want) {
			t.Errorf("check output lacks %q:\n%s", want, out)
		}
	}

	agent := start(t, "agent", e.agentBin, "run", "--config", e.agentConfig)
	// FM-15 and CL-4 are measured in part (browser lockdown and supplier
	// checks are attested); FM-13 is partly met: no VPN endpoint is set.
	eventually(t, 60*time.Second, "measured parts of FM-15, FM-13 and CL-4 met", func() bool {
		v := e.verdicts(t)
		return v["FM-15"].State == "partly_met" && v["FM-13"].State == "partly_met" && v["CL-4"].State == "partly_met" &&
			strings.Contains(v["FM-15"].Summary, "100")
	})
	v := e.verdicts(t)
	if !strings.Contains(v["CL-4"].Summary, "100") {
		t.Errorf("CL-4 summary lacks the availability figure: %q", v["CL-4"].Summary)
	}
	if v["DL-1"].State != "not_enough_data" {
		t.Errorf("DL-1 without attestation: %+v", v["DL-1"])
	}

	// Attestations complete them at the next scoring.
	attest := func(req, note string) {
		run(t, e.collectorBin, append([]string{"attest", "--site", "e2e-academy", "--req", req, "--by", "A. Head (headteacher)", "--note", note}, e.collectorArgs...)...)
	}
	attest("DL-1", "SLT digital lead appointed")
	attest("FM-15", "Browsers locked down through device management; no unauthorised plug-ins")
	attest("CL-4", "Suppliers' published availability targets checked before purchase")
	eventually(t, 20*time.Second, "DL-1 attested, FM-15 and CL-4 met", func() bool {
		v := e.verdicts(t)
		return v["DL-1"].State == "attested" && v["FM-15"].State == "met" && v["CL-4"].State == "met"
	})
	// A requirement measured only by probes cannot be attested.
	var stderr strings.Builder
	err := execOut(e.collectorBin, &stderr, append([]string{"attest", "--site", "e2e-academy", "--req", "FM-13", "--by", "x", "--note", "y"}, e.collectorArgs...)...)
	if err == nil || !strings.Contains(stderr.String(), "measured by probes") {
		t.Errorf("attesting FM-13 (measured): err=%v stderr=%s", err, stderr.String())
	}

	// The HTML report lists every requirement with its verdict and figures.
	resp, err := http.Get(e.base + "/sites/e2e-academy/report")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	html := string(body)
	for _, want := range []string{"E2E Academy", "FM-15", "FM-13", "CL-4", "DL-1", "Met", "Partly met", "Attested", "A. Head", "SafeSearch enforced", "Filtering checks"} {
		if !strings.Contains(html, want) {
			t.Errorf("report page lacks %q", want)
		}
	}
	// The JSON export has the same content.
	jsonOut := run(t, e.collectorBin, append([]string{"report", "--site", "e2e-academy", "--format", "json"}, e.collectorArgs...)...)
	for _, want := range []string{`"id": "FM-15"`, `"state": "met"`, `"catalogue"`} {
		if !strings.Contains(jsonOut, want) {
			t.Errorf("JSON report lacks %s", want)
		}
	}
	// Metrics show ingest.
	resp, err = http.Get(e.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(metrics), `probity_ingest_batches_total{result="stored"}`) {
		t.Errorf("metrics lack stored batches:\n%s", metrics)
	}
	agent.stop(t)
}

// TestIntegrationE2EDelivery stops the collector for several probe cycles
// while the agent runs, restarts it, and counts: every point the agent
// produced is either stored exactly once or still queued on disk.
func TestIntegrationE2EDelivery(t *testing.T) {
	e := setup(t)
	agent := start(t, "agent", e.agentBin, "run", "--config", e.agentConfig)
	dbPath := filepath.Join(e.dir, "collector", "probity.db")

	eventually(t, 30*time.Second, "first points stored", func() bool { return e.storedPoints(t) > 0 })
	e.collector.stop(t)
	downAt := time.Now()
	time.Sleep(5 * time.Second) // five probe cycles with nowhere to send them
	upAt := time.Now()
	e.startCollector(t)
	eventually(t, 30*time.Second, "points from the outage stored", func() bool {
		return e.countBetween(t, dbPath, downAt, upAt) > 0
	})
	time.Sleep(2 * time.Second)
	agent.stop(t)
	e.collector.stop(t)

	stopped := logLine(agent.output(), "agent stopped")
	if stopped == nil {
		t.Fatalf("agent did not log its stop:\n%s", agent.output())
	}
	produced := int(stopped["produced_points"].(float64))

	st, err := sqlite.Open(context.Background(), dbPath, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	stored := map[string]int{}
	rows := 0
	for _, m := range []string{"ping", "dns", "http", "host", "agent", "filter", "safesearch"} {
		pts, err := st.Points(context.Background(), store.PointQuery{Site: "e2e-academy", Measurement: m, From: time.Unix(0, 0), To: time.Now().Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range pts {
			stored[key(p)]++
			rows++
		}
	}
	for k, n := range stored {
		if n > 1 {
			t.Errorf("point stored %d times: %s", n, k)
		}
	}
	// What is still queued on the agent's disk (it stopped with the last
	// batches unsent, or unacknowledged).
	union := map[string]bool{}
	for k := range stored {
		union[k] = true
	}
	queued := drainSpool(t, filepath.Join(e.dir, "agent", "spool"), union)
	t.Logf("produced %d points; stored %d rows (%d distinct); %d still queued on the agent", produced, rows, len(stored), queued)
	if len(union) != produced {
		t.Fatalf("produced %d points but stored ∪ queued holds %d distinct points", produced, len(union))
	}
	if between := e.countBetween(t, dbPath, downAt, upAt); between == 0 {
		t.Fatal("nothing measured during the outage was stored")
	}
}

// drainSpool empties the agent's spool at dir (what it still held when it
// stopped: batches unsent or unacknowledged), adding each point's key to
// union, and returns how many points it held.
func drainSpool(t *testing.T, dir string, union map[string]bool) int {
	t.Helper()
	q, err := spool.Open(dir, spool.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	queued := 0
	for {
		b, ok, err := q.Oldest()
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return queued
		}
		pts, err := point.Decode(b.Body, lineprotocol.Nanosecond, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range pts {
			p.Tags["site"], p.Tags["agent"] = "", ""
			union[key(p)] = true
			queued++
		}
		if err := q.Ack(b.ID); err != nil {
			t.Fatal(err)
		}
	}
}

// key identifies a point by series and time, ignoring the collector's tags.
func key(p point.Point) string {
	tags := map[string]string{}
	for k, v := range p.Tags {
		if k != "site" && k != "agent" && v != "" {
			tags[k] = v
		}
	}
	p.Tags = tags
	return p.SeriesKey() + "@" + p.Time.UTC().Format(time.RFC3339Nano)
}

func (e *env) storedPoints(t *testing.T) float64 {
	resp, err := http.Get(e.base + "/metrics")
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "probity_store_points ") {
			var f float64
			fmt.Sscan(strings.TrimPrefix(line, "probity_store_points "), &f)
			return f
		}
	}
	return 0
}

func (e *env) countBetween(t *testing.T, dbPath string, from, to time.Time) int {
	st, err := sqlite.Open(context.Background(), dbPath, sqlite.Options{})
	if err != nil {
		t.Logf("open store: %v", err)
		return 0
	}
	defer st.Close()
	pts, err := st.Points(context.Background(), store.PointQuery{Site: "e2e-academy", Measurement: "dns", From: from, To: to})
	if err != nil {
		t.Logf("points: %v", err)
		return 0
	}
	return len(pts)
}
