package point

import (
	"fmt"
	"testing"
	"time"

	"github.com/influxdata/line-protocol/v2/lineprotocol"
)

// benchBody is a school agent's 2-second batch as the collector receives
// it: 35 SNMP interface counter lines of one switch.
func benchBody() []byte {
	var b []byte
	for i := range 35 {
		b = fmt.Appendf(b, "snmp_if,device=sw-03,ifName=Gi1/0/%d,profile=cisco-switch in_octets=%du,out_octets=%du,in_errors=0u,out_errors=0u,in_discards=1u,speed_mbps=1000,oper_up=true 1764892800%09d\n",
			i, uint64(i)<<30, uint64(i)<<29, i)
	}
	return b
}

func BenchmarkDecode(b *testing.B) {
	body := benchBody()
	now := time.Now()
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := Decode(body, lineprotocol.Nanosecond, now); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(35*b.N)/b.Elapsed().Seconds(), "points/s")
}
