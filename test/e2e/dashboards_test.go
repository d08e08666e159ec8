package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/probity-edu/probity/internal/testenv"
)

// dashboardQuery is one InfluxQL query of a committed dashboard: a panel
// target or a template variable.
type dashboardQuery struct {
	Dashboard, Panel, Ref string
	Query                 string
}

// grafanaDashboard is as much of Grafana's dashboard model as the test reads.
type grafanaDashboard struct {
	Title      string         `json:"title"`
	Panels     []grafanaPanel `json:"panels"`
	Templating struct {
		List []struct {
			Name  string `json:"name"`
			Type  string `json:"type"`
			Query any    `json:"query"` // a string, or {query: "..."} in newer models
		} `json:"list"`
	} `json:"templating"`
}

type grafanaPanel struct {
	Title   string         `json:"title"`
	Type    string         `json:"type"`
	Panels  []grafanaPanel `json:"panels"` // a collapsed row's
	Targets []struct {
		RefID    string `json:"refId"`
		Query    string `json:"query"`
		RawQuery bool   `json:"rawQuery"`
		Hide     bool   `json:"hide"`
	} `json:"targets"`
}

// loadDashboards reads every committed dashboard and returns its variable
// queries (in order) and its panel queries.
func loadDashboards(t *testing.T) (vars map[string][]dashboardQuery, panels []dashboardQuery) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(repoRoot(), "dashboards", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no dashboards found: %v", err)
	}
	vars = map[string][]dashboardQuery{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var d grafanaDashboard
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, v := range d.Templating.List {
			if v.Type != "query" {
				continue
			}
			q, _ := v.Query.(string)
			if m, ok := v.Query.(map[string]any); ok {
				q, _ = m["query"].(string)
			}
			vars[d.Title] = append(vars[d.Title], dashboardQuery{Dashboard: d.Title, Panel: "variable", Ref: v.Name, Query: q})
		}
		var walk func(ps []grafanaPanel)
		walk = func(ps []grafanaPanel) {
			for _, p := range ps {
				walk(p.Panels)
				for _, tg := range p.Targets {
					if tg.Hide {
						continue
					}
					if !tg.RawQuery || tg.Query == "" {
						t.Errorf("%s / %s / %s: not a raw InfluxQL query", d.Title, p.Title, tg.RefID)
						continue
					}
					panels = append(panels, dashboardQuery{Dashboard: d.Title, Panel: p.Title, Ref: tg.RefID, Query: tg.Query})
				}
			}
		}
		walk(d.Panels)
	}
	return vars, panels
}

var grafanaVar = regexp.MustCompile(`\$\{(\w+)(?::\w+)?\}|\[\[(\w+)\]\]|\$(\w+)`)

// substitute does what Grafana does before sending a query: the time
// filter and interval macros, and each variable's value, regex-escaped as
// Grafana's InfluxDB data source formats a value used in a regex.
func substitute(q string, values map[string]string) (string, error) {
	var missing []string
	out := grafanaVar.ReplaceAllStringFunc(q, func(m string) string {
		sub := grafanaVar.FindStringSubmatch(m)
		name := sub[1] + sub[2] + sub[3]
		switch name {
		case "timeFilter":
			return "time > now() - 1h"
		case "__interval":
			return "10s"
		case "__interval_ms":
			return "10000"
		}
		v, ok := values[name]
		if !ok {
			missing = append(missing, name)
			return m
		}
		return regexp.QuoteMeta(v)
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("no value for %v", missing)
	}
	return out, nil
}

// TestIntegrationDashboards runs the real agent with every probe kind the
// dashboards draw (ping, DNS, HTTP, host, filtering, throughput, WAN path,
// SNMP against snmpsimd's switch, WLC and UPS recordings) into the real
// collector with its InfluxDB sink on a real InfluxDB 1.8, then runs every
// query of every committed dashboard, with its template variables filled
// in as Grafana would, and fails on any that returns no rows.
func TestIntegrationDashboards(t *testing.T) {
	testenv.RequireIntegration(t, "influxd, snmpsimd and both binaries")
	testenv.RequireRoot(t)
	vars, panels := loadDashboards(t)
	if len(panels) < 20 {
		t.Fatalf("only %d panel queries found in dashboards/", len(panels))
	}
	db := testenv.StartInfluxDB(t, "probity")
	recs := testenv.Recordings(t, filepath.Join(repoRoot(), "agent", "snmp", "testdata", "snmprec"))
	sim := testenv.StartSnmpsim(t, recs)
	resolver := schoolResolver(t)

	e := &env{dir: t.TempDir()}
	e.agentBin, e.collectorBin = binaries(t)
	port := freePort(t)
	e.base = fmt.Sprintf("http://127.0.0.1:%d", port)
	ccfg := filepath.Join(e.dir, "collector.yaml")
	writeFile(t, ccfg, fmt.Sprintf(`listen: 127.0.0.1:%d
data_dir: %s
log: {level: info, format: json}
jobs: {score_every: 1s, rollup_every: 2s, prune_every: 1h}
influx: {url: %q, bucket: probity/autogen, flush_interval: 100ms, status_every: 1s}
`, port, filepath.Join(e.dir, "collector"), db.URL))
	e.collectorArgs = []string{"--config", ccfg}
	e.startCollector(t)
	cli := func(args ...string) string { return run(t, e.collectorBin, append(args, e.collectorArgs...)...) }
	cli("trust", "add", "E2E Trust")
	cli("site", "add", "--trust", "E2E Trust", "--name", "E2E Primary", "--phase", "primary", "--id", "e2e-academy")
	token := strings.TrimSpace(cli("agent", "token", "--site", "e2e-academy"))

	e.agentConfig = filepath.Join(e.dir, "agent.yaml")
	writeFile(t, e.agentConfig, fmt.Sprintf(`state_dir: %s
log: {level: info, format: json}
schedule: {stats_interval: 1s}
ship: {min_backoff: 200ms, max_backoff: 1s, batch_every: 200ms}
probes:
  - name: gateway
    kind: ping
    interval: 2s
    ping: {targets: [{host: 127.0.0.1, role: gateway}, {host: 127.0.0.2, role: internet}], count: 3, interval: 50ms}
  - name: resolvers
    kind: dns
    interval: 2s
    dns: {resolvers: ["%[2]s"], queries: [{name: www.google.com}, {name: www.bbc.co.uk}], timeout: 1s}
  - name: filtering
    kind: filtering
    interval: 3s
    filtering: {resolver: "%[2]s", timeout: 1s}
  - name: cloud
    kind: http
    interval: 2s
    http: {targets: [{url: "%[3]s/healthz", name: collector-health, role: cloud}], timeout: 2s}
  - name: host
    kind: host
    interval: 2s
  - name: broadband
    kind: throughput
    interval: 8s
    throughput: {duration: 2s, grace: 300ms, single_stream: false}
  - name: internet-path
    kind: wan
    interval: 10s
    wan: {every: 200ms}
  - name: network
    kind: snmp
    interval: 3s
    snmp:
      devices:
        - {name: access-sw, address: "%[4]s", community: access-switch, role: edge, budget: 2s}
        - {name: core-sw, address: "%[4]s", community: core-switch, role: core, budget: 2s}
        - {name: wlc, address: "%[4]s", community: cisco-wlc, role: wlc, budget: 2s}
        - {name: ups-1, address: "%[4]s", community: ups-on-battery, role: ups, budget: 2s}
`, filepath.Join(e.dir, "agent"), resolver, e.base, sim))
	if out := run(t, e.agentBin, "enrol", "--no-check", "--config", e.agentConfig, "--collector", e.base, "--token", token); !strings.Contains(out, "Enrolled as agent") {
		t.Fatalf("enrol output: %s", out)
	}
	agent := start(t, "agent", e.agentBin, "run", "--config", e.agentConfig)
	defer agent.stop(t)

	values := map[string]string{"trust": "E2E Trust", "school": "e2e-academy"}
	var empty []string
	check := func() bool {
		empty = empty[:0]
		// Variables first, in dashboard order: later ones may use earlier ones.
		for _, qs := range vars {
			for _, v := range qs {
				q, err := substitute(v.Query, values)
				if err != nil {
					empty = append(empty, fmt.Sprintf("%s / variable %s: %v", v.Dashboard, v.Ref, err))
					continue
				}
				series, err := db.Query(q)
				if err != nil {
					t.Fatalf("%s / variable %s: %s: %v", v.Dashboard, v.Ref, q, err)
				}
				if testenv.Rows(series) == 0 {
					empty = append(empty, fmt.Sprintf("%s / variable %s: %s", v.Dashboard, v.Ref, q))
					continue
				}
				if _, set := values[v.Ref]; !set {
					values[v.Ref] = fmt.Sprint(series[0].Values[0][len(series[0].Values[0])-1])
				}
			}
		}
		for _, p := range panels {
			q, err := substitute(p.Query, values)
			if err != nil {
				empty = append(empty, fmt.Sprintf("%s / %s / %s: %v", p.Dashboard, p.Panel, p.Ref, err))
				continue
			}
			series, err := db.Query(q)
			if err != nil {
				t.Fatalf("%s / %s / %s: %s: %v", p.Dashboard, p.Panel, p.Ref, q, err)
			}
			// fill() pads a series with nulls; a panel needs values.
			if valueRows(series) == 0 {
				empty = append(empty, fmt.Sprintf("%s / %s / %s: %s", p.Dashboard, p.Panel, p.Ref, q))
			}
		}
		return len(empty) == 0
	}
	deadline := time.Now().Add(120 * time.Second)
	for !check() {
		if time.Now().After(deadline) {
			slices.Sort(empty)
			t.Fatalf("%d dashboard queries return no rows after 120s:\n  %s", len(empty), strings.Join(empty, "\n  "))
		}
		time.Sleep(2 * time.Second)
	}
	t.Logf("all %d panel queries and the variables of %d dashboards return rows", len(panels), len(vars))

	// The verdicts reached InfluxDB as the report states them.
	vs := e.verdicts(t)
	series, err := db.Query(`SELECT last("level") FROM "standard_verdict" WHERE "site" = 'e2e-academy' GROUP BY "requirement", "state"`)
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, s := range series {
		if v, ok := vs[s.Tags["requirement"]]; ok && v.State == s.Tags["state"] {
			seen++
		}
	}
	if seen < 10 {
		t.Errorf("only %d requirements in InfluxDB match the collector's verdicts", seen)
	}
}

// valueRows counts the rows with a value other than null in a column
// other than time.
func valueRows(series []testenv.Series) int {
	n := 0
	for _, s := range series {
		for _, row := range s.Values {
			for i, v := range row {
				if v != nil && (i >= len(s.Columns) || s.Columns[i] != "time") {
					n++
					break
				}
			}
		}
	}
	return n
}
