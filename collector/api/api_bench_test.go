package api

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/probity-edu/probity/internal/point"
	"github.com/probity-edu/probity/internal/testenv"
	"github.com/probity-edu/probity/internal/wire"
)

// BenchmarkIngest5000 is the collector's ingest rate end to end over HTTP on
// loopback: gzip line protocol in, decoded, tagged and stored in SQLite.
// Each batch is 5,000 points of a realistic mix (ping, dns, http, host).
func BenchmarkIngest5000(b *testing.B) {
	f := newFixture(b, 0)
	base := time.Now().Add(-time.Hour)
	bodies := make([][]byte, b.N)
	for i := range bodies {
		bodies[i] = benchBody(b, base, i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req, _ := http.NewRequest("POST", f.srv.URL+wire.WritePath, bytes.NewReader(bodies[i]))
		req.Header.Set("Authorization", "Bearer "+f.cred)
		req.Header.Set(wire.HeaderBatchID, wire.NewBatchID())
		req.Header.Set("Content-Encoding", "gzip")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N*5000)/b.Elapsed().Seconds(), "points/s")
}

// benchBody is the i-th gzipped batch of 5,000 points of a realistic mix
// (ping, dns, http, host) from base on.
func benchBody(b *testing.B, base time.Time, n int) []byte {
	pts := make([]point.Point, 0, 5000)
	for i := 0; i < 5000; i++ {
		at := base.Add(time.Duration(n*5000+i) * time.Millisecond)
		switch i % 4 {
		case 0:
			pts = append(pts, point.New("ping", map[string]string{"target": fmt.Sprintf("10.0.0.%d", i%50), "role": "gateway"},
				map[string]any{"sent": int64(10), "received": int64(10), "loss_pct": 0.0, "rtt_avg_ms": 1.2, "rtt_p95_ms": 2.1, "jitter_ms": 0.3, "ok": true, "result": "ok"}, at))
		case 1:
			pts = append(pts, point.New("dns", map[string]string{"qname": "www.google.com", "qtype": "A", "resolver": "10.0.0.53:53"},
				map[string]any{"ok": true, "rcode": "NOERROR", "answers": int64(2), "answer": "forcesafesearch.google.com,216.239.38.120", "duration_ms": 3.4}, at))
		case 2:
			pts = append(pts, point.New("http", map[string]string{"target": fmt.Sprintf("svc-%d", i%20), "role": "cloud"},
				map[string]any{"ok": true, "result": "ok", "status": int64(200), "total_ms": 120.5, "ttfb_ms": 80.1, "cert_days_left": 61.2}, at))
		default:
			pts = append(pts, point.New("host", map[string]string{"host": "pi"},
				map[string]any{"cpu_pct": 12.5, "mem_pct": 40.1, "disk_pct": 33.0, "load1": 0.4, "uptime_s": int64(86400)}, at))
		}
	}
	lp, err := point.Encode(nil, pts)
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(lp)
	w.Close()
	return buf.Bytes()
}

// BenchmarkInfluxV2Write sends the same gzipped 5,000-point batches, as
// Telegraf's influxdb_v2 output would, to InfluxDB 1.8's own
// /api/v2/write (the peer) and to the collector's (decoded leniently,
// tagged and stored in SQLite). Compare the points/s.
func BenchmarkInfluxV2Write(b *testing.B) {
	testenv.RequireIntegration(b, "real influxd")
	db := testenv.StartInfluxDB(b, "bench")
	f := newFixture(b, 0)
	base := time.Now().Add(-time.Hour)
	sent := 0
	post := func(b *testing.B, url, token string, body []byte) {
		req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
		req.Header.Set("Authorization", "Token "+token)
		req.Header.Set("Content-Encoding", "gzip")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			b.Fatalf("%s: status %d", url, resp.StatusCode)
		}
	}
	for _, c := range []struct{ name, url, token string }{
		{"peer=influxd-1.8", db.URL + "/api/v2/write?org=o&bucket=bench/autogen", ""},
		{"probity=collector", f.srv.URL + InfluxWritePath + "?org=o&bucket=b", f.cred},
	} {
		b.Run(c.name, func(b *testing.B) {
			// Fresh timestamps on every run: the collector stores a body
			// it has seen once, so repeats would measure nothing.
			bodies := make([][]byte, b.N)
			for i := range bodies {
				bodies[i] = benchBody(b, base, sent)
				sent++
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				post(b, c.url, c.token, bodies[i])
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N*5000)/b.Elapsed().Seconds(), "points/s")
		})
	}
}
