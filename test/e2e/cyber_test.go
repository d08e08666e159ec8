package e2e

import (
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/probity-edu/probity/internal/testenv"
)

// TestIntegrationCyberReport runs the real agent's cyber probe against
// peers on loopback (a DNS server publishing SPF and a DMARC policy of
// none, an HTTPS service with a self-signed certificate, a "firewall"
// whose management port answers the pupil VLAN, and one that does not)
// with the real collector: the cyber rows are scored from the points, the
// report lists the findings with their fixes in the cyber security
// section, and a row shows its measured part and its attestation apart.
func TestIntegrationCyberReport(t *testing.T) {
	testenv.RequireIntegration(t, "both binaries, peers on loopback")
	dns := testenv.StartDNS(t, []string{
		`oak.sch.uk. 300 IN TXT "v=spf1 include:spf.protection.outlook.com -all"`,
		`_dmarc.oak.sch.uk. 300 IN TXT "v=DMARC1; p=none; rua=mailto:dmarc@oak.sch.uk"`,
	})
	web := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "MIS") }))
	web.Config.ErrorLog = log.New(io.Discard, "", 0) // the check's TLS 1.0 and 1.1 attempts fail by design
	web.StartTLS()
	t.Cleanup(web.Close)
	// A management port that answers, and one that does not.
	mgmt, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mgmt.Close() })
	go func() {
		for {
			c, err := mgmt.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	closed := freePort(t)

	e := &env{dir: t.TempDir()}
	e.agentBin, e.collectorBin = binaries(t)
	port := freePort(t)
	e.base = fmt.Sprintf("http://127.0.0.1:%d", port)
	ccfg := filepath.Join(e.dir, "collector.yaml")
	writeFile(t, ccfg, fmt.Sprintf("listen: 127.0.0.1:%d\ndata_dir: %s\nlog: {level: info, format: json}\njobs: {score_every: 1s, rollup_every: 2s, prune_every: 1h}\n",
		port, filepath.Join(e.dir, "collector")))
	e.collectorArgs = []string{"--config", ccfg}
	e.startCollector(t)
	cli := func(args ...string) string { return run(t, e.collectorBin, append(args, e.collectorArgs...)...) }
	cli("trust", "add", "E2E Trust")
	cli("site", "add", "--trust", "E2E Trust", "--name", "E2E Secondary", "--phase", "secondary", "--id", "e2e-academy")
	token := strings.TrimSpace(cli("agent", "token", "--site", "e2e-academy"))

	mgmtPort := mgmt.Addr().(*net.TCPAddr).Port
	e.agentConfig = filepath.Join(e.dir, "agent.yaml")
	writeFile(t, e.agentConfig, fmt.Sprintf(`state_dir: %s
log: {level: info, format: json}
ship: {min_backoff: 200ms, max_backoff: 1s, batch_every: 200ms}
probes:
  - name: security
    kind: cyber
    interval: 5s
    cyber:
      vlan: pupil
      timeout: 1s
      exposure:
        targets:
          - {name: core-fw, host: 127.0.0.1, role: firewall, ports: [%d]}
          - {name: core-sw, host: 127.0.0.1, role: switch, ports: [%d]}
      tls:
        targets: [{name: mis, url: "%s"}]
      mail:
        domains: [oak.sch.uk]
        resolver: "%s"
`, filepath.Join(e.dir, "agent"), mgmtPort, closed, web.URL, dns.Addr))
	if out := run(t, e.agentBin, "enrol", "--no-check", "--config", e.agentConfig, "--collector", e.base, "--token", token); !strings.Contains(out, "Enrolled as agent") {
		t.Fatalf("enrol output: %s", out)
	}
	agent := start(t, "agent", e.agentBin, "run", "--config", e.agentConfig)

	var vs map[string]verdict
	eventually(t, 60*time.Second, "CY-3 and CY-13 scored from the cyber checks", func() bool {
		vs = e.verdicts(t)
		return vs["CY-3"].State != "" && vs["CY-3"].State != "not_enough_data" && vs["CY-13"].State != "" && vs["CY-13"].State != "not_enough_data"
	})
	agent.stop(t)
	for _, id := range []string{"CY-3", "CY-13"} {
		t.Logf("%s: %s: %s", id, vs[id].State, vs[id].Summary)
	}
	// SPF passes and DMARC p=none fails: CY-3's measured part is partly met.
	if vs["CY-3"].State != "partly_met" || !strings.Contains(vs["CY-3"].Summary, "DMARC policy at the mail domain (not none) for oak.sch.uk in 0%") {
		t.Errorf("CY-3 with DMARC p=none: %+v", vs["CY-3"])
	}
	// The firewall's management port answered the pupil VLAN.
	if vs["CY-13"].State != "not_met" || !strings.Contains(vs["CY-13"].Summary, "core-fw") {
		t.Errorf("CY-13 with management reachable from pupils: %+v", vs["CY-13"])
	}

	cli("attest", "--site", "e2e-academy", "--req", "CY-3", "--by", "Pat Green", "--role", "DPO", "--note", "ROPA reviewed with the DPO")
	resp, err := http.Get(e.base + "/sites/e2e-academy/report")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	html := string(body)
	for _, want := range []string{"Cyber security checks", "core-fw:" + fmt.Sprint(mgmtPort), "oak.sch.uk", "mis",
		"Allow management only from the management VLAN", "ROPA reviewed with the DPO"} {
		if !strings.Contains(html, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	// CY-3's row: the measured DMARC result and the attestation, apart.
	row := ""
	if i := strings.Index(html, `<tr id="CY-3">`); i >= 0 {
		if j := strings.Index(html[i:], "</tr>"); j >= 0 {
			row = html[i : i+j]
		}
	}
	measured := regexp.MustCompile(`(?s)<td class="measured">(.*?)</td>`).FindStringSubmatch(row)
	attested := regexp.MustCompile(`(?s)<td class="attested">(.*?)</td>`).FindStringSubmatch(row)
	if measured == nil || attested == nil || !strings.Contains(measured[1], "DMARC") || !strings.Contains(attested[1], "ROPA reviewed") || strings.Contains(measured[1], "ROPA") {
		t.Errorf("CY-3 row does not show measured and attested evidence apart:\n%s", row)
	}
}
