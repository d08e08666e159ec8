package ingest

import (
	"fmt"
	"testing"
	"time"

	"github.com/influxdata/line-protocol/v2/lineprotocol"

	"github.com/probity-edu/probity/collector/store"
	"github.com/probity-edu/probity/collector/store/rowcodec"
	"github.com/probity-edu/probity/internal/point"
)

// benchBody is a school agent's 2-second batch as the collector receives
// it: 35 SNMP interface counter lines of one switch (as internal/point's
// BenchmarkDecode).
func benchBody() []byte {
	var b []byte
	for i := range 35 {
		b = fmt.Appendf(b, "snmp_if,device=sw-03,ifName=Gi1/0/%d,profile=cisco-switch in_octets=%du,out_octets=%du,in_errors=0u,out_errors=0u,in_discards=1u,speed_mbps=1000,oper_up=true,util_pct=%d.%02d 1764892800%09d\n",
			i, uint64(i)<<30, uint64(i)<<29, i, i*7%100, i)
	}
	return b
}

// BenchmarkDecodeToRows is a body to what the store writes, two ways:
// straight into rows (ingest's path) and the way it was done before,
// decoding into points' maps and encoding those.
func BenchmarkDecodeToRows(b *testing.B) {
	body := benchBody()
	now := time.Now()
	a := store.Agent{ID: "agent-1", SiteID: "school-a"}
	run := func(b *testing.B, decode func() error) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			if err := decode(); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(35*b.N)/b.Elapsed().Seconds(), "points/s")
	}
	b.Run("rows", func(b *testing.B) {
		run(b, func() error { _, err := Decode(body, lineprotocol.Nanosecond, a, now); return err })
	})
	b.Run("points-then-encode", func(b *testing.B) {
		run(b, func() error {
			pts, err := point.Decode(body, lineprotocol.Nanosecond, now)
			if err != nil {
				return err
			}
			for i := range pts {
				pts[i].Tags[store.TagSite], pts[i].Tags[store.TagAgent] = a.SiteID, a.ID
			}
			_, err = rowcodec.Rows(pts)
			return err
		})
	})
}
