package jobs

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/probity-edu/probity/collector/report"
	"github.com/probity-edu/probity/collector/score"
	"github.com/probity-edu/probity/collector/standards"
	"github.com/probity-edu/probity/collector/store"
	"github.com/probity-edu/probity/collector/store/sqlite"
	"github.com/probity-edu/probity/internal/point"
)

// TestScoreSiteAndReport runs the collector's half of the chain on a real
// store: points in, verdicts stored, report rendered with the figures.
func TestScoreSiteAndReport(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "p.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tr, _ := st.CreateTrust(ctx, "Trust")
	site, err := st.CreateSite(ctx, store.Site{ID: "oak", TrustID: tr.ID, Name: "Oak Secondary", Phase: "secondary"})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateEnrolToken(ctx, "oak", "h", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	agent, err := st.ConsumeEnrolToken(ctx, "h", store.Agent{Hostname: "pi"}, "c", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	var pts []point.Point
	for i := 0; i < 12; i++ {
		at := now.Add(-time.Duration(i+1) * 10 * time.Minute)
		tags := func(kv ...string) map[string]string {
			m := map[string]string{store.TagSite: "oak", store.TagAgent: agent.ID}
			for j := 0; j+1 < len(kv); j += 2 {
				m[kv[j]] = kv[j+1]
			}
			return m
		}
		// Google and YouTube enforced, Bing not: FM-15 is not met and names Bing.
		ss := func(engine string, enforced bool) point.Point {
			return point.New("safesearch", tags("suite", "default", "engine", engine, "target", engine, "host", "www."+engine+".com", "profile", "student"),
				map[string]any{"ok": true, "enforced": enforced, "method": map[bool]string{true: "dns", false: "none"}[enforced]}, at)
		}
		pts = append(pts, ss("google", true), ss("youtube", true), ss("bing", false),
			point.New("http", tags("target", "m365", "role", "cloud"), map[string]any{"ok": i != 0, "result": "ok"}, at),
		)
	}
	if _, err := st.WriteBatch(ctx, store.Batch{ID: "batch-jobs-1", Agent: agent, Points: pts}, now); err != nil {
		t.Fatal(err)
	}
	r := &Runner{Store: st, Catalogue: standards.Default(), Retention: 30 * 24 * time.Hour, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return now }}
	vs, err := r.ScoreSite(ctx, site)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]score.Verdict{}
	for _, v := range vs {
		got[v.ReqID] = v
	}
	if got["FM-15"].State != score.NotMet || !strings.Contains(got["FM-15"].Summary, "student / bing") {
		t.Errorf("FM-15: %+v", got["FM-15"])
	}
	// 11 of 12 requests ok: 91.67% availability is under 99%.
	if got["CL-4"].State != score.NotMet {
		t.Errorf("CL-4: %+v", got["CL-4"])
	}
	if got["FM-13"].State != score.NotEnoughData {
		t.Errorf("FM-13 without filtering checks: %+v", got["FM-13"])
	}
	stored, err := st.Verdicts(ctx, "oak")
	if err != nil || len(stored) != len(vs) {
		t.Fatalf("stored %d verdicts (%v), evaluated %d", len(stored), err, len(vs))
	}

	rep, err := report.Build(ctx, st, standards.Default(), "oak", now)
	if err != nil {
		t.Fatal(err)
	}
	var html bytes.Buffer
	if err := rep.WriteHTML(&html); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Oak Secondary", "FM-15", "Not met", "CL-4", "91.67", "SafeSearch enforced", "student / bing", "pi", standards.Default().Version} {
		if !strings.Contains(html.String(), want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if len(rep.Rows) != len(standards.Default().Requirements) {
		t.Errorf("report has %d rows, catalogue %d", len(rep.Rows), len(standards.Default().Requirements))
	}
	var js bytes.Buffer
	if err := rep.WriteJSON(&js); err != nil || !strings.Contains(js.String(), `"id": "CL-4"`) {
		t.Errorf("JSON report: %v", err)
	}

	// Rollup and prune run on the same store.
	if err := r.Rollup(ctx); err != nil {
		t.Fatal(err)
	}
	bs, err := st.Rollups(ctx, store.RollupQuery{Site: "oak", Measurement: "http", Field: "ok", From: now.Add(-3 * time.Hour), To: now.Add(time.Hour)})
	if err != nil || len(bs) == 0 {
		t.Fatalf("rollups: %v %v", bs, err)
	}
	if err := r.Prune(ctx); err != nil {
		t.Fatal(err)
	}
}

// newSite opens a store with one site and one enrolled agent.
func newSite(t *testing.T, phase string) (*sqlite.Store, store.Site, store.Agent) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "p.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	tr, err := st.CreateTrust(ctx, "Trust")
	if err != nil {
		t.Fatal(err)
	}
	site, err := st.CreateSite(ctx, store.Site{ID: "oak", TrustID: tr.ID, Name: "Oak", Phase: phase})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateEnrolToken(ctx, "oak", "h", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	agent, err := st.ConsumeEnrolToken(ctx, "h", store.Agent{Hostname: "pi"}, "c", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return st, site, agent
}

// cloudPoints are hourly requests to two cloud targets from -from to -to
// hours before now; every failEvery-th request to the second fails.
func cloudPoints(agent store.Agent, now time.Time, from, to, failEvery int) []point.Point {
	var pts []point.Point
	for h := from; h > to; h-- {
		at := now.Add(-time.Duration(h)*time.Hour + 7*time.Minute)
		for i, target := range []string{"https://login.microsoftonline.com/", "https://accounts.google.com/"} {
			tags := map[string]string{store.TagSite: agent.SiteID, store.TagAgent: agent.ID, "role": "cloud", "target": target}
			ok := i == 0 || h%failEvery != 0
			pts = append(pts, point.New("http", tags, map[string]any{"ok": ok, "result": "ok", "status": int64(200), "total_ms": float64(100 + h%50)}, at))
		}
	}
	return pts
}

func verdictsByID(vs []score.Verdict) map[string]score.Verdict {
	m := map[string]score.Verdict{}
	for _, v := range vs {
		m[v.ReqID] = v
	}
	return m
}

// Scoring reads rollups only: pruning the raw points changes no verdict,
// and a batch that arrives late is counted at the next scoring.
func TestScoringOutlivesRawPoints(t *testing.T) {
	ctx := context.Background()
	st, site, agent := newSite(t, "secondary")
	now := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	r := &Runner{Store: st, Catalogue: standards.Default(), Retention: 24 * time.Hour, Now: func() time.Time { return now }}
	// Ten days of requests, the second target failing every 50th.
	if _, err := st.WriteBatch(ctx, store.Batch{ID: "b1", Agent: agent, Points: cloudPoints(agent, now, 240, 0, 50)}, now); err != nil {
		t.Fatal(err)
	}
	before, err := r.ScoreSite(ctx, site)
	if err != nil {
		t.Fatal(err)
	}
	cl4 := verdictsByID(before)["CL-4"]
	if cl4.Evidence.Samples != 480 || cl4.Evidence.Conditions[0].Samples != 240 {
		t.Fatalf("CL-4 before pruning: %d samples: %+v", cl4.Evidence.Samples, cl4.Evidence.Conditions)
	}
	if err := r.Prune(ctx); err != nil {
		t.Fatal(err)
	}
	raw, err := st.Points(ctx, store.PointQuery{Site: "oak", Measurement: "http", From: now.Add(-300 * time.Hour), To: now})
	if err != nil || len(raw) != 2*24 { // the cut is 09:00 yesterday: 09:37 yesterday .. 08:37 today are kept
		t.Fatalf("%d raw points left after pruning to a day, %v", len(raw), err)
	}
	after, err := r.ScoreSite(ctx, site)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("verdicts changed when raw points were pruned (-before +after):\n%s", diff)
	}

	// Three days of the second target failing, sent late by a spooled agent:
	// hours already rolled up and, for two of them, already pruned.
	var late []point.Point
	for _, p := range cloudPoints(agent, now, 72, 0, 1) {
		if p.Tags["target"] == "https://accounts.google.com/" {
			p.Time = p.Time.Add(30 * time.Minute)
			late = append(late, p)
		}
	}
	if _, err := st.WriteBatch(ctx, store.Batch{ID: "late", Agent: agent, Points: late}, now); err != nil {
		t.Fatal(err)
	}
	vs, err := r.ScoreSite(ctx, site)
	if err != nil {
		t.Fatal(err)
	}
	cl4 = verdictsByID(vs)["CL-4"]
	var google score.ConditionEvidence
	for _, c := range cl4.Evidence.Conditions {
		if c.Group == "https://accounts.google.com/" {
			google = c
		}
	}
	// 240 requests with 4 failures (hours 200, 150, 100, 50), then 72 more
	// that all failed.
	if cl4.State != score.NotMet || google.Samples != 240+72 || google.Value != float64(100*(240-4))/312 {
		t.Errorf("CL-4 after the late batch: %s, google %+v", cl4.State, google)
	}
}

// oneLeader gives a job's turn to one holder at a time, as an advisory
// lock does across collectors.
type oneLeader struct {
	mu   sync.Mutex
	held map[string]bool
}

func (l *oneLeader) TryLead(_ context.Context, job string) (func(), bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.held[job] {
		return nil, false, nil
	}
	l.held[job] = true
	return func() { l.mu.Lock(); delete(l.held, job); l.mu.Unlock() }, true, nil
}

// TestRunnerLeader: two runners sharing a leader never run the same job
// at once, and a runner that is refused its turn does not run it.
func TestRunnerLeader(t *testing.T) {
	l := &oneLeader{held: map[string]bool{}}
	a, b := &Runner{Leader: l}, &Runner{Leader: l}
	inside := make(chan struct{})
	leave := make(chan struct{})
	done := make(chan bool)
	go func() {
		ran, err := a.once(context.Background(), "score", func(context.Context) error { close(inside); <-leave; return nil })
		done <- ran && err == nil
	}()
	<-inside
	ran, err := b.once(context.Background(), "score", func(context.Context) error { t.Error("b ran a job a holds"); return nil })
	if ran || err != nil {
		t.Fatalf("b: ran=%v err=%v while a holds the job", ran, err)
	}
	// Another job is free.
	if ran, err := b.once(context.Background(), "prune", func(context.Context) error { return nil }); !ran || err != nil {
		t.Fatalf("b could not run a free job: ran=%v err=%v", ran, err)
	}
	close(leave)
	if !<-done {
		t.Fatal("a did not run its job")
	}
	if ran, _ := b.once(context.Background(), "score", func(context.Context) error { return nil }); !ran {
		t.Fatal("b did not get the job once a released it")
	}
}
