package influx

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	influxdb2 "github.com/influxdata/influxdb-client-go/v2"
	"github.com/influxdata/influxdb-client-go/v2/api/write"

	"github.com/probity-edu/probity/internal/point"
	"github.com/probity-edu/probity/internal/testenv"
)

// benchPoints are n points shaped like an snmp_if poll: 4 tags, 5 fields.
func benchPoints(n int, at time.Time) []point.Point {
	pts := make([]point.Point, n)
	for i := range pts {
		pts[i] = point.New("snmp_if",
			map[string]string{"site": fmt.Sprintf("school-%02d", i%50), "agent": "a1", "device": fmt.Sprintf("sw-%d", i%20), "ifname": fmt.Sprintf("ge-0/0/%d", i%48)},
			map[string]any{"in_bps": float64(i), "out_bps": float64(2 * i), "util_in_pct": 12.5, "oper_up": true, "in_errors_ps": 0.0},
			at.Add(time.Duration(i)*time.Microsecond))
	}
	return pts
}

// BenchmarkInfluxWrite writes 100,000 points into a real InfluxDB 1.8:
// the client library's blocking writer on its own in batches of 5,000
// (the peer), then the same points through Probity's sink, handed over in
// agent-sized batches of 500 (queue, trust tag, conversion, retry
// bookkeeping). Compare the points/s of the two.
func BenchmarkInfluxWrite(b *testing.B) {
	testenv.RequireIntegration(b, "real influxd")
	db := testenv.StartInfluxDB(b, "bench")
	const n, batch = 100_000, 5000
	b.Run("peer=client-blocking", func(b *testing.B) {
		client := influxdb2.NewClient(db.URL, "")
		defer client.Close()
		w := client.WriteAPIBlocking("", "bench/autogen")
		for i := range b.N {
			pts := benchPoints(n, time.Now().Add(time.Duration(i)*time.Second))
			b.ResetTimer()
			for start := 0; start < n; start += batch {
				wps := make([]*write.Point, 0, batch)
				for _, p := range pts[start : start+batch] {
					wp := write.NewPointWithMeasurement(p.Measurement).SetTime(p.Time)
					for k, v := range p.Tags {
						wp.AddTag(k, v)
					}
					for k, v := range p.Fields {
						wp.AddField(k, v)
					}
					wps = append(wps, wp)
				}
				if err := w.WritePoint(context.Background(), wps...); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "points/s")
	})
	b.Run("probity=sink", func(b *testing.B) {
		s := New(Config{URL: db.URL, Bucket: "bench/autogen", QueueSize: 2 * n, BatchSize: batch, FlushInterval: 10 * time.Millisecond}, nil, nil)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); s.Run(ctx) }()
		defer func() { cancel(); <-done }()
		written := 0.0
		for i := range b.N {
			pts := benchPoints(n, time.Now().Add(time.Duration(i)*time.Second+time.Hour))
			b.ResetTimer()
			for start := 0; start < n; start += 500 {
				s.Enqueue(pts[start : start+500])
			}
			written += n
			for metric(s.written) < written {
				time.Sleep(time.Millisecond)
			}
		}
		b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "points/s")
	})
}

// BenchmarkSinkQueueMemory measures the heap a queued point holds while
// InfluxDB is away (what queue_size costs).
func BenchmarkSinkQueueMemory(b *testing.B) {
	const n = 100_000
	for range b.N {
		s := New(Config{URL: "http://127.0.0.1:1", Bucket: "b", QueueSize: n}, nil, nil)
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		s.Enqueue(benchPoints(n, time.Now()))
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "bytes/queued-point")
		runtime.KeepAlive(s)
	}
}
