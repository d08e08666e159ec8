package main

import (
	"errors"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/common"
)

// The SDK ships no InfluxDB query type, so the generator defines the raw
// InfluxQL target Grafana's InfluxDB datasource stores: only the fields a
// raw query needs, nothing of the visual query editor.

// Result formats of an InfluxQL target.
const (
	formatSeries = "time_series"
	formatTable  = "table"
)

// InfluxQuery is one raw InfluxQL target.
type InfluxQuery struct {
	RefID        string               `json:"refId"`
	Datasource   common.DataSourceRef `json:"datasource"`
	Query        string               `json:"query"`
	RawQuery     bool                 `json:"rawQuery"`
	ResultFormat string               `json:"resultFormat"`
	// Alias names the series ($tag_site, $col); empty keeps Grafana's default.
	Alias string `json:"alias,omitempty"`
}

var _ variants.Dataquery = InfluxQuery{}

// ImplementsDataqueryVariant marks InfluxQuery as a panel target.
func (InfluxQuery) ImplementsDataqueryVariant() {}

// DataqueryType is the datasource plugin id.
func (InfluxQuery) DataqueryType() string { return "influxdb" }

// Equals compares two targets field by field.
func (q InfluxQuery) Equals(other variants.Dataquery) bool {
	o, ok := other.(InfluxQuery)
	if !ok {
		return false
	}
	return q.RefID == o.RefID && q.Query == o.Query && q.RawQuery == o.RawQuery &&
		q.ResultFormat == o.ResultFormat && q.Alias == o.Alias &&
		ptrEq(q.Datasource.Type, o.Datasource.Type) && ptrEq(q.Datasource.Uid, o.Datasource.Uid)
}

func ptrEq(a, b *string) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// Validate rejects targets the dashboards must never contain: an empty
// query, an unknown result format, or a query not bounded by the
// dashboard's time range.
func (q InfluxQuery) Validate() error {
	var errs []error
	if q.RefID == "" {
		errs = append(errs, errors.New("influx query: refId is empty"))
	}
	if strings.TrimSpace(q.Query) == "" {
		errs = append(errs, errors.New("influx query "+q.RefID+": query is empty"))
	} else if !strings.Contains(q.Query, "$timeFilter") {
		errs = append(errs, errors.New("influx query "+q.RefID+": no $timeFilter in "+q.Query))
	}
	if q.ResultFormat != formatSeries && q.ResultFormat != formatTable {
		errs = append(errs, errors.New("influx query "+q.RefID+": result format "+q.ResultFormat+" is neither time_series nor table"))
	}
	return errors.Join(errs...)
}

// InfluxQueryBuilder builds an InfluxQuery for the SDK's panel builders.
type InfluxQueryBuilder struct {
	internal InfluxQuery
}

var _ cog.Builder[variants.Dataquery] = (*InfluxQueryBuilder)(nil)

// NewInfluxQueryBuilder starts a raw time-series query on the dashboard's
// ${datasource}.
func NewInfluxQueryBuilder(query string) *InfluxQueryBuilder {
	return &InfluxQueryBuilder{internal: InfluxQuery{
		RefID:        "A",
		Datasource:   datasourceRef(),
		Query:        query,
		RawQuery:     true,
		ResultFormat: formatSeries,
	}}
}

// RefId sets the target's reference id (A, B...).
func (b *InfluxQueryBuilder) RefId(refID string) *InfluxQueryBuilder {
	b.internal.RefID = refID
	return b
}

// Format sets the result format: time_series or table.
func (b *InfluxQueryBuilder) Format(format string) *InfluxQueryBuilder {
	b.internal.ResultFormat = format
	return b
}

// Alias sets the series alias.
func (b *InfluxQueryBuilder) Alias(alias string) *InfluxQueryBuilder {
	b.internal.Alias = alias
	return b
}

// Build validates and returns the target.
func (b *InfluxQueryBuilder) Build() (variants.Dataquery, error) {
	if err := b.internal.Validate(); err != nil {
		return nil, cog.MakeBuildErrors("InfluxQuery", err)
	}
	return b.internal, nil
}

// datasourceRef points at the dashboard's datasource variable, so the
// same JSON works whatever the InfluxDB datasource is called.
func datasourceRef() common.DataSourceRef {
	return common.DataSourceRef{Type: cog.ToPtr("influxdb"), Uid: cog.ToPtr("${datasource}")}
}
