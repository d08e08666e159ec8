// Package web serves the collector's pages for people: sign-in, the fleet
// overview, a school's verdicts, attestations, evidence report with its
// downloads, and the annual IT support review. Pages are rendered on the
// server from embedded templates with no script. Who may see and do what
// is decided by collector/auth, which the read API shares; this package
// adds sessions in a cookie, CSRF tokens in every form and a limit on
// failed sign-ins.
package web

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/probity-edu/probity/collector/auth"
	"github.com/probity-edu/probity/collector/standards"
	"github.com/probity-edu/probity/collector/store"
)

// Server holds what the pages need.
type Server struct {
	Store store.Store
	// Catalogue scores and validates attestations; nil means
	// standards.Default().
	Catalogue *standards.Catalogue
	Auth      *auth.Authenticator
	// SecureCookies marks the session cookie Secure on plain HTTP too
	// (behind a proxy that ends TLS); over TLS it always is.
	SecureCookies bool
	// FailDelay is how long a failed sign-in waits before answering, to
	// slow guessing; 0 means DefaultFailDelay, negative none (tests).
	FailDelay time.Duration
	Log       *slog.Logger
	Now       func() time.Time

	limits *limiter
}

// maxForm bounds a form's body: the attestation form at its field limits
// fits many times over.
const maxForm = 64 << 10

// DefaultFailDelay slows every failed sign-in.
const DefaultFailDelay = 500 * time.Millisecond

// access is what a route needs of the principal.
type access int

const (
	public   access = iota // anyone: sign-in page, style sheet, old links
	signedIn               // any signed-in principal
	readSite               // may read the school in {id}
	actSite                // may change the school in {id}'s evidence
)

// call is one request's resolved principal and, for school routes, its
// school.
type call struct {
	P    auth.Principal
	Site store.Site
}

type handler func(w http.ResponseWriter, r *http.Request, c *call)

type route struct {
	pattern string
	access  access
	h       handler
}

// routes is every route of the package; the access-control test walks
// the same table, so a route added here without a row there fails it.
func (s *Server) routes() []route {
	return []route{
		{"GET /static/web.css", public, s.css},
		{"GET /static/bar.css", public, s.css},
		{"GET /favicon.ico", public, s.favicon},
		{"GET /login", public, s.loginPage},
		{"POST /login", public, s.login},
		{"POST /logout", signedIn, s.logout},
		{"GET /{$}", signedIn, s.fleet},
		{"GET /trust/report", signedIn, s.trustReport},
		{"GET /schools/{id}", readSite, s.school},
		{"POST /schools/{id}/attestations", actSite, s.addAttestation},
		{"GET /schools/{id}/report", readSite, s.report},
		{"GET /schools/{id}/report.pdf", readSite, s.reportPDF},
		{"GET /schools/{id}/report.csv", readSite, s.reportCSV},
		{"GET /schools/{id}/report.json", readSite, s.reportJSON},
		{"GET /schools/{id}/review", readSite, s.review},
		{"POST /schools/{id}/review/findings", actSite, s.addFinding},
		// Links from before the web UI.
		{"GET /sites/{id}/report", public, s.oldReport},
	}
}

// Handler serves the pages and passes every other path to next (the API).
func (s *Server) Handler(next http.Handler) http.Handler {
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.Log == nil {
		s.Log = slog.Default()
	}
	if s.Catalogue == nil {
		s.Catalogue = standards.Default()
	}
	if s.Auth == nil {
		s.Auth = &auth.Authenticator{Store: s.Store, Now: s.Now, Log: s.Log}
	}
	if s.FailDelay == 0 {
		s.FailDelay = DefaultFailDelay
	}
	s.limits = newLimiter(s.Now)
	mux := http.NewServeMux()
	for _, rt := range s.routes() {
		mux.Handle(rt.pattern, s.guard(rt))
	}
	if next != nil {
		mux.Handle("/", next)
	}
	return mux
}

// guard resolves the principal and applies the route's access rule and,
// on POST, the CSRF checks, before the handler runs.
func (s *Server) guard(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Content-Security-Policy", "frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
		p, err := s.Auth.Principal(r)
		switch {
		case errors.Is(err, auth.ErrBadToken):
			w.Header().Set("WWW-Authenticate", `Bearer realm="probity-collector"`)
			http.Error(w, "unknown or revoked admin token", http.StatusUnauthorized)
			return
		case err != nil:
			s.Log.Error("resolving who is asking", "path", r.URL.Path, "err", err)
			http.Error(w, "the collector's store is unavailable; try again shortly", http.StatusInternalServerError)
			return
		}
		c := &call{P: p}
		if rt.access == public {
			rt.h(w, r, c)
			return
		}
		if !p.Authenticated() {
			http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusFound)
			return
		}
		h.Set("Cache-Control", "no-store")
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, maxForm)
		}
		if r.Method == http.MethodPost && p.Session != nil {
			// A bearer token is not sent by a browser on its own, so only
			// cookie sessions need the CSRF token.
			if !sameOrigin(r) || !validCSRF(r.PostFormValue("csrf"), p.Session.CSRF) {
				s.Log.Warn("form refused: CSRF check failed", "user", p.User.Name, "path", r.URL.Path)
				s.errorPage(w, r, c, http.StatusForbidden, "This form has expired or did not come from this site. Go back, reload the page and try again.")
				return
			}
		}
		if rt.access == readSite || rt.access == actSite {
			site, err := s.Store.Site(r.Context(), r.PathValue("id"))
			if errors.Is(err, store.ErrNotFound) || (err == nil && !p.CanRead(site)) {
				// The same answer for a school that does not exist and one
				// the user may not see.
				s.errorPage(w, r, c, http.StatusNotFound, fmt.Sprintf("No school %q that you can see.", r.PathValue("id")))
				return
			}
			if err != nil {
				s.Log.Error("school lookup", "site", r.PathValue("id"), "err", err)
				s.errorPage(w, r, c, http.StatusInternalServerError, "The collector's store is unavailable; try again shortly.")
				return
			}
			if rt.access == actSite && !p.CanAct(site) {
				s.errorPage(w, r, c, http.StatusForbidden, "Your account can read this school's evidence but not change it.")
				return
			}
			c.Site = site
		}
		rt.h(w, r.WithContext(auth.WithPrincipal(r.Context(), p)), c)
	})
}

func validCSRF(got, want string) bool {
	return got != "" && want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// sameOrigin checks the Origin header, or else the Referer, against the
// request's host when the browser sent one; a browser that sends neither
// still needs the CSRF token.
func sameOrigin(r *http.Request) bool {
	check := func(raw string) bool {
		u, err := url.Parse(raw)
		return err == nil && u.Host != "" && u.Host == r.Host
	}
	if o := r.Header.Get("Origin"); o != "" {
		return check(o)
	}
	if ref := r.Header.Get("Referer"); ref != "" {
		return check(ref)
	}
	return true
}

func (s *Server) now() time.Time { return s.Now() }

func (s *Server) secure(r *http.Request) bool { return r.TLS != nil || s.SecureCookies }

// Prune deletes expired sessions; the serve command runs it with the other
// jobs.
func (s *Server) Prune(ctx context.Context) error {
	n, err := s.Store.PruneSessions(ctx, s.Now())
	if err == nil && n > 0 {
		s.Log.Info("expired sessions deleted", "sessions", n)
	}
	return err
}
