package report

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
)

func TestEach(t *testing.T) {
	var sum atomic.Int64
	if err := Each(context.Background(), 100, 4, func(i int) error { sum.Add(int64(i)); return nil }); err != nil || sum.Load() != 4950 {
		t.Errorf("sum %d, err %v", sum.Load(), err)
	}
	boom := errors.New("boom")
	var calls atomic.Int64
	err := Each(context.Background(), 1000, 2, func(i int) error {
		calls.Add(1)
		if i == 3 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) || calls.Load() > 10 {
		t.Errorf("err %v after %d calls", err, calls.Load())
	}
	if err := Each(context.Background(), 0, 0, func(int) error { return boom }); err != nil {
		t.Errorf("no work: %v", err)
	}
}
