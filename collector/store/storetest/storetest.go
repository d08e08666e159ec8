// Package storetest is the conformance suite every store.Store implementation
// must pass, so SQLite and PostgreSQL behave the same to their callers:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { return openEmpty(t) })
//	}
package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/probity-edu/probity/collector/store"
	"github.com/probity-edu/probity/internal/point"
)

// Open returns a new, empty store for one subtest. Run closes it when the
// subtest ends.
type Open func(t *testing.T) store.Store

// Run runs every conformance test against stores made by open.
func Run(t *testing.T, open Open) {
	tests := []struct {
		name string
		fn   func(t *testing.T, st store.Store)
	}{
		{"Trusts", testTrusts},
		{"Sites", testSites},
		{"EnrolToken", testEnrolToken},
		{"EnrolTokenConcurrent", testEnrolTokenConcurrent},
		{"Credentials", testCredentials},
		{"AgentAddress", testAgentAddress},
		{"WriteBatchIdempotent", testWriteBatchIdempotent},
		{"WriteBatchUnknownAgent", testWriteBatchUnknownAgent},
		{"FieldRoundTrip", testFieldRoundTrip},
		{"PointsQuery", testPointsQuery},
		{"Rollup", testRollup},
		{"RollupLate", testRollupLate},
		{"RollupSealed", testRollupSealed},
		{"RollupDaily", testRollupDaily},
		{"RollupDistributions", testRollupDistributions},
		{"RollupQuery", testRollupQuery},
		{"WriteRollups", testWriteRollups},
		{"Prune", testPrune},
		{"Verdicts", testVerdicts},
		{"Attestations", testAttestations},
		{"Findings", testFindings},
		{"Users", testUsers},
		{"Sessions", testSessions},
		{"ConcurrentWriters", testConcurrentWriters},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := open(t)
			t.Cleanup(func() {
				if err := st.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tc.fn(t, st)
		})
	}
}

// t0 is a fixed hour start; every test time is relative to it.
var t0 = time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC)

// Tag names the collector sets on every point; a store keeps them out of
// the series key.
const (
	tagSite  = store.TagSite
	tagAgent = store.TagAgent
)

// fixture is one trust, one site and one enrolled agent.
type fixture struct {
	trust store.Trust
	site  store.Site
	agent store.Agent
}

func newFixture(t *testing.T, st store.Store, siteID string) fixture {
	t.Helper()
	ctx := context.Background()
	tr, err := st.TrustByName(ctx, "Fixture Trust")
	if errors.Is(err, store.ErrNotFound) {
		tr, err = st.CreateTrust(ctx, "Fixture Trust")
	}
	if err != nil {
		t.Fatalf("trust: %v", err)
	}
	site, err := st.CreateSite(ctx, store.Site{ID: siteID, TrustID: tr.ID, Name: "School " + siteID, Phase: "primary"})
	if err != nil {
		t.Fatalf("CreateSite: %v", err)
	}
	a := enrol(t, st, site.ID, "host-"+siteID)
	return fixture{trust: tr, site: site, agent: a}
}

// enrol creates a token for site and consumes it.
func enrol(t *testing.T, st store.Store, site, hostname string) store.Agent {
	t.Helper()
	ctx := context.Background()
	tok := store.HashSecret("token-" + hostname)
	if err := st.CreateEnrolToken(ctx, site, tok, t0.Add(time.Hour)); err != nil {
		t.Fatalf("CreateEnrolToken: %v", err)
	}
	a, err := st.ConsumeEnrolToken(ctx, tok, store.Agent{Hostname: hostname, Version: "1.0.0"},
		store.HashSecret("cred-"+hostname), t0)
	if err != nil {
		t.Fatalf("ConsumeEnrolToken: %v", err)
	}
	return a
}

// stamp sets the site and agent tags as ingest does.
func stamp(a store.Agent, pts []point.Point) []point.Point {
	for i := range pts {
		tags := map[string]string{tagSite: a.SiteID, tagAgent: a.ID}
		for k, v := range pts[i].Tags {
			tags[k] = v
		}
		pts[i].Tags = tags
	}
	return pts
}

func write(t *testing.T, st store.Store, a store.Agent, id string, now time.Time, pts []point.Point) {
	t.Helper()
	dup, err := st.WriteBatch(context.Background(), store.Batch{ID: id, Agent: a, Points: stamp(a, pts)}, now)
	if err != nil {
		t.Fatalf("WriteBatch %s: %v", id, err)
	}
	if dup {
		t.Fatalf("WriteBatch %s: dup=true for a new batch", id)
	}
}

func ping(target string, at time.Time, rtt float64, sent int64, ok bool) point.Point {
	return point.Point{
		Measurement: "ping",
		Tags:        map[string]string{"target": target},
		Fields:      map[string]any{"rtt_ms": rtt, "sent": sent, "ok": ok, "result": "ok"},
		Time:        at,
	}
}

func stats(t *testing.T, st store.Store) store.Stats {
	t.Helper()
	s, err := st.Stats(context.Background())
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	return s
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: err = %v, want %v", what, err, want)
	}
}

func batchID(prefix string, i int) string { return fmt.Sprintf("%s-%04d", prefix, i) }
