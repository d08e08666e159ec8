package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/probity-edu/probity/collector/report"
	"github.com/probity-edu/probity/collector/standards"
	"github.com/probity-edu/probity/collector/store"
)

// AttestationInput is the body of POST /api/v1/sites/{id}/attestations.
// The CLI fills the same struct, so both validate alike.
type AttestationInput struct {
	Requirement string `json:"requirement"`
	By          string `json:"by"`
	Role        string `json:"role,omitempty"`
	Note        string `json:"note"`
	Link        string `json:"link,omitempty"`
	// Date of the evidence: YYYY-MM-DD or RFC 3339; empty means now.
	Date string `json:"date,omitempty"`
}

// FieldError is one invalid field of a request.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// FieldErrors is every invalid field of a request.
type FieldErrors []FieldError

func (fe FieldErrors) Error() string {
	parts := make([]string, len(fe))
	for i, e := range fe {
		parts[i] = e.Field + ": " + e.Message
	}
	return strings.Join(parts, "; ")
}

// Field length limits: generous for a statement, small enough that a
// report page stays readable.
const (
	maxName = 200
	maxNote = 4000
	maxLink = 2000
)

// Attestation validates in against cat for site and returns the record to
// store, with its expiry from the requirement's attestation life. Errors
// are FieldErrors naming the JSON fields.
func (in AttestationInput) Attestation(cat *standards.Catalogue, site store.Site, now time.Time) (store.Attestation, error) {
	var errs FieldErrors
	bad := func(field, format string, args ...any) {
		errs = append(errs, FieldError{field, fmt.Sprintf(format, args...)})
	}
	text := func(field, v string, limit int, required bool) string {
		v = strings.TrimSpace(v)
		switch {
		case v == "" && required:
			bad(field, "required")
		case utf8.RuneCountInString(v) > limit:
			bad(field, "at most %d characters", limit)
		}
		return v
	}
	a := store.Attestation{Site: site.ID}
	id := strings.ToUpper(strings.TrimSpace(in.Requirement))
	req, ok := cat.Requirement(id)
	switch {
	case id == "":
		bad("requirement", "required")
	case !ok:
		bad("requirement", "no requirement %q in catalogue %s (see `probity-collector standards list`)", id, cat.Version)
	case req.Evidence == standards.EvidenceMeasured:
		bad("requirement", "%s is measured by probes and cannot be attested", id)
	case !req.AppliesTo(site.Phase):
		bad("requirement", "%s applies only to %s schools, and %s is %s", id, strings.Join(req.Phases, ", "), site.ID, site.Phase)
	}
	a.ReqID = id
	a.By = text("by", in.By, maxName, true)
	a.Role = text("role", in.Role, maxName, false)
	a.Note = text("note", in.Note, maxNote, true)
	a.Link = text("link", in.Link, maxLink, false)
	if a.Link != "" {
		if u, err := url.Parse(a.Link); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("link", "must be an http:// or https:// address")
		}
	}
	a.At = now.UTC()
	if d := strings.TrimSpace(in.Date); d != "" {
		at, err := report.ParseTime(d)
		switch {
		case err != nil:
			bad("date", "%v", err)
		// A minute's grace for a client clock a little ahead; a date
		// alone is midnight, so today always passes.
		case at.After(now.Add(time.Minute)):
			bad("date", "%s is in the future", d)
		default:
			a.At = at.UTC()
		}
	}
	if len(errs) > 0 {
		return store.Attestation{}, errs
	}
	a.Expires = req.AttestationExpiry(a.At)
	return a, nil
}

// AttestationJSON is an attestation as the API shows it.
type AttestationJSON struct {
	ID           int64     `json:"id"`
	Requirement  string    `json:"requirement"`
	By           string    `json:"by"`
	Role         string    `json:"role,omitempty"`
	Note         string    `json:"note"`
	Link         string    `json:"link,omitempty"`
	Date         time.Time `json:"date"`
	Expires      time.Time `json:"expires"`
	Expired      bool      `json:"expired"`
	RecordedBy   string    `json:"recorded_by"`
	RecordedAt   time.Time `json:"recorded_at"`
	SupersededBy int64     `json:"superseded_by,omitempty"`
	SupersededAt time.Time `json:"superseded_at,omitzero"`
	// Supersedes is set in the answer to a POST: the attestation this one
	// replaced.
	Supersedes int64 `json:"supersedes,omitempty"`
}

func attestationJSON(a store.Attestation, now time.Time) AttestationJSON {
	return AttestationJSON{ID: a.ID, Requirement: a.ReqID, By: a.By, Role: a.Role, Note: a.Note, Link: a.Link,
		Date: a.At, Expires: a.Expires, Expired: !now.Before(a.Expires), RecordedBy: a.RecordedBy, RecordedAt: a.RecordedAt,
		SupersededBy: a.SupersededBy, SupersededAt: a.SupersededAt}
}

type fieldErrorBody struct {
	Error  string      `json:"error"`
	Fields FieldErrors `json:"fields"`
}

// maxAttestationBody bounds a POST body: four text fields at their limits
// fit many times over.
const maxAttestationBody = 64 << 10

func (s *Server) addAttestation(w http.ResponseWriter, r *http.Request) {
	admin, ok := s.authAdmin(w, r)
	if !ok {
		return
	}
	site, ok := s.siteOr404(w, r)
	if !ok {
		return
	}
	var in AttestationInput
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxAttestationBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		msg := "body: must be one JSON object with requirement, by, note and optionally role, link and date: " + err.Error()
		if errors.Is(err, io.EOF) {
			msg = "body: empty (EOF); send a JSON object with requirement, by and note"
		}
		writeJSON(w, http.StatusBadRequest, fieldErrorBody{Error: msg, Fields: FieldErrors{{"body", err.Error()}}})
		return
	}
	now := s.Now()
	a, err := in.Attestation(s.catalogue(), site, now)
	var fe FieldErrors
	if errors.As(err, &fe) {
		writeJSON(w, http.StatusBadRequest, fieldErrorBody{Error: fe.Error(), Fields: fe})
		return
	}
	a.RecordedBy, a.RecordedAt = "admin token "+admin.Name, now
	a, err = s.Store.AddAttestation(r.Context(), a)
	if err != nil {
		s.Log.Error("adding attestation", "site", site.ID, "requirement", a.ReqID, "err", err)
		writeJSON(w, http.StatusInternalServerError, apiError{"store unavailable"})
		return
	}
	out := attestationJSON(a, now)
	// Look the replaced one up for the answer; the store superseded it in
	// the same transaction as the insert.
	if hist, err := s.Store.AttestationHistory(r.Context(), site.ID, a.ReqID); err == nil {
		for _, h := range hist {
			if h.SupersededBy == a.ID {
				out.Supersedes = h.ID
			}
		}
	}
	s.Log.Info("attestation recorded", "site", site.ID, "requirement", a.ReqID, "id", a.ID, "by", a.By, "admin", admin.Name, "supersedes", out.Supersedes)
	writeJSON(w, http.StatusCreated, out)
}

func (s *Server) attestations(w http.ResponseWriter, r *http.Request) {
	site, ok := s.readableSite(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	req := strings.ToUpper(strings.TrimSpace(q.Get("requirement")))
	var history bool
	switch q.Get("history") {
	case "", "0", "false":
	case "1", "true":
		history = true
	default:
		writeJSON(w, http.StatusBadRequest, fieldErrorBody{Error: "history: must be 1 or 0", Fields: FieldErrors{{"history", "must be 1 or 0"}}})
		return
	}
	var as []store.Attestation
	var err error
	if history {
		as, err = s.Store.AttestationHistory(r.Context(), site.ID, req)
	} else {
		as, err = s.Store.Attestations(r.Context(), site.ID)
	}
	if err != nil {
		s.Log.Error("attestations", "site", site.ID, "err", err)
		writeJSON(w, http.StatusInternalServerError, apiError{"store unavailable"})
		return
	}
	now := s.Now()
	out := make([]AttestationJSON, 0, len(as))
	for _, a := range as {
		if req == "" || a.ReqID == req {
			out = append(out, attestationJSON(a, now))
		}
	}
	writeJSON(w, http.StatusOK, out)
}
