package report

import (
	"context"
	"runtime"
	"sync"
)

// Each calls fn(i) for i in [0, n) on up to workers goroutines (0: one per
// CPU) and returns the first error; after an error no new call starts.
// Building a trust's reports is this: each school's report is independent
// and most of its time is reading rollups and drawing.
func Each(ctx context.Context, n, workers int, fn func(i int) error) error {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
		next  = make(chan int)
	)
	for range min(workers, n) {
		wg.Go(func() {
			for i := range next {
				if err := fn(i); err != nil {
					once.Do(func() { first = err; cancel() })
				}
			}
		})
	}
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if first == nil && ctx.Err() != nil {
		// The caller's context ended before every call was made.
		return context.Cause(ctx)
	}
	return first
}
