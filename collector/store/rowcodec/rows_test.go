package rowcodec

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/probity-edu/probity/collector/store"
	"github.com/probity-edu/probity/internal/point"
)

func TestRowsRoundTrip(t *testing.T) {
	at := time.Unix(1_700_000_000, 5).UTC()
	pts := []point.Point{
		{Measurement: "ping", Tags: map[string]string{"site": "s", "agent": "a", "target": "x"}, Fields: map[string]any{"rtt": 1.5, "n": int64(3), "up": true}, Time: at},
		{Measurement: "snmp", Tags: map[string]string{"if": "ge-0/0/1 \"uplink\""}, Fields: map[string]any{"in": uint64(math.MaxUint64), "name": "sw☃"}, Time: at.Add(time.Second)},
		{Measurement: "ping", Tags: map[string]string{}, Fields: map[string]any{"rtt": -0.25}, Time: at.Add(-time.Hour)},
	}
	rows, err := Rows(pts)
	if err != nil {
		t.Fatal(err)
	}
	var c Codec
	for i, p := range pts {
		if got, want := string(rows.SeriesKey(i)), c.SeriesKey(p.Measurement, p.Tags); got != want {
			t.Errorf("point %d series key %q, want %q", i, got, want)
		}
		if got, want := string(rows.TagsJSON(i)), c.TagsJSON(p.Tags); got != want {
			t.Errorf("point %d tags %s, want %s", i, got, want)
		}
	}
	back, err := new(Decoder).Points(rows)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(pts, back); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

func TestBuilderCredentialTagsWin(t *testing.T) {
	var rows store.Rows
	b := NewBuilder(&rows, "school", "agent-1")
	b.Start([]byte("m"), 1)
	b.Tag([]byte("site"), []byte("other"))
	b.Tag([]byte("z"), []byte("1"))
	b.Tag([]byte("agent"), []byte("evil"))
	b.Float([]byte("v"), 1)
	if err := b.End(); err != nil {
		t.Fatal(err)
	}
	if got, want := string(rows.TagsJSON(0)), `{"agent":"agent-1","site":"school","z":"1"}`; got != want {
		t.Errorf("tags %s, want %s", got, want)
	}
	if got, want := string(rows.SeriesKey(0)), "m,z=1"; got != want {
		t.Errorf("series key %q, want %q", got, want)
	}
	b.Start([]byte("m"), 2)
	if err := b.End(); err == nil {
		t.Error("a point without fields was encoded")
	}
}

func TestRowsRefuses(t *testing.T) {
	at := time.Unix(1, 0)
	for _, p := range []point.Point{
		{Measurement: "", Fields: map[string]any{"a": 1.0}, Time: at},
		{Measurement: "m", Fields: map[string]any{"a": 1.0}},
		{Measurement: "m", Fields: map[string]any{}, Time: at},
		{Measurement: "m", Fields: map[string]any{"a": math.NaN()}, Time: at},
		{Measurement: "m", Fields: map[string]any{"a": float32(1)}, Time: at},
	} {
		if _, err := Rows([]point.Point{p}); !errors.Is(err, point.ErrInvalid) {
			t.Errorf("Rows(%+v) = %v, want point.ErrInvalid", p, err)
		}
	}
}

func TestHour(t *testing.T) {
	h := int64(time.Hour)
	for ns, want := range map[int64]int64{
		0: 0, 1: 0, h - 1: 0, h: h, -1: -h, -h: -h, -h - 1: -2 * h,
		math.MaxInt64:     math.MaxInt64 / h * h,
		math.MinInt64:     math.MinInt64,
		math.MinInt64 + h: math.MinInt64 / h * h,
	} {
		if got := Hour(ns); got != want {
			t.Errorf("Hour(%d) = %d, want %d", ns, got, want)
		}
		if old := NS(time.Unix(0, ns).Truncate(time.Hour)); ns > math.MinInt64+h && old != Hour(ns) {
			t.Errorf("Hour(%d) = %d, time.Truncate says %d", ns, Hour(ns), old)
		}
	}
}
