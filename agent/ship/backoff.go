package ship

import (
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// backoff returns the wait before retry number attempt (1-based): full
// jitter, uniform in [min, min(max, min*2^attempt)], so many agents that
// lost the collector at once do not return in step.
func backoff(attempt int, min, max time.Duration, randN func(int64) int64) time.Duration {
	ceil := max
	if attempt < 32 {
		if c := min << attempt; c > 0 && c < max {
			ceil = c
		}
	}
	if ceil <= min {
		return min
	}
	return min + time.Duration(randN(int64(ceil-min)+1))
}

func defaultRand(n int64) int64 { return rand.Int64N(n) }

// retryAfter parses a Retry-After header: delta seconds or an HTTP date.
// ok is false when the header is absent or unparsable.
func retryAfter(h string, now time.Time) (time.Duration, bool) {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0, false
	}
	if s, err := strconv.ParseInt(h, 10, 64); err == nil {
		if s < 0 {
			return 0, false
		}
		if s > int64(24*time.Hour/time.Second) {
			s = int64(24 * time.Hour / time.Second) // avoid overflow; clamped later anyway
		}
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(h); err == nil {
		d := t.Sub(now)
		if d < 0 {
			d = 0
		}
		return d, true
	}
	return 0, false
}
