package influx

import (
	"context"
	"fmt"
	"time"

	"github.com/probity-edu/probity/collector/report"
	"github.com/probity-edu/probity/collector/standards"
	"github.com/probity-edu/probity/collector/store"
	"github.com/probity-edu/probity/internal/point"
)

// Measurements the exporter writes after each scoring run, at the time of
// the run (docs/grafana.md lists their tags and fields).
const (
	// MeasurementVerdict is one school's verdict on one requirement.
	MeasurementVerdict = "standard_verdict"
	// MeasurementStandard is one school on one core standard, judged as the
	// governors' report judges it.
	MeasurementStandard = "standard_status"
	// MeasurementSchool is one school's coverage, agents and the broadband
	// thresholds of its phase.
	MeasurementSchool = "school_status"
	// MeasurementAgent is one enrolled agent: version and when last seen.
	MeasurementAgent = "agent_status"
)

// Exporter turns the stored verdicts into points for status panels and
// hands them to the sink.
type Exporter struct {
	Store     store.Store
	Catalogue *standards.Catalogue
	Sink      *Sink
	Now       func() time.Time
}

// Export writes the current state of every school once.
func (e *Exporter) Export(ctx context.Context) error {
	now := time.Now()
	if e.Now != nil {
		now = e.Now()
	}
	pts, err := e.Points(ctx, now)
	if err != nil {
		return err
	}
	e.Sink.Enqueue(pts)
	return nil
}

// Points builds the status points of every school at now.
func (e *Exporter) Points(ctx context.Context, now time.Time) ([]point.Point, error) {
	fleet, err := report.BuildFleet(ctx, e.Store, e.Catalogue, 0, now)
	if err != nil {
		return nil, fmt.Errorf("influx export: %w", err)
	}
	var pts []point.Point
	for _, sc := range fleet.Schools {
		site := sc.Site
		base := func(extra ...string) map[string]string {
			t := map[string]string{TagSite: site.ID, TagSchool: site.Name, TagTrust: sc.Trust}
			for i := 0; i+1 < len(extra); i += 2 {
				t[extra[i]] = extra[i+1]
			}
			return t
		}
		for _, v := range sc.Verdicts {
			req, ok := e.Catalogue.Requirement(v.ReqID)
			if !ok || v.State == "not_applicable" {
				continue
			}
			pts = append(pts, point.New(MeasurementVerdict,
				base("standard", req.Standard, "requirement", v.ReqID, "state", v.State),
				map[string]any{"level": VerdictLevel(v.State), "met": v.State == "met" || v.State == "attested", "summary": v.Summary}, now))
		}
		for _, c := range sc.Cells {
			pts = append(pts, point.New(MeasurementStandard, base("standard", c.Standard, "state", c.State),
				map[string]any{"level": StandardLevel(c.State), "met": int64(c.Met), "total": int64(c.Total), "why": c.Why}, now))
		}
		school := map[string]any{"coverage_pct": sc.Coverage * 100, "agents": int64(len(sc.Agents))}
		if sc.LastSeen != nil {
			school["last_seen_age_s"] = now.Sub(*sc.LastSeen).Seconds()
		}
		seen := int64(0)
		for _, a := range sc.Agents {
			f := map[string]any{"version": a.Version, "seen_24h": a.LastSeen != nil && now.Sub(*a.LastSeen) < 24*time.Hour}
			if a.LastSeen != nil {
				f["last_seen_age_s"] = now.Sub(*a.LastSeen).Seconds()
				if now.Sub(*a.LastSeen) < 24*time.Hour {
					seen++
				}
			}
			pts = append(pts, point.New(MeasurementAgent, base(TagAgent, a.ID, "hostname", a.Hostname), f, now))
		}
		school["agents_seen_24h"] = seen
		down, up := BroadbandTargets(e.Catalogue, site.Phase)
		if down > 0 {
			school["download_target_mbps"] = down
		}
		if up > 0 {
			school["upload_target_mbps"] = up
		}
		pts = append(pts, point.New(MeasurementSchool, base("phase", site.Phase), school, now))
	}
	return pts, nil
}

// VerdictLevel ranks a requirement's state for status panels: 3 met or
// attested, 2 partly met or plan needed, 1 not met or attestation
// expired, 0 not enough data.
func VerdictLevel(state string) int64 {
	switch state {
	case "met", "attested":
		return 3
	case "partly_met", "plan_needed":
		return 2
	case "not_met", "attestation_expired":
		return 1
	}
	return 0
}

// StandardLevel ranks a standard's state the same way: 3 met, 2 partly
// met, 1 not met, 0 not evidenced.
func StandardLevel(state string) int64 {
	switch state {
	case report.StandardMet:
		return 3
	case report.StandardPartlyMet:
		return 2
	case report.StandardNotMet:
		return 1
	}
	return 0
}

// BroadbandTargets are the download and upload thresholds (Mbit/s) that
// the catalogue sets on the multi-stream throughput median for a phase:
// the lines the broadband dashboard draws. Zero when none applies.
func BroadbandTargets(cat *standards.Catalogue, phase string) (down, up float64) {
	for _, r := range cat.Requirements {
		if r.Rule == nil || !r.AppliesTo(phase) {
			continue
		}
		for _, c := range r.Rule.Conditions {
			if c.Measurement != "throughput" || c.Where["mode"] != "multi" || c.Field != "mbps" || c.Compare.Op != "ge" {
				continue
			}
			v := c.Threshold(phase)
			switch c.Where["direction"] {
			case "download":
				down = max(down, v)
			case "upload":
				up = max(up, v)
			}
		}
	}
	return down, up
}
