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

// TestIntegrationFilteringReport runs the real agent inside a school
// network (namespaces, dnsmasq as the DNS filter, nft, two e2guardians, one
// inspecting TLS) with the shipped filtering suite as four profiles, ships
// to the real collector on the host, and checks the filtering verdicts and
// the report that names the failing targets with their mechanism.
func TestIntegrationFilteringReport(t *testing.T) {
	s := testenv.NewSchoolNet(t, testenv.TypicalSchool())
	e := &env{dir: t.TempDir()}
	e.agentBin, e.collectorBin = binaries(t)
	port := freePort(t)
	e.base = fmt.Sprintf("http://%s:%d", s.HostAddr, port)
	ccfg := filepath.Join(e.dir, "collector.yaml")
	writeFile(t, ccfg, fmt.Sprintf(`listen: %s:%d
data_dir: %s
log: {level: info, format: json}
jobs: {score_every: 1s, rollup_every: 2s, prune_every: 1h}
`, s.HostAddr, port, filepath.Join(e.dir, "collector")))
	e.collectorArgs = []string{"--config", ccfg}
	e.startCollector(t)
	cli := func(args ...string) string { return run(t, e.collectorBin, append(args, e.collectorArgs...)...) }
	cli("trust", "add", "E2E Trust")
	cli("site", "add", "--trust", "E2E Trust", "--name", "E2E Filtering Academy", "--urn", "888888", "--phase", "secondary", "--id", "e2e-academy")
	token := strings.TrimSpace(cli("agent", "token", "--site", "e2e-academy"))

	var targets strings.Builder
	for id, u := range testenv.TypicalPlaceholders {
		fmt.Fprintf(&targets, "        %s: %q\n", id, u)
	}
	e.agentConfig = filepath.Join(e.dir, "agent.yaml")
	writeFile(t, e.agentConfig, fmt.Sprintf(`state_dir: %s
log: {level: info, format: json}
ship: {min_backoff: 200ms, max_backoff: 1s, batch_every: 200ms}
probes:
  - name: filtering
    kind: filtering
    interval: 1m
    filtering:
      ca_file: %s
      inspect_ca_file: %s
      timeout: 3s
      targets:
%s      profiles:
        - {name: direct}
        - {name: student, proxy: %q, username: student, password: x}
        - {name: staff, proxy: %q, username: staff, password: x}
        - {name: guest, proxy: %q}
`, filepath.Join(e.dir, "agent"), s.PublicCAFile, s.InterceptCAFile, targets.String(), s.MITMProxy, s.MITMProxy, s.Proxy))
	inSchool := func(bin string, args ...string) []string {
		return append([]string{"netns", "exec", s.School.Name, bin}, args...)
	}
	out := run(t, "ip", inSchool(e.agentBin, "enrol", "--no-check", "--config", e.agentConfig, "--collector", e.base, "--token", token)...)
	if !strings.Contains(out, "Enrolled as agent") {
		t.Fatalf("enrol output: %s", out)
	}
	agent := start(t, "agent", "ip", inSchool(e.agentBin, "run", "--config", e.agentConfig)...)

	want := map[string]string{
		"FM-6":  "met",        // IWF, CTIRU, adult and malware tests blocked for every profile
		"FM-7":  "partly_met", // both list tests blocked; provider membership is attested
		"FM-13": "partly_met", // DoH, canaries and Private Relay blocked; no VPN endpoint configured
		"FM-15": "not_met",    // www.youtube.com is restricted only through the inspecting proxy
		"FM-16": "not_met",    // Brook is blocked for students and guests
		"FM-10": "partly_met", // student and staff profiles both filtered; suitability attested
		"BB-8":  "partly_met",
		"CY-18": "partly_met",
	}
	var vs map[string]verdict
	eventually(t, 90*time.Second, "filtering rows scored", func() bool {
		vs = e.verdicts(t)
		for id := range want {
			if v, ok := vs[id]; !ok || v.State == "not_enough_data" || v.State == "" {
				return false
			}
		}
		return true
	})
	agent.stop(t)
	for id, state := range want {
		t.Logf("%s: %s: %s", id, vs[id].State, vs[id].Summary)
		if vs[id].State != state {
			t.Errorf("%s: %s, want %s: %s", id, vs[id].State, state, vs[id].Summary)
		}
	}
	for id, parts := range map[string][]string{
		"FM-16": {"student / brook", "guest / brook"},
		"FM-15": {"direct / youtube", "guest / youtube"},
		"FM-13": {"VPN ports blocked: no checks"},
	} {
		for _, p := range parts {
			if !strings.Contains(vs[id].Summary, p) {
				t.Errorf("%s summary lacks %q: %s", id, p, vs[id].Summary)
			}
		}
	}

	resp, err := http.Get(e.base + "/sites/e2e-academy/report")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	page := string(body)
	for _, w := range []string{
		"<h2>Filtering checks</h2>", "as direct, guest, staff and student",
		"<td>student</td><td><strong>brook</strong>", "block page behind HTTPS inspection (e2guardian (issuer CN=Probity rig school intercept CA",
		"<td>guest</td><td><strong>brook</strong>", "filter&#39;s block page (e2guardian)",
		"direct / doh-cloudflare (no answer in time", "SafeSearch was not enforced for 2 of",
		"direct / www.youtube.com (youtube)",
	} {
		if !strings.Contains(page, w) {
			t.Errorf("report page lacks %q", w)
		}
	}
	if t.Failed() {
		i := strings.Index(page, "Filtering checks")
		if i >= 0 {
			t.Logf("report section:\n%s", page[i:min(len(page), i+6000)])
		}
	}
}
