package web

import (
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/probity-edu/probity/collector/auth"
	"github.com/probity-edu/probity/collector/store"
)

// loginCookie carries the sign-in form's CSRF token before there is a
// session (double submit: the form and the cookie must agree).
const loginCookie = "probity_login"

// Failed sign-ins allowed per window, per name and per client address,
// before further attempts are refused until the window has passed. The
// name limit stops guessing one account; the address limit, larger for
// a school's shared address, stops trying many names.
const (
	failWindow  = 15 * time.Minute
	failPerName = 5
	failPerAddr = 20
)

// errNotRecognised is the only thing a failed sign-in is told, so it
// cannot learn which names exist.
const errNotRecognised = "Name or password not recognised."

type loginData struct {
	Name, Next, Error string
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request, c *call) {
	if c.P.Authenticated() {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusFound)
		return
	}
	s.renderLogin(w, r, http.StatusOK, loginData{Next: safeNext(r.URL.Query().Get("next"))})
}

// renderLogin shows the form with a fresh double-submit token.
func (s *Server) renderLogin(w http.ResponseWriter, r *http.Request, code int, d loginData) {
	tok := auth.RandomToken()
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: tok, Path: "/login", HttpOnly: true, Secure: s.secure(r),
		SameSite: http.SameSiteLaxMode, MaxAge: 3600})
	w.Header().Set("Cache-Control", "no-store")
	s.render(w, r, code, "login.html", &call{}, "Sign in", struct {
		loginData
		CSRF string
	}{d, tok})
}

func (s *Server) login(w http.ResponseWriter, r *http.Request, _ *call) {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	name := strings.TrimSpace(r.PostFormValue("name"))
	pw := r.PostFormValue("password")
	next := safeNext(r.PostFormValue("next"))
	addr := clientAddr(r)
	ck, err := r.Cookie(loginCookie)
	if err != nil || !sameOrigin(r) || !validCSRF(r.PostFormValue("csrf"), ck.Value) {
		s.Log.Warn("sign-in refused: CSRF check failed", "user", name, "addr", addr)
		s.renderLogin(w, r, http.StatusForbidden, loginData{Name: name, Next: next, Error: "The sign-in form had expired. Please try again."})
		return
	}
	if !s.limits.allowed("name:"+strings.ToLower(name), failPerName) || !s.limits.allowed("addr:"+addr, failPerAddr) {
		s.Log.Warn("sign-in refused: too many failures", "user", name, "addr", addr)
		s.renderLogin(w, r, http.StatusTooManyRequests, loginData{Name: name, Next: next,
			Error: "Too many failed sign-ins. Wait 15 minutes and try again, or ask your administrator to set a new password."})
		return
	}
	u, reason, err := s.check(r, name, pw)
	if err != nil {
		s.Log.Error("sign-in", "user", name, "err", err)
		s.renderLogin(w, r, http.StatusInternalServerError, loginData{Name: name, Next: next, Error: "Sign-in is unavailable; try again shortly."})
		return
	}
	if reason != "" {
		s.limits.fail("name:" + strings.ToLower(name))
		s.limits.fail("addr:" + addr)
		s.Log.Warn("sign-in failed", "user", name, "addr", addr, "reason", reason)
		if s.FailDelay > 0 {
			select {
			case <-time.After(s.FailDelay):
			case <-r.Context().Done():
			}
		}
		s.renderLogin(w, r, http.StatusUnauthorized, loginData{Name: name, Next: next, Error: errNotRecognised})
		return
	}
	s.limits.reset("name:" + strings.ToLower(name))
	tok, se, err := s.Auth.NewSession(r.Context(), u)
	if err != nil {
		s.Log.Error("starting a session", "user", name, "err", err)
		s.renderLogin(w, r, http.StatusInternalServerError, loginData{Name: name, Next: next, Error: "Sign-in is unavailable; try again shortly."})
		return
	}
	http.SetCookie(w, &http.Cookie{Name: auth.CookieName, Value: tok, Path: "/", HttpOnly: true, Secure: s.secure(r),
		SameSite: http.SameSiteLaxMode, Expires: se.Expires})
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: "", Path: "/login", MaxAge: -1, HttpOnly: true, Secure: s.secure(r), SameSite: http.SameSiteLaxMode})
	s.Log.Info("signed in", "user", u.Name, "role", u.Role, "addr", addr)
	if next == "/" && u.Role == store.RoleSchoolViewer {
		next = "/schools/" + u.SiteID
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// check verifies name and password; reason says why not, for the log.
// An unknown or disabled name costs a hash verification like a wrong
// password, so timing tells nothing either.
func (s *Server) check(r *http.Request, name, pw string) (store.User, string, error) {
	if name == "" || pw == "" {
		auth.VerifyNothing(pw)
		return store.User{}, "empty name or password", nil
	}
	u, err := s.Store.UserByName(r.Context(), name)
	if errors.Is(err, store.ErrNotFound) {
		auth.VerifyNothing(pw)
		return store.User{}, "unknown user", nil
	}
	if err != nil {
		return store.User{}, "", err
	}
	ok, err := auth.VerifyPassword(u.PasswordHash, pw)
	switch {
	case err != nil:
		s.Log.Error("stored password hash unreadable; set a new one with `probity-collector user passwd`", "user", u.Name, "err", err)
		return store.User{}, "unreadable password hash", nil
	case !ok:
		return store.User{}, "wrong password", nil
	case u.Disabled:
		return store.User{}, "user disabled", nil
	}
	return u, "", nil
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request, c *call) {
	if ck, err := r.Cookie(auth.CookieName); err == nil && c.P.Session != nil {
		if err := s.Auth.EndSession(r.Context(), ck.Value); err != nil {
			s.Log.Error("ending a session", "err", err)
		}
	}
	http.SetCookie(w, &http.Cookie{Name: auth.CookieName, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.secure(r), SameSite: http.SameSiteLaxMode})
	if c.P.User != nil {
		s.Log.Info("signed out", "user", c.P.User.Name, "addr", clientAddr(r))
	}
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// safeNext keeps a post-sign-in destination on this site: a path, never
// another host (//evil or /\evil) or a scheme.
func safeNext(next string) string {
	if next == "" || next[0] != '/' || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") || strings.ContainsAny(next, "\r\n") {
		return "/"
	}
	return next
}

// clientAddr is the TCP peer; the sign-in limit counts per address.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// limiter counts failed sign-ins per key in a fixed window from the
// first failure.
type limiter struct {
	mu   sync.Mutex
	now  func() time.Time
	keys map[string]*failures
}

type failures struct {
	n     int
	first time.Time
}

func newLimiter(now func() time.Time) *limiter {
	return &limiter{now: now, keys: map[string]*failures{}}
}

func (l *limiter) allowed(key string, limit int) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.keys[key]
	if f == nil {
		return true
	}
	if l.now().Sub(f.first) >= failWindow {
		delete(l.keys, key)
		return true
	}
	return f.n < limit
}

func (l *limiter) fail(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if len(l.keys) > 100_000 {
		// Bound memory under a spray of names: forget old windows.
		for k, f := range l.keys {
			if now.Sub(f.first) >= failWindow {
				delete(l.keys, k)
			}
		}
	}
	f := l.keys[key]
	if f == nil || now.Sub(f.first) >= failWindow {
		f = &failures{first: now}
		l.keys[key] = f
	}
	f.n++
}

func (l *limiter) reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.keys, key)
}
