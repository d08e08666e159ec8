package web

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/probity-edu/probity/collector/api"
	"github.com/probity-edu/probity/collector/report"
	"github.com/probity-edu/probity/collector/standards"
	"github.com/probity-edu/probity/collector/store"
)

func (s *Server) fleet(w http.ResponseWriter, r *http.Request, c *call) {
	trust, ok := c.P.TrustScope()
	if !ok {
		// A school viewer has one school: that is their overview.
		http.Redirect(w, r, "/schools/"+url.PathEscape(c.P.User.SiteID), http.StatusFound)
		return
	}
	f, err := report.BuildFleet(r.Context(), s.Store, s.Catalogue, trust, s.now())
	if err != nil {
		s.Log.Error("fleet overview", "trust", trust, "err", err)
		s.errorPage(w, r, c, http.StatusInternalServerError, "The overview could not be built; see the collector log.")
		return
	}
	s.render(w, r, http.StatusOK, "fleet.html", c, "Schools", f)
}

// schoolData is the school page.
type schoolData struct {
	Site         store.Site
	Report       *report.Report
	Attestations []store.Attestation
	CanAct       bool
	Options      []reqOption
	Form         api.AttestationInput
	Errors       map[string]string
	Recorded     string // requirement just attested
	Now          time.Time
}

// reqOption is one requirement a person can attest.
type reqOption struct {
	ID, Title, Life string
	Selected        bool
}

func (s *Server) school(w http.ResponseWriter, r *http.Request, c *call) {
	d, err := s.schoolData(r, c)
	if err != nil {
		s.Log.Error("school page", "site", c.Site.ID, "err", err)
		s.errorPage(w, r, c, http.StatusInternalServerError, "The school's evidence could not be read; see the collector log.")
		return
	}
	d.Recorded = r.URL.Query().Get("recorded")
	s.render(w, r, http.StatusOK, "school.html", c, c.Site.Name, d)
}

func (s *Server) schoolData(r *http.Request, c *call) (*schoolData, error) {
	now := s.now()
	rep, err := report.BuildWith(r.Context(), s.Store, s.Catalogue, c.Site.ID, report.Options{Now: now})
	if err != nil {
		return nil, err
	}
	atts, err := s.Store.Attestations(r.Context(), c.Site.ID)
	if err != nil {
		return nil, err
	}
	d := &schoolData{Site: c.Site, Report: rep, Attestations: atts, CanAct: c.P.CanAct(c.Site), Now: now}
	if d.CanAct {
		for _, row := range rep.Rows {
			req, ok := s.Catalogue.Requirement(row.ID)
			if !ok || req.Evidence == standards.EvidenceMeasured || !req.AppliesTo(c.Site.Phase) {
				continue
			}
			life := "a year"
			if req.AttestationLife == standards.LifeTermly {
				life = "a term"
			}
			d.Options = append(d.Options, reqOption{ID: row.ID, Title: row.Title, Life: life})
		}
	}
	return d, nil
}

func (s *Server) addAttestation(w http.ResponseWriter, r *http.Request, c *call) {
	in := api.AttestationInput{
		Requirement: r.PostFormValue("requirement"),
		By:          r.PostFormValue("by"),
		Role:        r.PostFormValue("role"),
		Note:        r.PostFormValue("note"),
		Link:        r.PostFormValue("link"),
	}
	now := s.now()
	// The API's validation, so both record alike; its expiry is a year,
	// or the end of a term for termly requirements.
	a, err := in.Attestation(s.Catalogue, c.Site, now)
	var fe api.FieldErrors
	if errors.As(err, &fe) {
		d, derr := s.schoolData(r, c)
		if derr != nil {
			s.Log.Error("school page", "site", c.Site.ID, "err", derr)
			s.errorPage(w, r, c, http.StatusInternalServerError, "The school's evidence could not be read; see the collector log.")
			return
		}
		d.Form, d.Errors = in, map[string]string{}
		for _, e := range fe {
			d.Errors[e.Field] = e.Message
		}
		for i := range d.Options {
			d.Options[i].Selected = strings.EqualFold(d.Options[i].ID, strings.TrimSpace(in.Requirement))
		}
		s.render(w, r, http.StatusBadRequest, "school.html", c, c.Site.Name, d)
		return
	}
	a.RecordedBy, a.RecordedAt = c.P.Name(), now
	a, err = s.Store.AddAttestation(r.Context(), a)
	if err != nil {
		s.Log.Error("adding attestation", "site", c.Site.ID, "requirement", a.ReqID, "err", err)
		s.errorPage(w, r, c, http.StatusInternalServerError, "The attestation could not be stored; see the collector log.")
		return
	}
	s.Log.Info("attestation recorded", "site", c.Site.ID, "requirement", a.ReqID, "id", a.ID, "by", a.By, "recorded_by", a.RecordedBy)
	http.Redirect(w, r, "/schools/"+url.PathEscape(c.Site.ID)+"?recorded="+url.QueryEscape(a.ReqID)+"#attestations", http.StatusSeeOther)
}

// since reads ?since= as the report does; a bad one is answered 400.
func (s *Server) since(w http.ResponseWriter, r *http.Request, c *call) (time.Time, time.Time, bool) {
	now := s.now()
	since, err := report.ParseSince(r.URL.Query().Get("since"), now)
	if err != nil {
		s.errorPage(w, r, c, http.StatusBadRequest, "since: "+err.Error())
		return now, since, false
	}
	return now, since, true
}

func (s *Server) build(w http.ResponseWriter, r *http.Request, c *call) (*report.Report, bool) {
	now, since, ok := s.since(w, r, c)
	if !ok {
		return nil, false
	}
	rep, err := report.BuildWith(r.Context(), s.Store, s.Catalogue, c.Site.ID, report.Options{Now: now, Since: since})
	if err != nil {
		s.Log.Error("report", "site", c.Site.ID, "err", err)
		s.errorPage(w, r, c, http.StatusInternalServerError, "The report could not be built; see the collector log.")
		return nil, false
	}
	return rep, true
}

// barData is the strip above a report or review page.
type barData struct {
	Site     store.Site
	User     string
	CSRF     string
	Query    string // ?since=..., kept on the download links
	Review   bool
	CanAct   bool
	From, To time.Time
	Error    string
	Text     string
}

func (s *Server) bar(c *call, r *http.Request, review bool) barData {
	b := barData{Site: c.Site, Review: review, CanAct: c.P.CanAct(c.Site)}
	if c.P.Session != nil {
		b.CSRF = c.P.Session.CSRF
	}
	if c.P.User != nil {
		b.User = c.P.User.Name
	}
	if v := r.URL.Query().Get("since"); v != "" {
		b.Query = "?since=" + url.QueryEscape(v)
	}
	return b
}

func (s *Server) renderBar(name string, b barData) ([]byte, error) {
	var buf bytes.Buffer
	err := pages["bar.html"].ExecuteTemplate(&buf, name, b)
	return buf.Bytes(), err
}

func (s *Server) report(w http.ResponseWriter, r *http.Request, c *call) {
	rep, ok := s.build(w, r, c)
	if !ok {
		return
	}
	s.page(w, r, c, rep.WriteHTML, s.bar(c, r, false))
}

// page renders a report-package page with the bar (and, on the review,
// the findings form) put into it.
func (s *Server) page(w http.ResponseWriter, r *http.Request, c *call, write func(io.Writer) error, b barData) {
	var doc bytes.Buffer
	if err := write(&doc); err != nil {
		s.Log.Error("rendering", "site", c.Site.ID, "err", err)
		s.errorPage(w, r, c, http.StatusInternalServerError, "The page could not be rendered; see the collector log.")
		return
	}
	bar, err := s.renderBar("bar", b)
	var tail []byte
	if err == nil && b.Review && b.CanAct {
		tail, err = s.renderBar("findings", b)
	}
	if err != nil {
		s.Log.Error("rendering the download bar", "err", err)
		s.errorPage(w, r, c, http.StatusInternalServerError, "The page could not be rendered; see the collector log.")
		return
	}
	code := http.StatusOK
	if b.Error != "" {
		code = http.StatusBadRequest
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	_, _ = w.Write(inject(doc.Bytes(), bar, tail))
}

// download writes a built file once it is complete, so a failure is a
// 500 rather than half a file.
func (s *Server) download(w http.ResponseWriter, r *http.Request, c *call, ext, ctype string, write func(*report.Report, io.Writer) error) {
	rep, ok := s.build(w, r, c)
	if !ok {
		return
	}
	var buf bytes.Buffer
	if err := write(rep, &buf); err != nil {
		s.Log.Error("report download", "site", c.Site.ID, "format", ext, "err", err)
		s.errorPage(w, r, c, http.StatusInternalServerError, "The "+strings.ToUpper(ext)+" could not be made; see the collector log.")
		return
	}
	name := fmt.Sprintf("probity-%s-%s.%s", c.Site.ID, rep.Generated.Format("2006-01-02"), ext)
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Disposition", `attachment; filename="`+strings.ReplaceAll(name, `"`, "")+`"`)
	_, _ = w.Write(buf.Bytes())
}

func (s *Server) reportPDF(w http.ResponseWriter, r *http.Request, c *call) {
	s.download(w, r, c, "pdf", "application/pdf", (*report.Report).WritePDF)
}

func (s *Server) reportCSV(w http.ResponseWriter, r *http.Request, c *call) {
	s.download(w, r, c, "csv", "text/csv; charset=utf-8", (*report.Report).WriteCSV)
}

func (s *Server) reportJSON(w http.ResponseWriter, r *http.Request, c *call) {
	s.download(w, r, c, "json", "application/json", (*report.Report).WriteJSON)
}

func (s *Server) review(w http.ResponseWriter, r *http.Request, c *call) {
	s.reviewWith(w, r, c, "", "")
}

func (s *Server) reviewWith(w http.ResponseWriter, r *http.Request, c *call, errMsg, text string) {
	now, since, ok := s.since(w, r, c)
	if !ok {
		return
	}
	rv, err := report.BuildReview(r.Context(), s.Store, s.Catalogue, c.Site.ID, report.Options{Now: now, Since: since})
	if err != nil {
		s.Log.Error("review", "site", c.Site.ID, "err", err)
		s.errorPage(w, r, c, http.StatusInternalServerError, "The review could not be built; see the collector log.")
		return
	}
	b := s.bar(c, r, true)
	b.Error, b.Text = errMsg, text
	s.page(w, r, c, rv.WriteHTML, b)
}

// maxFinding bounds a finding, like an attestation's note.
const maxFinding = 4000

func (s *Server) addFinding(w http.ResponseWriter, r *http.Request, c *call) {
	text := strings.TrimSpace(r.PostFormValue("text"))
	now, since, ok := s.since(w, r, c)
	if !ok {
		return
	}
	if since.IsZero() {
		since = now.Add(-report.DefaultReviewPeriod)
	}
	switch n := utf8.RuneCountInString(text); {
	case n == 0:
		s.reviewWith(w, r, c, "Write the finding before saving it.", text)
		return
	case n > maxFinding:
		s.reviewWith(w, r, c, fmt.Sprintf("A finding can be at most %d characters; this one is %d.", maxFinding, n), text)
		return
	}
	f, err := s.Store.AddFinding(r.Context(), store.Finding{Site: c.Site.ID, From: since.UTC(), To: now.UTC(), Text: text, By: c.P.Name(), At: now.UTC()})
	if err != nil {
		s.Log.Error("adding finding", "site", c.Site.ID, "err", err)
		s.errorPage(w, r, c, http.StatusInternalServerError, "The finding could not be stored; see the collector log.")
		return
	}
	s.Log.Info("review finding recorded", "site", c.Site.ID, "id", f.ID, "by", f.By)
	target := "/schools/" + url.PathEscape(c.Site.ID) + "/review"
	if q := r.URL.Query().Get("since"); q != "" {
		target += "?since=" + url.QueryEscape(q)
	}
	http.Redirect(w, r, target+"#findings", http.StatusSeeOther)
}

// oldReport keeps links from before the web UI working.
func (s *Server) oldReport(w http.ResponseWriter, r *http.Request, _ *call) {
	target := "/schools/" + url.PathEscape(r.PathValue("id")) + "/report"
	if r.URL.RawQuery != "" {
		target += "?" + r.URL.RawQuery
	}
	http.Redirect(w, r, target, http.StatusMovedPermanently)
}

// trustReport serves the trust report (every school of the user's trust
// against the core standards) as a page, or with ?format=pdf as a PDF. A
// school viewer has no trust to see.
func (s *Server) trustReport(w http.ResponseWriter, r *http.Request, c *call) {
	trust, ok := c.P.TrustScope()
	if !ok {
		s.errorPage(w, r, c, http.StatusNotFound, "There is no trust report for a school viewer.")
		return
	}
	f, err := report.BuildFleet(r.Context(), s.Store, s.Catalogue, trust, s.now())
	if err != nil {
		s.Log.Error("trust report", "trust", trust, "err", err)
		s.errorPage(w, r, c, http.StatusInternalServerError, "The trust report could not be built; see the collector log.")
		return
	}
	if r.URL.Query().Get("format") == "pdf" {
		w.Header().Set("Content-Type", "application/pdf")
		w.Header().Set("Content-Disposition", `attachment; filename="trust-report.pdf"`)
		if err := f.WritePDF(w); err != nil {
			s.Log.Error("trust report pdf", "err", err)
		}
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := f.WriteHTML(w); err != nil {
		s.Log.Error("trust report", "err", err)
	}
}
