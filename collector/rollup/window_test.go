package rollup

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestWindow(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, c := range []struct {
		now  string
		w    time.Duration
		want []Span
	}{
		{"2026-03-02T09:00:00Z", 24 * time.Hour, []Span{{Hour, at("2026-03-01T09:00:00Z"), at("2026-03-02T09:00:00Z")}}},
		// Unaligned: from the hour holding now-w, up to now.
		{"2026-03-02T09:37:00Z", 24 * time.Hour, []Span{{Hour, at("2026-03-01T09:00:00Z"), at("2026-03-02T09:37:00Z")}}},
		{"2026-03-02T09:37:00Z", DailyAbove, []Span{{Hour, at("2026-02-23T09:00:00Z"), at("2026-03-02T09:37:00Z")}}},
		{"2026-03-02T09:00:00Z", 720 * time.Hour, []Span{
			{Hour, at("2026-01-31T09:00:00Z"), at("2026-02-01T00:00:00Z")},
			{Day, at("2026-02-01T00:00:00Z"), at("2026-03-02T00:00:00Z")},
			{Hour, at("2026-03-02T00:00:00Z"), at("2026-03-02T09:00:00Z")},
		}},
		// Midnight at both ends: days only, and the current hour.
		{"2026-03-02T00:10:00Z", 720*time.Hour + 10*time.Minute, []Span{
			{Day, at("2026-01-31T00:00:00Z"), at("2026-03-02T00:00:00Z")},
			{Hour, at("2026-03-02T00:00:00Z"), at("2026-03-02T00:10:00Z")},
		}},
		{"2026-03-02T00:00:00Z", 30 * 24 * time.Hour, []Span{{Day, at("2026-01-31T00:00:00Z"), at("2026-03-02T00:00:00Z")}}},
	} {
		got := Window(at(c.now), c.w)
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("Window(%s, %v) (-want +got):\n%s", c.now, c.w, diff)
		}
	}
}

// Every hour of the window is covered exactly once, by an hourly bucket or
// by the daily bucket holding it.
func TestWindowCoversEachHourOnce(t *testing.T) {
	base := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	for _, w := range []time.Duration{time.Hour, 24 * time.Hour, DailyAbove, DailyAbove + time.Hour, 720 * time.Hour, 8760 * time.Hour} {
		for m := 0; m < 48*60; m += 97 {
			now := base.Add(time.Duration(m) * time.Minute)
			spans := Window(now, w)
			from := WindowStart(now, w)
			for h := from.Add(-48 * time.Hour); h.Before(now.Add(48 * time.Hour)); h = h.Add(time.Hour) {
				hb := &Bucket{Res: Hour, Start: h}
				db := &Bucket{Res: Day, Start: Day.Truncate(h)}
				n := 0
				if Covers(spans, hb) {
					n++
				}
				if Covers(spans, db) {
					n++
				}
				want := 0
				if !h.Before(from) && h.Before(now) {
					want = 1
				}
				if n != want {
					t.Fatalf("w=%v now=%s: hour %s covered %d times, want %d (%v)", w, now, h, n, want, spans)
				}
			}
		}
	}
}
