// Command gen writes Probity's Grafana dashboards (dashboards/*.json) from
// Go with the Grafana Foundation SDK, so every panel follows the same rules:
// raw InfluxQL that runs on InfluxDB 1.8, 2.x (DBRP) and 3, the trust and
// school variables in every query, a unit, thresholds and a description
// naming the requirement the panel evidences.
//
// Run it from the repository root (`go run ./dashboards/gen`) or through
// `go generate ./dashboards/gen`; the committed JSON is its output, and a
// test fails when the two differ. With -panels it prints instead the
// per-dashboard panel tables that docs/grafana.md carries.
package main

//go:generate go run .

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

func main() {
	dir := flag.String("dir", "", "folder the dashboards are written to (default: the repository's dashboards folder)")
	panels := flag.Bool("panels", false, "print the panel tables for docs/grafana.md instead of writing the dashboards")
	flag.Parse()
	if *panels {
		fmt.Print(panelTables())
		return
	}
	if *dir == "" {
		d, err := dashboardsDir()
		if err != nil {
			slog.Error("finding the dashboards folder", "err", err)
			os.Exit(1)
		}
		*dir = d
	}
	for _, d := range dashboards() {
		out, err := render(d)
		if err != nil {
			slog.Error("building dashboard", "file", d.file, "err", err)
			os.Exit(1)
		}
		path := filepath.Join(*dir, d.file)
		if err := os.WriteFile(path, out, 0o644); err != nil {
			slog.Error("writing dashboard", "err", err)
			os.Exit(1)
		}
		slog.Info("wrote dashboard", "path", path, "panels", len(d.panels))
	}
}

// dashboardsDir finds dashboards/ whether run from the repository root
// (go run ./dashboards/gen) or from this folder (go generate).
func dashboardsDir() (string, error) {
	for _, c := range []string{"dashboards", ".."} {
		if _, err := os.Stat(filepath.Join(c, "gen", "main.go")); err == nil {
			return c, nil
		}
	}
	return "", errors.New("run from the repository root or dashboards/gen: no dashboards/gen/main.go here")
}

// render builds one dashboard and returns its JSON as committed.
func render(d dash) ([]byte, error) {
	// The v2 schema (dashboardv2) imports only into Grafana 12 with its
	// feature flag; the classic model imports everywhere.
	//lint:ignore SA1019 the classic dashboard model is the portable one
	b := dashboard.NewDashboardBuilder(d.title).
		Uid(d.uid).Description(d.desc).Tags([]string{"probity"}).
		Refresh("1m").Time("now-24h", "now").Timezone("browser").Editable().
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		Link(dashboard.NewDashboardLinkBuilder("Probity dashboards").
			Type(dashboard.DashboardLinkTypeDashboards).Tags([]string{"probity"}).
			AsDropdown(false).IncludeVars(true).KeepTime(true).Icon("external link").
			Tooltip("The other Probity dashboards, keeping the trust, school and time range"))
	vars := []cog.Builder[dashboard.VariableModel]{
		dashboard.NewDatasourceVariableBuilder("datasource").Label("InfluxDB").Type("influxdb"),
		queryVar("trust", "Trust", `SHOW TAG VALUES FROM "school_status" WITH KEY = "trust"`),
		queryVar("school", "School", `SHOW TAG VALUES FROM "school_status" WITH KEY = "site" WHERE "trust" =~ /^$trust$/`),
	}
	b.Variables(append(vars, d.vars...))
	var l layout
	for i, p := range d.panels {
		b.WithPanel(p.build(uint32(i+1), l.place(p.w, p.h)))
	}
	built, err := b.Build()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(built); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// queryVar is a multi-value tag variable with All meaning any value.
func queryVar(name, label, query string) *dashboard.QueryVariableBuilder {
	return dashboard.NewQueryVariableBuilder(name).Label(label).
		Query(dashboard.StringOrMap{String: cog.ToPtr(query)}).Definition(query).
		Datasource(datasourceRef()).Multi(true).IncludeAll(true).AllValue(".*").
		Refresh(dashboard.VariableRefreshOnDashboardLoad).Sort(dashboard.VariableSortAlphabeticalCaseInsensitiveAsc).
		Current(dashboard.VariableOption{
			Selected: cog.ToPtr(true),
			Text:     dashboard.StringOrArrayOfString{ArrayOfString: []string{"All"}},
			Value:    dashboard.StringOrArrayOfString{ArrayOfString: []string{"$__all"}},
		})
}

func fmtNum(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// panelTables renders, per dashboard, the table of its panels for
// docs/grafana.md.
func panelTables() string {
	var sb strings.Builder
	for _, d := range dashboards() {
		fmt.Fprintf(&sb, "### %s (`%s`, uid `%s`)\n\n%s\n\n", d.title, d.file, d.uid, d.desc)
		sb.WriteString("| panel | shows | query | unit | thresholds | requirements |\n|---|---|---|---|---|---|\n")
		for _, p := range d.panels {
			reqs := p.reqs
			if reqs == "" {
				reqs = "none"
			}
			fmt.Fprintf(&sb, "| %s | %s | %s | %s | %s | %s |\n", p.title, md(p.desc), md(p.source), p.unit, p.thresholdText(), reqs)
		}
		sb.WriteString("\n")
	}
	return sb.String()
}

func md(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
