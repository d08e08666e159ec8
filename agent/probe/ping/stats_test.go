package ping

import (
	"testing"
	"time"
)

func ms(v ...float64) []time.Duration {
	out := make([]time.Duration, len(v))
	for i, x := range v {
		out[i] = time.Duration(x * float64(time.Millisecond))
	}
	return out
}

func TestPercentileNearestRank(t *testing.T) {
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(i+1) * time.Millisecond
	}
	for _, tc := range []struct {
		name   string
		sorted []time.Duration
		want   time.Duration
	}{
		{"empty", nil, 0},
		{"one", ms(7), 7 * time.Millisecond},
		{"two: rank ceil(1.9)=2", ms(1, 9), 9 * time.Millisecond},
		{"ten: rank ceil(9.5)=10", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 50), 50 * time.Millisecond},
		{"hundred: rank 95", hundred, 95 * time.Millisecond},
		{"twenty: rank 19", ms(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 3), 2 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := percentile(tc.sorted, 95); got != tc.want {
				t.Errorf("p95 = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestJitter(t *testing.T) {
	for _, tc := range []struct {
		name   string
		rtts   []time.Duration
		want   time.Duration
		wantOK bool
	}{
		{"none", nil, 0, false},
		{"one reply has no jitter", ms(10), 0, false},
		{"constant", ms(5, 5, 5, 5), 0, true},
		{"alternating", ms(10, 20, 10, 20), 10 * time.Millisecond, true},          // |10|+|10|+|10| / 3
		{"order matters, not spread", ms(10, 11, 12, 13), time.Millisecond, true}, // sorted input: small jitter
		{"same values reordered", ms(10, 13, 11, 12), 2 * time.Millisecond, true}, // (3+2+1)/3
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := jitter(tc.rtts)
			if got != tc.want || ok != tc.wantOK {
				t.Errorf("jitter = %s, %v; want %s, %v", got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

func TestSummarize(t *testing.T) {
	if _, ok := summarize(nil); ok {
		t.Error("summarize(nil) reported ok")
	}
	s, ok := summarize(ms(4, 1, 3, 2, 10)) // jitter (3+2+1+8)/4
	if !ok {
		t.Fatal("summarize reported no data")
	}
	want := summary{Min: ms(1)[0], Avg: ms(4)[0], Max: ms(10)[0], P95: ms(10)[0], Jitter: ms(3.5)[0], HasJitter: true}
	if s != want {
		t.Errorf("summarize = %+v, want %+v", s, want)
	}
}

func TestIsPrompt(t *testing.T) {
	cases := []struct {
		name            string
		count, received int
		rtts            []time.Duration
		want            bool
	}{
		{"all fast", 5, 5, ms(0.05, 0.1, 0.2, 1, 1.9), true},
		{"one at the threshold", 3, 3, ms(0.1, 2, 0.1), false},
		{"one slow", 3, 3, ms(0.1, 25, 0.1), false},
		{"one lost", 5, 4, ms(0.1, 0.1, 0.1, 0.1), false},
		{"nothing back", 5, 0, nil, false},
	}
	for _, c := range cases {
		if got := isPrompt(c.count, c.received, c.rtts, promptRTT); got != c.want {
			t.Errorf("%s: isPrompt(%d, %d, %v) = %v, want %v", c.name, c.count, c.received, c.rtts, got, c.want)
		}
	}
}
