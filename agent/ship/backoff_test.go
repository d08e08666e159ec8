package ship

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"net/http"
	"testing"
	"time"
)

func TestBackoffBounds(t *testing.T) {
	const lo, hi = time.Second, 5 * time.Minute
	r := rand.New(rand.NewPCG(1, 2))
	for attempt := 1; attempt <= 70; attempt++ {
		ceil := hi
		if attempt < 9 { // 1s<<9 = 512s > 5m
			ceil = lo << attempt
		}
		for range 200 {
			d := backoff(attempt, lo, hi, r.Int64N)
			if d < lo || d > ceil {
				t.Fatalf("attempt %d: %s outside [%s, %s]", attempt, d, lo, ceil)
			}
		}
		// The extremes of the random draw reach both ends.
		if d := backoff(attempt, lo, hi, func(n int64) int64 { return n - 1 }); d != ceil {
			t.Fatalf("attempt %d: top of range %s, want %s", attempt, d, ceil)
		}
		if d := backoff(attempt, lo, hi, func(int64) int64 { return 0 }); d != lo {
			t.Fatalf("attempt %d: bottom of range %s, want %s", attempt, d, lo)
		}
	}
	if d := backoff(3, time.Second, time.Second, r.Int64N); d != time.Second {
		t.Fatalf("min == max: %s", d)
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2025, 9, 1, 8, 0, 0, 0, time.UTC)
	f := func(h string, want time.Duration, wantOK bool) {
		t.Helper()
		got, ok := retryAfter(h, now)
		if got != want || ok != wantOK {
			t.Errorf("retryAfter(%q) = %s, %v; want %s, %v", h, got, ok, want, wantOK)
		}
	}
	f("", 0, false)
	f("7", 7*time.Second, true)
	f(" 120 ", 2*time.Minute, true)
	f("0", 0, true)
	f("-5", 0, false)
	f("soon", 0, false)
	f(now.Add(90*time.Second).Format(http.TimeFormat), 90*time.Second, true)
	f(now.Add(-time.Hour).Format(http.TimeFormat), 0, true)
	f("99999999999999999999", 0, false)
	f("9999999", 24*time.Hour, true)
}

func TestDelayClampsRetryAfter(t *testing.T) {
	s := &Shipper{o: Options{MinBackoff: time.Second, MaxBackoff: 5 * time.Minute}, rand: rand.Int64N}
	f := func(wait, want time.Duration) {
		t.Helper()
		err := &sendError{status: 503, wait: wait, hasWait: true, err: errors.New("503")}
		if got := s.delay(1, err); got != want {
			t.Errorf("Retry-After %s: delay %s, want %s", wait, got, want)
		}
	}
	f(0, time.Second)
	f(7*time.Second, 7*time.Second)
	f(time.Hour, 5*time.Minute)
}

func TestSplit(t *testing.T) {
	f := func(body string, wantA, wantB string) {
		t.Helper()
		n := lines([]byte(body))
		a, b, na, nb := split([]byte(body), n)
		if string(a) != wantA || string(b) != wantB || na != lines(a) || nb != lines(b) || na+nb != n {
			t.Errorf("split(%q) = %q (%d), %q (%d)", body, a, na, b, nb)
		}
		if !bytes.Equal(append(append([]byte{}, a...), b...), []byte(body)) {
			t.Errorf("split(%q) lost bytes", body)
		}
	}
	f("a 1\nb 2\n", "a 1\n", "b 2\n")
	f("a 1\nb 2\nc 3\n", "a 1\n", "b 2\nc 3\n")
	f("a 1\nb 2\nc 3\nd 4\ne 5\n", "a 1\nb 2\n", "c 3\nd 4\ne 5\n")
	f("a 1\nb 2", "a 1\n", "b 2")
	if lines(nil) != 0 || lines([]byte("x 1")) != 1 || lines([]byte("x 1\n")) != 1 {
		t.Error("lines miscounts")
	}
}
