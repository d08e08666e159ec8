package api

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/probity-edu/probity/collector/report"
	"github.com/probity-edu/probity/collector/store"
)

// TrustJSON is a trust as the API shows it.
type TrustJSON struct {
	ID      int64     `json:"id"`
	Name    string    `json:"name"`
	Created time.Time `json:"created"`
	Summary string    `json:"summary"`
}

func (s *Server) trusts(w http.ResponseWriter, r *http.Request) {
	p, ok := s.reader(w, r)
	if !ok {
		return
	}
	ts, err := s.Store.Trusts(r.Context())
	if err != nil {
		s.Log.Error("listing trusts", "err", err)
		writeJSON(w, http.StatusInternalServerError, apiError{"store unavailable"})
		return
	}
	out := make([]TrustJSON, 0, len(ts))
	for _, t := range ts {
		if !p.CanReadTrust(t.ID) {
			continue
		}
		out = append(out, TrustJSON{ID: t.ID, Name: t.Name, Created: t.Created, Summary: fmt.Sprintf("/api/v1/trusts/%d/summary", t.ID)})
	}
	writeJSON(w, http.StatusOK, out)
}

// trustSummary answers report.Summary for {id}, a trust's id or exact
// name. A trust the reader may not read is 404, like one that does not
// exist.
func (s *Server) trustSummary(w http.ResponseWriter, r *http.Request) {
	p, ok := s.reader(w, r)
	if !ok {
		return
	}
	var sum *report.Summary
	t, err := report.FindTrust(r.Context(), s.Store, r.PathValue("id"))
	if err == nil && !p.CanReadTrust(t.ID) {
		err = store.ErrNotFound
	}
	if err == nil {
		sum, err = report.BuildTrustSummary(r.Context(), s.Store, s.catalogue(), strconv.FormatInt(t.ID, 10), s.Now())
	}
	if errors.Is(err, store.ErrNotFound) {
		writeJSON(w, http.StatusNotFound, apiError{fmt.Sprintf("no trust %q (by id or name)", r.PathValue("id"))})
		return
	}
	if err != nil {
		s.Log.Error("trust summary", "trust", r.PathValue("id"), "err", err)
		writeJSON(w, http.StatusInternalServerError, apiError{"store unavailable"})
		return
	}
	writeJSON(w, http.StatusOK, sum)
}
