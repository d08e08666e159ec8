package spool

import "testing"

// BenchmarkPut1000 measures a durable Put of a 1,000-point batch: encode,
// write, fsync, rename and fsync of the directory.
func BenchmarkPut1000(b *testing.B) {
	q, err := Open(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer q.Close()
	pts := mkPoints(0, 1000)
	first, err := q.Put(pts)
	if err != nil {
		b.Fatal(err)
	}
	q.Ack(first.ID)
	b.SetBytes(int64(len(first.Body)))
	b.ReportAllocs()
	for b.Loop() {
		bt, err := q.Put(pts)
		if err != nil {
			b.Fatal(err)
		}
		q.Ack(bt.ID) // steady state: the shipper keeps up
	}
}
