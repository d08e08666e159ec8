package e2e

import (
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/probity-edu/probity/internal/testenv"
)

// TestIntegrationBroadbandReport runs the real agent in a namespace joined
// to the host by a veth link shaped to 200 Mbit/s each way, with the real
// collector on the host: the throughput probe tests against the
// collector's own speed-test routes, the wan probe watches the path, and
// BB-2, BB-5 and BB-6 reach the school's report with their figures.
func TestIntegrationBroadbandReport(t *testing.T) {
	testenv.RequireIntegration(t, "netns, tc and both binaries")
	testenv.RequireRoot(t)
	tc := testenv.RequireBinary(t, "tc")
	ns := testenv.NewNetns(t)
	v := ns.AddVeth(t)
	shape := []string{"root", "tbf", "rate", "200mbit", "burst", "64kb", "latency", "50ms"}
	run(t, tc, append([]string{"qdisc", "replace", "dev", v.HostIf}, shape...)...)
	ns.Run(t, tc, append([]string{"qdisc", "replace", "dev", v.NSIf}, shape...)...)

	e := &env{dir: t.TempDir()}
	e.agentBin, e.collectorBin = binaries(t)
	port := freePort(t)
	e.base = fmt.Sprintf("http://127.0.0.1:%d", port)
	agentURL := fmt.Sprintf("http://%s:%d", v.HostAddr.Addr(), port)
	ccfg := filepath.Join(e.dir, "collector.yaml")
	writeFile(t, ccfg, fmt.Sprintf(`listen: 0.0.0.0:%d
data_dir: %s
log: {level: info, format: json}
jobs: {score_every: 1s, rollup_every: 2s, prune_every: 1h}
`, port, filepath.Join(e.dir, "collector")))
	e.collectorArgs = []string{"--config", ccfg}
	e.startCollector(t)
	cli := func(args ...string) string { return run(t, e.collectorBin, append(args, e.collectorArgs...)...) }
	cli("trust", "add", "E2E Trust")
	cli("site", "add", "--trust", "E2E Trust", "--name", "E2E Primary", "--urn", "654321", "--phase", "primary", "--id", "e2e-academy")
	token := strings.TrimSpace(cli("agent", "token", "--site", "e2e-academy"))

	e.agentConfig = filepath.Join(e.dir, "agent.yaml")
	writeFile(t, e.agentConfig, fmt.Sprintf(`state_dir: %s
log: {level: info, format: json}
ship: {min_backoff: 200ms, max_backoff: 1s, batch_every: 200ms}
probes:
  - name: broadband
    kind: throughput
    interval: 6s
    throughput: {duration: 2s, grace: 500ms, single_stream: false}
  - name: internet-path
    kind: wan
    interval: 10s
    wan: {every: 200ms}
`, filepath.Join(e.dir, "agent")))
	inNS := func(args ...string) []string { return append([]string{"netns", "exec", ns.Name, e.agentBin}, args...) }
	out := run(t, "ip", inNS("enrol", "--no-check", "--config", e.agentConfig, "--collector", agentURL, "--token", token)...)
	if !strings.Contains(out, "Enrolled as agent") {
		t.Fatalf("enrol output: %s", out)
	}
	agent := start(t, "agent", "ip", inNS("run", "--config", e.agentConfig)...)

	// Five multi-stream tests each way reach min_samples.
	var last verdict
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("last BB-2 verdict: %+v", last)
		}
	})
	eventually(t, 150*time.Second, "BB-2 met from five tests each way", func() bool {
		last = e.verdicts(t)["BB-2"]
		return last.State == "met"
	})
	eventually(t, 30*time.Second, "a wan_path observation scored", func() bool {
		return strings.Contains(e.verdicts(t)["BB-5"].Summary, "path observation")
	})
	agent.stop(t)
	vs := e.verdicts(t)
	bb2 := vs["BB-2"].Summary
	t.Logf("BB-2: %s", bb2)
	for _, want := range []string{"Download speed: median", "Upload speed: median", "10th percentile", "Mbit/s over", "tests"} {
		if !strings.Contains(bb2, want) {
			t.Errorf("BB-2 summary lacks %q: %s", want, bb2)
		}
	}
	// A path seen once is no evidence of a backup or of failover either way.
	for _, id := range []string{"BB-5", "BB-6"} {
		t.Logf("%s: %s: %s", id, vs[id].State, vs[id].Summary)
		if vs[id].State != "not_enough_data" {
			t.Errorf("%s = %s with no path change seen, want not_enough_data", id, vs[id].State)
		}
	}
	if vs["BB-3"].State != "not_applicable" {
		t.Errorf("BB-3 at a primary school: %s", vs["BB-3"].State)
	}

	// The collector saw the agent come from its namespace address.
	if list := cli("agent", "list", "--site", "e2e-academy"); !strings.Contains(list, v.NSAddr.Addr().String()) {
		t.Errorf("agent list lacks the agent's address %s:\n%s", v.NSAddr.Addr(), list)
	}

	// The report shows the figures and the server the tests ran against.
	resp, err := http.Get(e.base + "/sites/e2e-academy/report")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	html := string(body)
	for _, want := range []string{"BB-2", "BB-5", "BB-6", "Download speed", "median", "p10", "; server " + v.HostAddr.Addr().String()} {
		if !strings.Contains(html, want) {
			t.Errorf("report page lacks %q", want)
		}
	}
	jsonOut := cli("report", "--site", "e2e-academy", "--format", "json")
	for _, want := range []string{`"id": "BB-2"`, `"p10"`, `"id": "BB-6"`} {
		if !strings.Contains(jsonOut, want) {
			t.Errorf("JSON report lacks %s", want)
		}
	}
}
