package storetest

import (
	"context"
	"errors"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/probity-edu/probity/collector/store"
	"github.com/probity-edu/probity/internal/point"
)

func testWriteBatchIdempotent(t *testing.T, st store.Store) {
	ctx := context.Background()
	f := newFixture(t, st, "oak")
	pts := []point.Point{ping("gw", t0, 1.5, 20, true), ping("gw", t0.Add(time.Minute), 2.5, 20, true), ping("dns", t0, 9, 20, false)}
	a := f.agent
	a.Version = "1.2.3"
	b := store.Batch{ID: "batch-1", Agent: a, Points: stamp(a, pts)}
	now := t0.Add(2 * time.Minute)

	dup, err := st.WriteBatch(ctx, b, now)
	if err != nil || dup {
		t.Fatalf("first WriteBatch = %v, %v; want false, nil", dup, err)
	}
	dup, err = st.WriteBatch(ctx, b, now.Add(time.Minute))
	if err != nil || !dup {
		t.Fatalf("second WriteBatch = %v, %v; want true, nil", dup, err)
	}
	got, err := st.Points(ctx, store.PointQuery{Site: "oak", Measurement: "ping", From: t0, To: t0.Add(time.Hour)})
	if err != nil {
		t.Fatalf("Points: %v", err)
	}
	if len(got) != 3 {
		t.Errorf("Points returned %d rows, want 3 (the batch stored once)", len(got))
	}
	if s := stats(t, st); s.Points != 3 || s.Batches != 1 {
		t.Errorf("Stats = %+v, want 3 points and 1 batch", s)
	}

	agents, err := st.Agents(ctx, "oak")
	if err != nil || len(agents) != 1 {
		t.Fatalf("Agents = %v, %v", agents, err)
	}
	// The duplicate must not have touched LastSeen either.
	if !agents[0].LastSeen.Equal(now) || agents[0].Version != "1.2.3" {
		t.Errorf("agent after write: LastSeen %v, Version %q; want %v, 1.2.3", agents[0].LastSeen, agents[0].Version, now)
	}

	// An empty version keeps the known one.
	a.Version = ""
	write(t, st, a, "batch-2", now.Add(time.Hour), []point.Point{ping("gw", t0.Add(2*time.Minute), 1, 1, true)})
	agents, _ = st.Agents(ctx, "oak")
	if agents[0].Version != "1.2.3" || !agents[0].LastSeen.Equal(now.Add(time.Hour)) {
		t.Errorf("agent after versionless write: %+v", agents[0])
	}
}

func testWriteBatchUnknownAgent(t *testing.T, st store.Store) {
	ctx := context.Background()
	f := newFixture(t, st, "oak")
	ghost := store.Agent{ID: "ghost", SiteID: f.site.ID}
	_, err := st.WriteBatch(ctx, store.Batch{ID: "b", Agent: ghost, Points: stamp(ghost, []point.Point{ping("gw", t0, 1, 1, true)})}, t0)
	if err == nil {
		t.Fatal("WriteBatch from an unknown agent succeeded")
	}
	// A rejected batch leaves no trace: the same id is still new.
	write(t, st, f.agent, "b", t0, []point.Point{ping("gw", t0, 1, 1, true)})
	if s := stats(t, st); s.Points != 1 || s.Batches != 1 {
		t.Errorf("Stats = %+v, want 1 point and 1 batch", s)
	}
}

func testFieldRoundTrip(t *testing.T, st store.Store) {
	ctx := context.Background()
	f := newFixture(t, st, "oak")
	at := t0.Add(123456789 * time.Nanosecond)
	in := point.Point{
		Measurement: "edge",
		Tags: map[string]string{
			"space":   "a b",
			"comma":   "x,y=z",
			"quote":   `say "hi" \ back`,
			"unicode": "Ørsted ☃",
			"empty":   "",
		},
		Fields: map[string]any{
			"f_whole":   5.0,
			"f_frac":    0.1,
			"f_neg":     -1e-300,
			"f_big":     1.7976931348623157e308,
			"f_zero":    0.0,
			"i_max":     int64(math.MaxInt64),
			"i_min":     int64(math.MinInt64),
			"i_zero":    int64(0),
			"u_max":     uint64(math.MaxUint64),
			"u_small":   uint64(7),
			"b_true":    true,
			"b_false":   false,
			"s_plain":   "ok",
			"s_empty":   "",
			"s_json":    `{"i":5}`,
			"s_number":  "5",
			"s_control": "line\nbreak\ttab\x01",
			"s_unicode": "naïve ☃",
		},
		Time: at,
	}
	want := stamp(f.agent, []point.Point{in})[0]
	write(t, st, f.agent, "edge-1", t0, []point.Point{want})
	got, err := st.Points(ctx, store.PointQuery{Site: "oak", Measurement: "edge", From: t0, To: t0.Add(time.Second)})
	if err != nil {
		t.Fatalf("Points: %v", err)
	}
	if diff := cmp.Diff([]point.Point{want}, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	for k, v := range want.Fields {
		if len(got) == 1 {
			if g, w := typeName(got[0].Fields[k]), typeName(v); g != w {
				t.Errorf("field %s came back as %s, want %s", k, g, w)
			}
		}
	}
}

func typeName(v any) string {
	switch v.(type) {
	case float64:
		return "float64"
	case int64:
		return "int64"
	case uint64:
		return "uint64"
	case bool:
		return "bool"
	case string:
		return "string"
	}
	return "other"
}

func testPointsQuery(t *testing.T, st store.Store) {
	ctx := context.Background()
	f := newFixture(t, st, "oak")
	other := newFixture(t, st, "elm")
	var pts []point.Point
	for i := range 6 {
		target := "gw"
		if i%2 == 1 {
			target = "dns"
		}
		p := ping(target, t0.Add(time.Duration(5-i)*time.Minute), float64(i), 1, true) // written newest first
		p.Tags["family"] = "ipv4"
		pts = append(pts, p)
	}
	// Near misses for target=gw: a longer value, and a value that spells
	// the tag out inside another tag.
	near := ping("gw2", t0.Add(10*time.Minute), 10, 1, true)
	trick := ping("dns", t0.Add(11*time.Minute), 11, 1, true)
	trick.Tags["note"] = "x,target=gw"
	pts = append(pts, near, trick)
	write(t, st, f.agent, "q-1", t0, pts)
	write(t, st, other.agent, "q-2", t0, []point.Point{ping("gw", t0, 99, 1, true)})
	write(t, st, f.agent, "q-3", t0, []point.Point{{Measurement: "dns", Fields: map[string]any{"ms": 1.0}, Time: t0}})

	minutes := func(pts []point.Point) []int {
		var m []int
		for _, p := range pts {
			if p.Measurement != "ping" || p.Tags[tagSite] != "oak" {
				t.Errorf("point from elsewhere: %v %v", p.Measurement, p.Tags)
			}
			m = append(m, int(p.Time.Sub(t0)/time.Minute))
		}
		return m
	}
	cases := []struct {
		name     string
		tags     map[string]string
		from, to time.Time
		want     []int
	}{
		{"all, in time order", nil, t0, t0.Add(time.Hour), []int{0, 1, 2, 3, 4, 5, 10, 11}},
		{"from inclusive, to exclusive", nil, t0.Add(time.Minute), t0.Add(4 * time.Minute), []int{1, 2, 3}},
		{"empty range", nil, t0.Add(time.Minute), t0.Add(time.Minute), nil},
		{"one tag", map[string]string{"target": "gw"}, t0, t0.Add(time.Hour), []int{1, 3, 5}},
		{"two tags", map[string]string{"target": "dns", "family": "ipv4"}, t0, t0.Add(time.Hour), []int{0, 2, 4}},
		{"site tag", map[string]string{tagSite: "oak", tagAgent: f.agent.ID}, t0, t0.Add(time.Hour), []int{0, 1, 2, 3, 4, 5, 10, 11}},
		{"wrong agent", map[string]string{tagAgent: other.agent.ID}, t0, t0.Add(time.Hour), nil},
		{"tag with a comma", map[string]string{"note": "x,target=gw"}, t0, t0.Add(time.Hour), []int{11}},
		{"no match", map[string]string{"target": "nope"}, t0, t0.Add(time.Hour), nil},
		{"missing tag", map[string]string{"vlan": "10"}, t0, t0.Add(time.Hour), nil},
		{"zero from", map[string]string{"target": "gw"}, time.Time{}, t0.Add(2 * time.Minute), []int{1}},
	}
	for _, tc := range cases {
		got, err := st.Points(ctx, store.PointQuery{Site: "oak", Measurement: "ping", Tags: tc.tags, From: tc.from, To: tc.to})
		if err != nil {
			t.Fatalf("%s: Points: %v", tc.name, err)
		}
		if diff := cmp.Diff(tc.want, minutes(got)); diff != "" {
			t.Errorf("%s: minutes (-want +got):\n%s", tc.name, diff)
		}
	}
	got, err := st.Points(ctx, store.PointQuery{Site: "nowhere", Measurement: "ping", From: t0, To: t0.Add(time.Hour)})
	if err != nil || len(got) != 0 {
		t.Errorf("Points of an unknown site = %d points, %v; want none", len(got), err)
	}
}

// testConcurrentWriters writes distinct batches from several goroutines
// while others read: every batch lands and no writer sees a busy error.
func testConcurrentWriters(t *testing.T, st store.Store) {
	ctx := context.Background()
	const writers, batches, perBatch = 4, 10, 200
	fs := make([]fixture, writers)
	for i := range fs {
		fs[i] = newFixture(t, st, batchID("w", i))
	}
	var wg sync.WaitGroup
	errs := make(chan error, writers*batches+64)
	stop := make(chan struct{})
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := fs[w].agent
			for b := range batches {
				pts := make([]point.Point, perBatch)
				for i := range pts {
					pts[i] = ping("gw", t0.Add(time.Duration(b*perBatch+i)*time.Second), float64(i), 1, true)
				}
				dup, err := st.WriteBatch(ctx, store.Batch{ID: batchID(a.ID, b), Agent: a, Points: stamp(a, pts)}, t0)
				if err == nil && dup {
					err = errors.New("new batch reported as duplicate")
				}
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	var readers sync.WaitGroup
	for range 2 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := st.Points(ctx, store.PointQuery{Site: fs[0].site.ID, Measurement: "ping", From: t0, To: t0.Add(24 * time.Hour)}); err != nil {
					errs <- err
					return
				}
				if _, err := st.Stats(ctx); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent use: %v", err)
	}
	if s := stats(t, st); s.Points != writers*batches*perBatch || s.Batches != writers*batches {
		t.Errorf("Stats = %+v, want %d points in %d batches", s, writers*batches*perBatch, writers*batches)
	}
	for _, f := range fs {
		got, err := st.Points(ctx, store.PointQuery{Site: f.site.ID, Measurement: "ping", From: t0, To: t0.Add(24 * time.Hour)})
		if err != nil || len(got) != batches*perBatch {
			t.Errorf("site %s: %d points, %v; want %d", f.site.ID, len(got), err, batches*perBatch)
		}
	}
}
