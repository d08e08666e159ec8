package storetest

import (
	"sync/atomic"
	"testing"
)

// WriteParallel is the loop of a store's concurrent-write benchmark: it
// calls write(n) for n = from, from+1, ... from 64 goroutines at once (on 2
// CPUs), as the collector's API handlers call WriteBatch under load, and
// reports points/s, each call writing perBatch points.
func WriteParallel(b *testing.B, from int64, perBatch int, write func(n int64)) {
	var next atomic.Int64
	next.Store(from)
	b.ReportAllocs()
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			write(next.Add(1) - 1)
		}
	})
	b.ReportMetric(float64((next.Load()-from)*int64(perBatch))/b.Elapsed().Seconds(), "points/s")
}
