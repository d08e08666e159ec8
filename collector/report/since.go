package report

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/probity-edu/probity/collector/standards"
	"github.com/probity-edu/probity/collector/store"
)

// Renderer serves report pages: it implements the api's ReportRenderer
// and reads the query parameter since (see ParseSince).
type Renderer struct {
	Source    Source
	Catalogue *standards.Catalogue
	Now       func() time.Time // nil: time.Now
}

// RenderHTML writes site's report page. A bad since is answered 400 here
// and is not an error of the renderer.
func (rr Renderer) RenderHTML(w http.ResponseWriter, r *http.Request, site store.Site) error {
	now := time.Now()
	if rr.Now != nil {
		now = rr.Now()
	}
	since, err := ParseSince(r.URL.Query().Get("since"), now)
	if err != nil {
		http.Error(w, "since: "+err.Error(), http.StatusBadRequest)
		return nil
	}
	rep, err := BuildWith(r.Context(), rr.Source, rr.Catalogue, site.ID, Options{Now: now, Since: since})
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	return rep.WriteHTML(w)
}

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
