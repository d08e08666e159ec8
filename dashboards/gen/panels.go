package main

import (
	"fmt"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/bargauge"
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/statetimeline"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// Every query is limited to the selected trust and schools and to the
// dashboard's time range.
const scope = `"trust" =~ /^$trust$/ AND "site" =~ /^$school$/ AND $timeFilter`

// Panel kinds.
const (
	kindTimeseries = "timeseries"
	kindStat       = "stat"
	kindTable      = "table"
	kindTimeline   = "state-timeline"
	kindBarGauge   = "bargauge"
)

// Colours Grafana names.
const (
	green = "green"
	amber = "orange"
	red   = "red"
	grey  = "text"
	blue  = "blue"
)

// step is one threshold step; the first of a panel is the base (no value).
type step struct {
	value float64
	color string
}

// mapping is one value mapping: a value shown as text in a colour.
type mapping struct {
	value, text, color string
}

// target is one InfluxQL query of a panel.
type target struct {
	query  string
	format string // formatSeries when empty
	alias  string
}

// panel describes one panel; build turns it into the SDK's builders and
// docs/grafana.md's tables are made from the same values.
type panel struct {
	kind        string
	title       string
	desc        string // what it shows
	reqs        string // requirement ids it evidences, e.g. "BB-2, BB-3"
	source      string // measurement and fields, for the docs
	w, h        uint32
	unit        string
	min, max    *float64
	base        string // colour of the base threshold step
	steps       []step // further threshold steps
	mappings    []mapping
	targets     []target
	dashed      string // regexp of series drawn as dashed lines (thresholds)
	bars        bool   // time series drawn as bars (counts of events)
	sortBy      string // table: column to sort by
	sortDesc    bool
	colourCells bool     // table: colour number and boolean cells by thresholds and mappings
	colourCols  []string // table: text columns coloured by their value mappings
	transforms  []dashboard.DataTransformerConfig
}

func f(v float64) *float64 { return &v }

// description is what the panel shows, then what it evidences.
func (p panel) description() string {
	if p.reqs == "" {
		return p.desc
	}
	return p.desc + " Evidence for " + p.reqs + "."
}

// thresholdText renders the thresholds for docs/grafana.md.
func (p panel) thresholdText() string {
	parts := []string{p.base}
	for _, s := range p.steps {
		parts = append(parts, fmt.Sprintf("%s from %g", s.color, s.value))
	}
	return strings.ReplaceAll(strings.Join(parts, ", "), "orange", "amber")
}

func (p panel) thresholds() *dashboard.ThresholdsConfigBuilder {
	steps := []dashboard.Threshold{{Value: nil, Color: p.base}}
	for _, s := range p.steps {
		steps = append(steps, dashboard.Threshold{Value: f(s.value), Color: s.color})
	}
	return dashboard.NewThresholdsConfigBuilder().Mode(dashboard.ThresholdsModeAbsolute).Steps(steps)
}

func (p panel) valueMappings() []dashboard.ValueMapping {
	if len(p.mappings) == 0 {
		return nil
	}
	opts := map[string]dashboard.ValueMappingResult{}
	for i, m := range p.mappings {
		opts[m.value] = dashboard.ValueMappingResult{Text: cog.ToPtr(m.text), Color: cog.ToPtr(m.color), Index: cog.ToPtr(int32(i))}
	}
	return []dashboard.ValueMapping{{ValueMap: &dashboard.ValueMap{Type: dashboard.MappingTypeValueToText, Options: opts}}}
}

func (p panel) queries() []cog.Builder[variants.Dataquery] {
	var qs []cog.Builder[variants.Dataquery]
	for i, t := range p.targets {
		b := NewInfluxQueryBuilder(t.query).RefId(string(rune('A' + i))).Alias(t.alias)
		if t.format != "" {
			b.Format(t.format)
		}
		qs = append(qs, b)
	}
	return qs
}

// common is what every panel builder of the SDK offers; each method
// returns the builder itself.
type commonBuilder[B any] interface {
	cog.Builder[dashboard.Panel]
	Id(uint32) B
	Title(string) B
	Description(string) B
	Datasource(common.DataSourceRef) B
	Targets([]cog.Builder[variants.Dataquery]) B
	GridPos(dashboard.GridPos) B
	Unit(string) B
	Min(float64) B
	Max(float64) B
	Thresholds(cog.Builder[dashboard.ThresholdsConfig]) B
	Mappings([]dashboard.ValueMapping) B
	Transformations([]dashboard.DataTransformerConfig) B
}

func applyCommon[B commonBuilder[B]](b B, p panel, id uint32, pos dashboard.GridPos) B {
	b.Id(id).Title(p.title).Description(p.description()).Datasource(datasourceRef()).
		Targets(p.queries()).GridPos(pos).Unit(p.unit).Thresholds(p.thresholds())
	if p.min != nil {
		b.Min(*p.min)
	}
	if p.max != nil {
		b.Max(*p.max)
	}
	if m := p.valueMappings(); m != nil {
		b.Mappings(m)
	}
	if p.transforms != nil {
		b.Transformations(p.transforms)
	}
	return b
}

// dashedLine draws threshold series as red dashed lines.
func dashedLine() []dashboard.DynamicConfigValue {
	return []dashboard.DynamicConfigValue{
		{Id: "custom.lineStyle", Value: map[string]any{"fill": "dash", "dash": []int{10, 10}}},
		{Id: "color", Value: map[string]any{"mode": "fixed", "fixedColor": red}},
		{Id: "custom.fillOpacity", Value: 0},
	}
}

func colourBackground() []dashboard.DynamicConfigValue {
	return []dashboard.DynamicConfigValue{{Id: "custom.cellOptions", Value: map[string]any{"type": "color-background"}}}
}

func tooltip() *common.VizTooltipOptionsBuilder {
	return common.NewVizTooltipOptionsBuilder().Mode(common.TooltipDisplayModeMulti).Sort(common.SortOrderDescending)
}

func legend() *common.VizLegendOptionsBuilder {
	return common.NewVizLegendOptionsBuilder().ShowLegend(true).
		DisplayMode(common.LegendDisplayModeTable).Placement(common.LegendPlacementBottom).
		Calcs([]string{"lastNotNull", "max"})
}

// build turns a panel into the SDK builder of its kind.
func (p panel) build(id uint32, pos dashboard.GridPos) cog.Builder[dashboard.Panel] {
	switch p.kind {
	case kindTimeseries:
		b := applyCommon(timeseries.NewPanelBuilder(), p, id, pos).
			Legend(legend()).Tooltip(tooltip()).SpanNulls(common.BoolOrFloat64{Bool: cog.ToPtr(true)}).
			ShowPoints(common.VisibilityModeAuto).PointSize(5).FillOpacity(10)
		if p.bars {
			b.DrawStyle(common.GraphDrawStyleBars).FillOpacity(80)
		}
		if p.dashed != "" {
			b.OverrideByRegexp(p.dashed, dashedLine())
		}
		return b
	case kindStat:
		return applyCommon(stat.NewPanelBuilder(), p, id, pos).
			ColorMode(common.BigValueColorModeBackground).GraphMode(common.BigValueGraphModeNone).
			Orientation(common.VizOrientationAuto).
			ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}))
	case kindBarGauge:
		return applyCommon(bargauge.NewPanelBuilder(), p, id, pos).
			DisplayMode(common.BarGaugeDisplayModeBasic).Orientation(common.VizOrientationHorizontal).
			ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}))
	case kindTimeline:
		return applyCommon(statetimeline.NewPanelBuilder(), p, id, pos).
			ShowValue(common.VisibilityModeAuto).MergeValues(true).RowHeight(0.8).FillOpacity(80).
			Tooltip(tooltip()).Legend(common.NewVizLegendOptionsBuilder().ShowLegend(false).
			DisplayMode(common.LegendDisplayModeList).Placement(common.LegendPlacementBottom))
	case kindTable:
		b := applyCommon(table.NewPanelBuilder(), p, id, pos).Filterable(true).
			Footer(common.NewTableFooterOptionsBuilder().Show(false).Reducer([]string{"sum"}))
		if p.sortBy != "" {
			b.SortBy([]cog.Builder[common.TableSortByFieldState]{
				common.NewTableSortByFieldStateBuilder().DisplayName(p.sortBy).Desc(p.sortDesc),
			})
		}
		// Colour only the values, never the names (school, device...)
		// beside them.
		if p.colourCells {
			b.OverrideByFieldType("number", colourBackground())
			b.OverrideByFieldType("boolean", colourBackground())
		}
		for _, c := range p.colourCols {
			b.OverrideByName(c, colourBackground())
		}
		return b
	}
	panic("unknown panel kind " + p.kind)
}

// series is a time-series query: select over one measurement, limited to
// the scope (and any extra tag condition), grouped by time and tags.
func series(sel, measurement, where, groupBy, fill string) string {
	if where != "" {
		where = " AND " + where
	}
	return fmt.Sprintf("SELECT %s FROM %q WHERE %s%s GROUP BY time($__interval), %s fill(%s)",
		sel, measurement, scope, where, groupBy, fill)
}

// latest is a table query over the whole time range, one row per group.
func latest(sel, measurement, where, groupBy string) string {
	if where != "" {
		where = " AND " + where
	}
	return fmt.Sprintf("SELECT %s FROM %q WHERE %s%s GROUP BY %s", sel, measurement, scope, where, groupBy)
}

// transformation builds a Grafana transformation.
func transformation(id string, options map[string]any) dashboard.DataTransformerConfig {
	return dashboard.DataTransformerConfig{Id: id, Options: options}
}

// layout places panels left to right in rows of 24 columns, starting a
// new row when the next panel does not fit. The SDK's own placement lets a
// wide panel run past the edge.
type layout struct{ x, y, rowH uint32 }

func (l *layout) place(w, h uint32) dashboard.GridPos {
	if l.x+w > 24 {
		l.x, l.y, l.rowH = 0, l.y+l.rowH, 0
	}
	pos := dashboard.GridPos{X: l.x, Y: l.y, W: w, H: h}
	l.x += w
	l.rowH = max(l.rowH, h)
	return pos
}
