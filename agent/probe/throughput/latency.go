package throughput

import (
	"context"
	"net"
	"sync"
	"time"
)

// rtt measures round-trip time as the TCP handshake to a host:port: it
// needs no privileges, and its SYN or SYN-ACK waits in the same queues as
// the test's data, so a loaded link shows its bufferbloat.
type rtt struct {
	addr    string
	timeout time.Duration
}

// once connects and closes; the duration is the handshake.
func (r rtt) once(ctx context.Context) (time.Duration, error) {
	d := net.Dialer{Timeout: r.timeout}
	start := time.Now()
	c, err := d.DialContext(ctx, "tcp", r.addr)
	if err != nil {
		return 0, err
	}
	el := time.Since(start)
	c.Close()
	return el, nil
}

// idle takes n samples spaced by every and returns their median; ok is
// false when none succeeded.
func (r rtt) idle(ctx context.Context, n int, every time.Duration) (time.Duration, bool) {
	var got []float64
	for i := 0; i < n; i++ {
		if i > 0 && !sleep(ctx, every) {
			break
		}
		if d, err := r.once(ctx); err == nil {
			got = append(got, float64(d))
		}
	}
	if len(got) == 0 {
		return 0, false
	}
	return time.Duration(median(got)), true
}

// sampler measures every interval until stopped, keeping what came after
// from (the ramp is not "loaded" yet).
type sampler struct {
	mu   sync.Mutex
	got  []float64
	fail int
	stop context.CancelFunc
	done chan struct{}
}

func (r rtt) start(ctx context.Context, every, after time.Duration) *sampler {
	ctx, cancel := context.WithCancel(ctx)
	s := &sampler{stop: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		if !sleep(ctx, after) {
			return
		}
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			d, err := r.once(ctx)
			if ctx.Err() != nil {
				return
			}
			s.mu.Lock()
			if err != nil {
				s.fail++
			} else {
				s.got = append(s.got, float64(d))
			}
			s.mu.Unlock()
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return s
}

// finish stops the sampler and returns the samples (ns) and failures.
func (s *sampler) finish() ([]float64, int) {
	s.stop()
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.got, s.fail
}

func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
