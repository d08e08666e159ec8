package report

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/probity-edu/probity/collector/rollup"
	"github.com/probity-edu/probity/collector/score"
	"github.com/probity-edu/probity/collector/standards"
	"github.com/probity-edu/probity/collector/store"
)

// Chart is one condition's daily figure over the report's period against
// its threshold: "a year of daily broadband medians against the line".
type Chart struct {
	Req       string           `json:"req"`
	Title     string           `json:"title"`
	Stat      string           `json:"stat"`
	Unit      string           `json:"unit"`
	Threshold float64          `json:"threshold"`
	Op        string           `json:"op"`
	From      time.Time        `json:"from"`
	To        time.Time        `json:"to"`
	Points    []score.DayValue `json:"points"`
}

// Coverage is the share of the period's days on which the school's agents
// sent data (their own health points, every minute while they run).
type Coverage struct {
	Days         int     `json:"days"`
	DaysWithData int     `json:"days_with_data"`
	Share        float64 `json:"share"` // 0..1
}

// ProbeInfo is provenance: a measurement the school's agents sent in the
// last week, how many series and when last.
type ProbeInfo struct {
	Measurement string    `json:"measurement"`
	Series      int       `json:"series"`
	LastDay     time.Time `json:"last_day"`
}

// rollupSource reads rollups; the store implements it.
type rollupSource interface {
	Rollups(ctx context.Context, q store.RollupQuery) ([]rollup.Bucket, error)
}

// chartable: statistics a daily line means something for.
var chartable = map[string]bool{
	standards.StatMedian: true, standards.StatMean: true, standards.StatP10: true, standards.StatP90: true,
	standards.StatMin: true, standards.StatMax: true, standards.StatShare: true,
}

// dailyCache reads each selection of daily buckets of the period once:
// several rules read the same field with the same tags (filter.pass for
// must-block checks feeds FM-6, BB-8 and FM-10).
type dailyCache struct {
	src      rollupSource
	site     string
	from, to time.Time
	got      map[string][]rollup.Bucket
}

func (c *dailyCache) buckets(ctx context.Context, measurement, field string, where map[string]string, onlyOK bool) ([]rollup.Bucket, error) {
	key := fmt.Sprint(measurement, "\x00", field, "\x00", onlyOK)
	for _, k := range slices.Sorted(maps.Keys(where)) {
		key += "\x00" + k + "=" + where[k]
	}
	if bs, ok := c.got[key]; ok {
		return bs, nil
	}
	bs, err := c.src.Rollups(ctx, store.RollupQuery{Site: c.site, Res: rollup.Day, Measurement: measurement,
		Field: field, Tags: where, OnlyOK: onlyOK, From: c.from, To: c.to})
	if err != nil {
		return nil, err
	}
	if c.got == nil {
		c.got = map[string][]rollup.Bucket{}
	}
	c.got[key] = bs
	return bs, nil
}

// charts builds a row's charts from the period's daily buckets; rows with
// no rule, or that do not apply, have none.
func charts(ctx context.Context, dc *dailyCache, site store.Site, req standards.Requirement) ([]Chart, error) {
	from, to := dc.from, dc.to
	if req.Rule == nil || !req.AppliesTo(site.Phase) {
		return nil, nil
	}
	var out []Chart
	for _, c := range req.Rule.Conditions {
		if !chartable[c.Stat] {
			continue
		}
		bs, err := dc.buckets(ctx, c.Measurement, c.Field, c.Where, c.OnlyOK)
		if err != nil {
			return nil, fmt.Errorf("%s %q: %w", req.ID, c.Name, err)
		}
		pts := score.Daily(c, bs, from, to)
		if len(pts) == 0 {
			continue
		}
		stat := "daily " + c.Stat
		if c.Stat == standards.StatShare {
			stat = "daily share"
		}
		out = append(out, Chart{Req: req.ID, Title: c.Name + " (" + stat + ")", Stat: c.Stat, Unit: c.Unit,
			Threshold: c.Threshold(site.Phase), Op: c.Compare.Op, From: from, To: to, Points: pts})
	}
	return out, nil
}

// coverage counts the days of [from, to) with the agents' health points:
// whole days from their daily buckets, the day to falls in (not rolled up
// into a day yet) from its hourly ones.
func coverage(ctx context.Context, src rollupSource, siteID string, from, to time.Time) (Coverage, error) {
	from, today := rollup.Day.Truncate(from), rollup.Day.Truncate(to)
	q := store.RollupQuery{Site: siteID, Res: rollup.Day, Measurement: "agent", Field: "queued_batches", From: from, To: today}
	bs, err := src.Rollups(ctx, q)
	if err != nil {
		return Coverage{}, fmt.Errorf("coverage: %w", err)
	}
	days := map[time.Time]bool{}
	for _, b := range bs {
		if b.Count > 0 {
			days[b.Start] = true
		}
	}
	c := Coverage{Days: int(today.Sub(from) / (24 * time.Hour)), DaysWithData: len(days)}
	if to.After(today) {
		q.Res, q.From, q.To = rollup.Hour, today, to
		hs, err := src.Rollups(ctx, q)
		if err != nil {
			return Coverage{}, fmt.Errorf("coverage: %w", err)
		}
		c.Days++
		for _, b := range hs {
			if b.Count > 0 {
				c.DaysWithData++
				break
			}
		}
	}
	if c.Days > 0 {
		c.Share = float64(c.DaysWithData) / float64(c.Days)
	}
	return c, nil
}

// probes lists what the agents sent in the week before to, from its
// hourly buckets.
func probes(ctx context.Context, src rollupSource, siteID string, to time.Time) ([]ProbeInfo, error) {
	bs, err := src.Rollups(ctx, store.RollupQuery{Site: siteID, Res: rollup.Day, From: to.Add(-7 * 24 * time.Hour), To: to})
	if err != nil {
		return nil, fmt.Errorf("probes: %w", err)
	}
	series := map[string]map[string]bool{}
	last := map[string]time.Time{}
	for _, b := range bs {
		if series[b.Measurement] == nil {
			series[b.Measurement] = map[string]bool{}
		}
		series[b.Measurement][b.Series] = true
		if b.Start.After(last[b.Measurement]) {
			last[b.Measurement] = b.Start
		}
	}
	out := make([]ProbeInfo, 0, len(series))
	for _, m := range slices.Sorted(maps.Keys(series)) {
		out = append(out, ProbeInfo{Measurement: m, Series: len(series[m]), LastDay: last[m]})
	}
	return out, nil
}
