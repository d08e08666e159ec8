package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"gopkg.in/yaml.v3"

	"github.com/probity-edu/probity/collector/standards"
)

// TestCommittedJSONIsGenerated: the committed dashboards are exactly what
// the generator writes, so what users import is what the code says.
func TestCommittedJSONIsGenerated(t *testing.T) {
	want := map[string]bool{}
	for _, d := range dashboards() {
		want[d.file] = true
		got, err := render(d)
		if err != nil {
			t.Fatalf("%s: %v", d.file, err)
		}
		committed, err := os.ReadFile(filepath.Join("..", d.file))
		if err != nil {
			t.Fatalf("%v (run go generate ./dashboards/gen)", err)
		}
		if !bytes.Equal(got, committed) {
			t.Errorf("dashboards/%s differs from the generator's output: run go generate ./dashboards/gen", d.file)
		}
	}
	for _, f := range committedFiles(t) {
		if !want[filepath.Base(f)] {
			t.Errorf("%s is not written by the generator", f)
		}
	}
}

// TestDocsListEveryPanel: docs/grafana.md carries the generator's panel
// tables as they are.
func TestDocsListEveryPanel(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "grafana.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), panelTables()) {
		t.Error("docs/grafana.md does not contain the current panel tables: paste the output of go run ./dashboards/gen -panels")
	}
}

func committedFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no dashboards in dashboards/: %v", err)
	}
	return files
}

// The JSON model as far as the lint reads it.
type jsonDashboard struct {
	UID        string                `json:"uid"`
	Title      string                `json:"title"`
	Tags       []string              `json:"tags"`
	Refresh    string                `json:"refresh"`
	Time       struct{ From string } `json:"time"`
	Panels     []jsonPanel           `json:"panels"`
	Templating struct {
		List []jsonVariable `json:"list"`
	} `json:"templating"`
	Links []struct {
		Type        string `json:"type"`
		IncludeVars bool   `json:"includeVars"`
		KeepTime    bool   `json:"keepTime"`
	} `json:"links"`
}

type jsonVariable struct {
	Name       string          `json:"name"`
	Type       string          `json:"type"`
	Query      any             `json:"query"`
	Datasource *jsonDatasource `json:"datasource"`
	Multi      bool            `json:"multi"`
	IncludeAll bool            `json:"includeAll"`
	AllValue   string          `json:"allValue"`
}

type jsonDatasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type jsonPanel struct {
	ID          int                      `json:"id"`
	Type        string                   `json:"type"`
	Title       string                   `json:"title"`
	Description string                   `json:"description"`
	Datasource  *jsonDatasource          `json:"datasource"`
	GridPos     struct{ X, Y, W, H int } `json:"gridPos"`
	Targets     []jsonTarget             `json:"targets"`
	FieldConfig struct {
		Defaults struct {
			Unit       string `json:"unit"`
			Thresholds *struct {
				Mode  string `json:"mode"`
				Steps []struct {
					Value *float64 `json:"value"`
					Color string   `json:"color"`
				} `json:"steps"`
			} `json:"thresholds"`
		} `json:"defaults"`
	} `json:"fieldConfig"`
	Panels []jsonPanel `json:"panels"` // a collapsed row's
}

type jsonTarget struct {
	RefID        string          `json:"refId"`
	Datasource   *jsonDatasource `json:"datasource"`
	Query        string          `json:"query"`
	RawQuery     bool            `json:"rawQuery"`
	ResultFormat string          `json:"resultFormat"`
}

func loadCommitted(t *testing.T) map[string]jsonDashboard {
	t.Helper()
	out := map[string]jsonDashboard{}
	for _, f := range committedFiles(t) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !json.Valid(b) {
			t.Fatalf("%s: not valid JSON", f)
		}
		var d jsonDashboard
		dec := json.NewDecoder(bytes.NewReader(b))
		if err := dec.Decode(&d); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out[filepath.Base(f)] = d
	}
	return out
}

func allPanels(ps []jsonPanel) []jsonPanel {
	var out []jsonPanel
	for _, p := range ps {
		out = append(out, p)
		out = append(out, allPanels(p.Panels)...)
	}
	return out
}

const (
	trustFilter  = `"trust" =~ /^$trust$/`
	schoolFilter = `"site" =~ /^$school$/`
)

// TestLintCommittedDashboards checks the rules every dashboard keeps, on
// the committed JSON itself.
func TestLintCommittedDashboards(t *testing.T) {
	uids := map[string]string{}
	panels := 0
	for file, d := range loadCommitted(t) {
		if !strings.HasPrefix(d.UID, "probity-") {
			t.Errorf("%s: uid %q does not start with probity-", file, d.UID)
		}
		if other, dup := uids[d.UID]; dup {
			t.Errorf("%s and %s share uid %q", file, other, d.UID)
		}
		uids[d.UID] = file
		if !slices.Contains(d.Tags, "probity") || d.Refresh != "1m" || d.Time.From != "now-24h" {
			t.Errorf("%s: tags %v, refresh %q, time from %q; want probity, 1m, now-24h", file, d.Tags, d.Refresh, d.Time.From)
		}
		if len(d.Links) == 0 || !d.Links[0].IncludeVars || !d.Links[0].KeepTime {
			t.Errorf("%s: no link to the other dashboards keeping variables and time", file)
		}
		lintVariables(t, file, d.Templating.List)
		var boxes []jsonPanel
		for _, p := range allPanels(d.Panels) {
			where := fmt.Sprintf("%s / %q", file, p.Title)
			if p.Type == "row" {
				continue
			}
			panels++
			boxes = append(boxes, p)
			if strings.TrimSpace(p.Description) == "" {
				t.Errorf("%s: no description", where)
			}
			if p.FieldConfig.Defaults.Unit == "" {
				t.Errorf("%s: no unit", where)
			}
			if th := p.FieldConfig.Defaults.Thresholds; th == nil || len(th.Steps) == 0 || th.Steps[0].Value != nil || th.Mode == "" {
				t.Errorf("%s: thresholds missing or without a base step", where)
			}
			checkDatasource(t, where, p.Datasource)
			if len(p.Targets) == 0 {
				t.Errorf("%s: no targets", where)
			}
			for _, tg := range p.Targets {
				lintTarget(t.Errorf, where+" / "+tg.RefID, tg)
			}
		}
		checkGrid(t, file, boxes)
	}
	if panels < 20 {
		t.Errorf("only %d panels over all dashboards", panels)
	}
}

func lintVariables(t *testing.T, file string, vars []jsonVariable) {
	t.Helper()
	byName := map[string]jsonVariable{}
	for _, v := range vars {
		byName[v.Name] = v
		if v.Type == "query" {
			checkDatasource(t, file+" / variable "+v.Name, v.Datasource)
			q, _ := v.Query.(string)
			if !strings.HasPrefix(q, "SHOW TAG VALUES FROM ") {
				t.Errorf("%s / variable %s: query %q is not SHOW TAG VALUES", file, v.Name, q)
			}
		}
	}
	if ds, ok := byName["datasource"]; !ok || ds.Type != "datasource" || ds.Query != "influxdb" {
		t.Errorf("%s: no datasource variable of plugin influxdb: %+v", file, ds)
	}
	for _, name := range []string{"trust", "school"} {
		v, ok := byName[name]
		if !ok {
			t.Errorf("%s: no %s variable", file, name)
			continue
		}
		if v.Type != "query" || !v.Multi || !v.IncludeAll || v.AllValue != ".*" {
			t.Errorf("%s / variable %s: want a multi-value query with All = .*: %+v", file, name, v)
		}
	}
	if q, _ := byName["school"].Query.(string); !strings.Contains(q, trustFilter) {
		t.Errorf("%s: the school variable does not follow the trust: %q", file, q)
	}
}

func checkDatasource(t *testing.T, where string, ds *jsonDatasource) {
	t.Helper()
	if ds == nil || ds.Type != "influxdb" || ds.UID != "${datasource}" {
		t.Errorf("%s: datasource %+v, want influxdb ${datasource}", where, ds)
	}
}

// checkGrid: every panel fits the 24-column grid and none overlaps another.
func checkGrid(t *testing.T, file string, ps []jsonPanel) {
	t.Helper()
	for i, a := range ps {
		g := a.GridPos
		if g.W <= 0 || g.H <= 0 || g.X < 0 || g.X+g.W > 24 {
			t.Errorf("%s / %q: grid position %+v outside the grid", file, a.Title, g)
		}
		for _, b := range ps[i+1:] {
			h := b.GridPos
			if g.X < h.X+h.W && h.X < g.X+g.W && g.Y < h.Y+h.H && h.Y < g.Y+g.H {
				t.Errorf("%s: %q %+v overlaps %q %+v", file, a.Title, g, b.Title, h)
			}
		}
	}
}

// The measurements the collector writes itself (.notes/influx-schema.md);
// the agent's come from collector/standards/measurements.yaml.
var collectorMeasurements = map[string]struct {
	tags   []string
	fields map[string]string
}{
	"standard_verdict": {[]string{"trust", "site", "school", "standard", "requirement", "state"},
		map[string]string{"level": "int", "met": "bool", "summary": "string"}},
	"standard_status": {[]string{"trust", "site", "school", "standard", "state"},
		map[string]string{"level": "int", "met": "int", "total": "int", "why": "string"}},
	"school_status": {[]string{"trust", "site", "school", "phase"},
		map[string]string{"coverage_pct": "float", "agents": "int", "agents_seen_24h": "int", "last_seen_age_s": "float",
			"download_target_mbps": "float", "upload_target_mbps": "float"}},
	"agent_status": {[]string{"trust", "site", "school", "agent", "hostname"},
		map[string]string{"version": "string", "last_seen_age_s": "float", "seen_24h": "bool"}},
}

// schema returns the tags and field types of a measurement.
func schema(name string) (tags map[string]bool, fields map[string]string, ok bool) {
	if m, ok := collectorMeasurements[name]; ok {
		tags = map[string]bool{}
		for _, tg := range m.tags {
			tags[tg] = true
		}
		return tags, m.fields, true
	}
	table := standards.Measurements()
	m, ok := table.Lookup(name)
	if !ok {
		return nil, nil, false
	}
	tags = map[string]bool{"trust": true} // added by the InfluxDB sink
	for _, tg := range append(slices.Clone(m.Tags), table.CommonTags...) {
		tags[tg.Name] = true
	}
	fields = map[string]string{}
	for _, f := range m.Fields {
		fields[f.Name] = f.Type
	}
	return tags, fields, true
}

var (
	queryShape = regexp.MustCompile(`^SELECT (.+) FROM "(\w+)" WHERE (.+?) GROUP BY (.+?)(?: fill\((null|none|previous)\))?$`)
	call       = regexp.MustCompile(`(\w+)\("(\w+)"\)`)
	condition  = regexp.MustCompile(`"(\w+)" (=~|!~|!=|<>|>=|<=|=|>|<)`)
	groupTag   = regexp.MustCompile(`"(\w+)"`)
	numericFns = map[string]bool{"mean": true, "median": true, "sum": true, "percentile": true, "min": true, "max": true, "spread": true, "stddev": true}
	anyFns     = map[string]bool{"last": true, "first": true, "count": true, "distinct": true}
)

// lintTarget checks one query: a raw InfluxQL SELECT over one named
// measurement, scoped to the trust or school and the time range, grouped
// by time where it is a time series, with functions that suit the field
// types and conditions on tags only (a filter on a field value that may
// not occur would empty the panel).
func lintTarget(errorf func(string, ...any), where string, tg jsonTarget) {
	if ds := tg.Datasource; ds == nil || ds.Type != "influxdb" || ds.UID != "${datasource}" {
		errorf("%s: datasource %+v, want influxdb ${datasource}", where, ds)
	}
	if !tg.RawQuery {
		errorf("%s: not a raw query", where)
	}
	q := tg.Query
	if !strings.Contains(q, "$timeFilter") {
		errorf("%s: no $timeFilter: %s", where, q)
	}
	if !strings.Contains(q, trustFilter) && !strings.Contains(q, schoolFilter) {
		errorf("%s: neither trust nor school filter: %s", where, q)
	}
	for _, banned := range []string{" INTO ", "FROM (", "FROM /", "|>", "$__interval_ms"} {
		if strings.Contains(q, banned) {
			errorf("%s: %q is not plain InfluxQL for 1.8, 2.x and 3: %s", where, banned, q)
		}
	}
	m := queryShape.FindStringSubmatch(q)
	if m == nil {
		errorf("%s: not of the form SELECT ... FROM \"m\" WHERE ... GROUP BY ...: %s", where, q)
		return
	}
	sel, meas, cond, group := m[1], m[2], m[3], m[4]
	switch tg.ResultFormat {
	case "time_series", "table":
	default:
		errorf("%s: result format %q", where, tg.ResultFormat)
	}
	byTime := strings.HasPrefix(group, "time($__interval)")
	if tg.ResultFormat == "time_series" && byTime != (m[5] != "") {
		errorf("%s: a time-grouped series needs fill(), an ungrouped one none: %s", where, q)
	}
	tags, fields, ok := schema(meas)
	if !ok {
		errorf("%s: unknown measurement %q", where, meas)
		return
	}
	calls := call.FindAllStringSubmatch(sel, -1)
	if len(calls) == 0 {
		errorf("%s: no aggregate in %s", where, sel)
	}
	for _, c := range calls {
		fn, field := c[1], c[2]
		typ, ok := fields[field]
		switch {
		case !ok:
			errorf("%s: %s has no field %q", where, meas, field)
		case numericFns[fn] && typ != "int" && typ != "float":
			errorf("%s: %s() on %s field %s.%s", where, fn, typ, meas, field)
		case !numericFns[fn] && !anyFns[fn]:
			errorf("%s: function %s() not in the portable set", where, fn)
		}
	}
	for _, c := range condition.FindAllStringSubmatch(strings.ReplaceAll(cond, "$timeFilter", ""), -1) {
		if !tags[c[1]] {
			errorf("%s: condition on %q, which is not a tag of %s (filter on tags only)", where, c[1], meas)
		}
	}
	for _, g := range groupTag.FindAllStringSubmatch(group, -1) {
		if !tags[g[1]] {
			errorf("%s: GROUP BY %q, which is not a tag of %s", where, g[1], meas)
		}
	}
}

// TestProvisioningYAML: both provisioning files parse and say what Grafana
// needs.
func TestProvisioningYAML(t *testing.T) {
	var ds struct {
		APIVersion  int `yaml:"apiVersion"`
		Datasources []struct {
			Name, Type, UID, URL string
			JSONData             map[string]any `yaml:"jsonData"`
		} `yaml:"datasources"`
	}
	readYAML(t, filepath.Join("..", "provisioning", "datasources", "probity-influxdb.yaml"), &ds)
	if ds.APIVersion != 1 || len(ds.Datasources) != 1 || ds.Datasources[0].Type != "influxdb" ||
		ds.Datasources[0].JSONData["version"] != "InfluxQL" || ds.Datasources[0].JSONData["dbName"] == nil {
		t.Errorf("datasource provisioning: %+v", ds)
	}
	var dp struct {
		APIVersion int `yaml:"apiVersion"`
		Providers  []struct {
			Name, Type string
			Options    struct{ Path string } `yaml:"options"`
		} `yaml:"providers"`
	}
	readYAML(t, filepath.Join("..", "provisioning", "dashboards", "probity.yaml"), &dp)
	if dp.APIVersion != 1 || len(dp.Providers) != 1 || dp.Providers[0].Type != "file" || dp.Providers[0].Options.Path == "" {
		t.Errorf("dashboard provisioning: %+v", dp)
	}
}

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// TestLintCatchesBadQueries: the lint rejects what the rules forbid, so a
// passing lint means something.
func TestLintCatchesBadQueries(t *testing.T) {
	ds := &jsonDatasource{Type: "influxdb", UID: "${datasource}"}
	bad := []string{
		`SELECT mean("pass") FROM "filter" WHERE "site" =~ /^$school$/ AND $timeFilter GROUP BY time($__interval) fill(null)`,
		`SELECT count("outages") FROM "reachability" WHERE "site" =~ /^$school$/ AND "outages" > 0 AND $timeFilter GROUP BY time($__interval) fill(null)`,
		`SELECT last("mbps") FROM "throughput" WHERE $timeFilter GROUP BY time($__interval) fill(null)`,
		`SELECT last("mbps") FROM "throughput" WHERE "site" =~ /^$school$/ GROUP BY time($__interval) fill(null)`,
		`SELECT last("nope") FROM "throughput" WHERE "site" =~ /^$school$/ AND $timeFilter GROUP BY time($__interval) fill(null)`,
		`SELECT last("mbps") FROM /thr.*/ WHERE "site" =~ /^$school$/ AND $timeFilter GROUP BY time($__interval) fill(null)`,
		`SELECT last("mbps") FROM "throughput" WHERE "site" =~ /^$school$/ AND $timeFilter GROUP BY time($__interval), "bytes" fill(null)`,
	}
	for _, q := range bad {
		var problems []string
		lintTarget(func(f string, a ...any) { problems = append(problems, fmt.Sprintf(f, a...)) },
			"bad", jsonTarget{RefID: "A", Datasource: ds, Query: q, RawQuery: true, ResultFormat: "time_series"})
		if len(problems) == 0 {
			t.Errorf("lint accepts %s", q)
		}
	}
	good := `SELECT median("mbps") FROM "throughput" WHERE "trust" =~ /^$trust$/ AND "site" =~ /^$school$/ AND $timeFilter AND "direction" = 'download' GROUP BY time($__interval), "site" fill(none)`
	lintTarget(func(f string, a ...any) { t.Errorf("lint rejects a good query: "+f, a...) },
		"good", jsonTarget{RefID: "A", Datasource: ds, Query: good, RawQuery: true, ResultFormat: "time_series"})
}

// TestCommittedJSONLoadsStrictly: the committed JSON reads back through
// the SDK's strict decoder (no unknown or mistyped keys for Grafana's
// dashboard model), with the InfluxDB targets as InfluxQuery again.
func TestCommittedJSONLoadsStrictly(t *testing.T) {
	plugins.RegisterDefaultPlugins()
	cog.NewRuntime().RegisterDataqueryVariant(variants.DataqueryConfig{
		Identifier: "influxdb",
		DataqueryUnmarshaler: func(raw []byte) (variants.Dataquery, error) {
			var q InfluxQuery
			err := json.Unmarshal(raw, &q)
			return q, err
		},
		StrictDataqueryUnmarshaler: func(raw []byte) (variants.Dataquery, error) {
			var q InfluxQuery
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.DisallowUnknownFields()
			err := dec.Decode(&q)
			return q, err
		},
	})
	for _, f := range committedFiles(t) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		//lint:ignore SA1019 the committed JSON is the classic model (see render)
		var d dashboard.Dashboard
		// The SDK returns an empty BuildErrors, not nil, when all is well.
		if err := d.UnmarshalJSONStrict(b); err != nil {
			var be cog.BuildErrors
			if !errors.As(err, &be) {
				t.Errorf("%s: %v", f, err)
				continue
			}
			for _, e := range be {
				t.Errorf("%s: %s: %s", f, e.Path, e.Message)
			}
			if len(be) > 0 {
				continue
			}
		}
		for _, p := range d.Panels {
			if p.Panel == nil {
				continue
			}
			for _, q := range p.Panel.Targets {
				if _, ok := q.(InfluxQuery); !ok {
					t.Errorf("%s / %s: target decoded as %T", f, *p.Panel.Title, q)
				}
			}
		}
	}
}
