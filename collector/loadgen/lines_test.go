package loadgen

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/influxdata/line-protocol/v2/lineprotocol"

	"github.com/probity-edu/probity/internal/point"
	"github.com/probity-edu/probity/internal/wire"
)

// TestSourcesMatchPoints: each source's lines, from the same random
// source, are the bytes point.Encode makes of the points the old builders
// made.
func TestSourcesMatchPoints(t *testing.T) {
	olds := oldMix()
	for i, src := range Mix() {
		r1, r2 := rand.New(rand.NewPCG(uint64(i), 1)), rand.New(rand.NewPCG(uint64(i), 1))
		for run := range 5 {
			at := time.Unix(1764835200+int64(run)*60, 123456789)
			lp, n := src.Append(nil, r1, at)
			pts := olds[i].Build(r2, at)
			want, err := point.Encode(nil, pts)
			if err != nil {
				t.Fatal(err)
			}
			if n != len(pts) || !bytes.Equal(lp, want) {
				t.Fatalf("%s run %d: %d lines\n%s\nthe points' (%d):\n%s", src.Name, run, n, lp, len(pts), want)
			}
		}
	}
}

// TestSchoolBatchesMatchPoints runs a school as runSchool does, new and
// old from the same seed, 70 simulated minutes at 60 times real time (so
// the hourly and 5-minute sources run too) in batches of at most 500 points,
// and checks that every batch decodes as the collector decodes it into
// the old batch's points: the same measurements, tags, fields, field
// types, values and times. The gzip bodies are the same bytes.
func TestSchoolBatchesMatchPoints(t *testing.T) {
	const maxBatch = 500
	start := time.Date(2026, 12, 4, 8, 0, 0, 0, time.UTC)
	for _, seed := range []uint64{1, 42} {
		sch, old := NewSchool(Mix(), start, 60, seed), newOldSchool(oldMix(), start, 60, seed)
		var batches, points int
		for now := start; now.Before(start.Add(70 * time.Second)); now = now.Add(time.Second) {
			lp, n := sch.AppendDue(nil, now)
			queue, err := sealBatches(nil, lp, n, maxBatch)
			if err != nil {
				t.Fatal(err)
			}
			pts := old.Due(now)
			if n != len(pts) {
				t.Fatalf("seed %d at %s: %d points, the old way %d", seed, now, n, len(pts))
			}
			for i, b := range queue {
				want := pts[i*maxBatch : min(len(pts), (i+1)*maxBatch)]
				if b.points != len(want) {
					t.Fatalf("seed %d at %s batch %d: %d points, the old way %d", seed, now, i, b.points, len(want))
				}
				comparePoints(t, decodeBody(t, b.body), want)
				oldBody, err := oldEncodeBatch(want)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(b.body, oldBody) {
					t.Errorf("seed %d at %s batch %d: the gzip body differs from the old one", seed, now, i)
				}
			}
			if want := (len(pts) + maxBatch - 1) / maxBatch; len(queue) != want {
				t.Fatalf("seed %d at %s: %d batches, want %d", seed, now, len(queue), want)
			}
			batches, points = batches+len(queue), points+n
		}
		if batches < 140 || points < 70*1000 {
			t.Fatalf("seed %d: only %d batches of %d points", seed, batches, points)
		}
		t.Logf("seed %d: %d batches, %d points alike", seed, batches, points)
	}
}

func decodeBody(t *testing.T, body []byte) []point.Point {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	lp, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	pts, err := point.Decode(lp, lineprotocol.Nanosecond, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return pts
}

// comparePoints checks got against want point by point, the field values
// with their types (float64, int64, bool, string).
func comparePoints(t *testing.T, got, want []point.Point) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d points, want %d", len(got), len(want))
	}
	for i, g := range got {
		w := want[i]
		if g.SeriesKey() != w.SeriesKey() || !g.Time.Equal(w.Time) || len(g.Fields) != len(w.Fields) {
			t.Fatalf("point %d: %s at %s, %d fields; want %s at %s, %d fields", i, g.SeriesKey(), g.Time, len(g.Fields),
				w.SeriesKey(), w.Time, len(w.Fields))
		}
		for k, v := range w.Fields {
			if gv, ok := g.Fields[k]; !ok || gv != v {
				t.Fatalf("point %d (%s) field %s: %v (%T), want %v (%T)", i, g.SeriesKey(), k, gv, gv, v, v)
			}
		}
	}
}

// BenchmarkSchoolBatch is what the load generator spends on a school's
// minute (about 1,070 points, and every hour the filtering suite): its
// runs made into batches as runSchool makes them, gzip included (/old,
// /new), and without the gzip, the lines alone (/old-lines, /new-lines).
//
//	go test -run '^$' -bench SchoolBatch -benchmem -count 3 ./collector/loadgen/
func BenchmarkSchoolBatch(b *testing.B) {
	const maxBatch = 5000
	start := time.Date(2026, 12, 4, 8, 0, 0, 0, time.UTC)
	run := func(b *testing.B, batch func(now time.Time) int) {
		var points int
		now := start
		for b.Loop() {
			now = now.Add(time.Minute)
			points += batch(now)
		}
		b.ReportMetric(float64(points)/b.Elapsed().Seconds(), "points/s")
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(points), "ns/point")
	}
	b.Run("old", func(b *testing.B) {
		sch := newOldSchool(oldMix(), start, 1, 1)
		run(b, func(now time.Time) int {
			pts := sch.Due(now)
			for i := 0; i < len(pts); i += maxBatch {
				if _, err := oldEncodeBatch(pts[i:min(len(pts), i+maxBatch)]); err != nil {
					b.Fatal(err)
				}
				_ = wire.NewBatchID()
			}
			return len(pts)
		})
	})
	b.Run("new", func(b *testing.B) {
		sch := NewSchool(Mix(), start, 1, 1)
		var lp []byte
		run(b, func(now time.Time) int {
			var n int
			lp, n = sch.AppendDue(lp[:0], now)
			if _, err := sealBatches(nil, lp, n, maxBatch); err != nil {
				b.Fatal(err)
			}
			return n
		})
	})
	b.Run("old-lines", func(b *testing.B) {
		sch := newOldSchool(oldMix(), start, 1, 1)
		run(b, func(now time.Time) int {
			pts := sch.Due(now)
			if _, err := point.Encode(nil, pts); err != nil {
				b.Fatal(err)
			}
			return len(pts)
		})
	})
	b.Run("new-lines", func(b *testing.B) {
		sch := NewSchool(Mix(), start, 1, 1)
		var lp []byte
		run(b, func(now time.Time) int {
			var n int
			lp, n = sch.AppendDue(lp[:0], now)
			return n
		})
	})
}

// TestShapeEscapes: tags, field keys and string values line protocol
// must escape come out escaped as point.Encode escapes them, constant or
// given at each run.
func TestShapeEscapes(t *testing.T) {
	tg := map[string]string{"a key": "a value, with=all", "b": "", "c": `back\slash`}
	odd := "quote \" back\\slash \n\r\t and, comma"
	sh := newShape("me as,ure", tg, field{"f k=1", odd}, field{"g", slot}, field{"h,x", 1.5}, field{"i", slot})
	at := time.Unix(1764835200, 1)
	got := sh.append(nil, at.UnixNano(), sval(odd), ival(-3))
	want, err := point.Encode(nil, []point.Point{point.New("me as,ure", tg,
		map[string]any{"f k=1": odd, "g": odd, "h,x": 1.5, "i": int64(-3)}, at)})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
	if _, err := point.Decode(got, lineprotocol.Nanosecond, at); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if recover() == nil {
			t.Error("a value too few did not panic")
		}
	}()
	sh.append(nil, 0, sval("x"))
}

func ExampleSource() {
	src := Mix()[0] // ping
	lp, n := src.Append(nil, rand.New(rand.NewPCG(1, 2)), time.Unix(1764835200, 0))
	fmt.Printf("%d lines; the first:\n%s", n, lp[:bytes.IndexByte(lp, '\n')+1])
	// Output:
	// 4 lines; the first:
	// ping,role=gateway,target=10.0.0.1 icmp_mode="datagram",jitter_ms=0.06529366979003474,loss_pct=0,ok=true,received=5i,result="ok",rtt_avg_ms=0.6529366979003475,rtt_max_ms=0.9141113770604864,rtt_min_ms=0.522349358320278,rtt_p95_ms=0.8488177072704517,sent=5i 1764835200000000000
}
