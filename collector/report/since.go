package report

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseSince reads when to compare with: empty (zero: the default), a date
// YYYY-MM-DD (midnight UTC), an RFC 3339 time, or a number of days back
// such as 90d. It must not be after now.
func ParseSince(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	var t time.Time
	if n, ok := strings.CutSuffix(s, "d"); ok {
		d, err := strconv.Atoi(n)
		if err != nil || d < 1 || d > 3650 {
			return time.Time{}, fmt.Errorf("%q: days back must be a whole number from 1 to 3650, like 90d", s)
		}
		t = now.AddDate(0, 0, -d)
	} else {
		var err error
		t, err = ParseTime(s)
		if err != nil {
			return time.Time{}, err
		}
	}
	if t.After(now) {
		return time.Time{}, fmt.Errorf("%s is in the future", s)
	}
	return t, nil
}

// ParseTime reads a date YYYY-MM-DD (midnight UTC) or an RFC 3339 time.
func ParseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, errors.New(strconv.Quote(s) + " is not a date (YYYY-MM-DD) or an RFC 3339 time (2025-01-31T09:00:00Z)")
}
