package web

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/probity-edu/probity/collector/api"
	"github.com/probity-edu/probity/collector/auth"
	"github.com/probity-edu/probity/collector/standards"
	"github.com/probity-edu/probity/collector/store"
	"github.com/probity-edu/probity/collector/store/sqlite"
)

// fixture is a real collector handler (pages and API on one mux, as
// serve mounts them) on a real SQLite store: trust T with schools oak
// and ash, trust U with elm, a user for each role and an admin token.
type fixture struct {
	st      store.Store
	srv     *httptest.Server
	web     *Server
	authn   *auth.Authenticator
	trustT  store.Trust
	trustU  store.Trust
	users   map[string]store.User
	attReq  string // a requirement oak can attest
	logMu   sync.Mutex
	logText strings.Builder
}

const (
	password   = "a long enough password"
	adminToken = "admin-token-for-web-tests"
)

func (f *fixture) Write(p []byte) (int, error) {
	f.logMu.Lock()
	defer f.logMu.Unlock()
	return f.logText.Write(p)
}

func (f *fixture) logs() string {
	f.logMu.Lock()
	defer f.logMu.Unlock()
	return f.logText.String()
}

func newFixture(t *testing.T, tune func(*Server)) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "p.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := &fixture{st: st, users: map[string]store.User{}}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	f.trustT, err = st.CreateTrust(ctx, "Trust T")
	must(err)
	f.trustU, err = st.CreateTrust(ctx, "Trust U")
	must(err)
	for _, s := range []store.Site{{ID: "oak", TrustID: f.trustT.ID, Name: "Oak Primary", Phase: "primary", URN: "111"},
		{ID: "ash", TrustID: f.trustT.ID, Name: "Ash Primary", Phase: "primary"},
		{ID: "elm", TrustID: f.trustU.ID, Name: "Elm Secondary", Phase: "secondary"}} {
		_, err := st.CreateSite(ctx, s)
		must(err)
	}
	hash, err := auth.HashPassword(password)
	must(err)
	for _, u := range []store.User{
		{Name: "viewer", Role: store.RoleSchoolViewer, SiteID: "oak"},
		{Name: "admin-t", Role: store.RoleTrustAdmin, TrustID: f.trustT.ID},
		{Name: "admin-u", Role: store.RoleTrustAdmin, TrustID: f.trustU.ID},
		{Name: "operator", Role: store.RoleTrustAdmin},
	} {
		u.PasswordHash = hash
		u, err = st.CreateUser(ctx, u)
		must(err)
		f.users[u.Name] = u
	}
	must(st.CreateAdminToken(ctx, store.AdminToken{Name: "ops", Hash: store.HashSecret(adminToken)}))
	cat := standards.Default()
	for _, r := range cat.Requirements {
		if r.Evidence == standards.EvidenceAttested && r.AppliesTo("primary") {
			f.attReq = r.ID
			break
		}
	}
	if f.attReq == "" {
		t.Fatal("the default catalogue has no attested requirement for primary schools")
	}
	log := slog.New(slog.NewTextHandler(f, nil))
	f.authn = &auth.Authenticator{Store: st, Log: log}
	f.web = &Server{Store: st, Catalogue: cat, Auth: f.authn, FailDelay: -1, Log: log}
	if tune != nil {
		tune(f.web)
	}
	apiSrv := &api.Server{Store: st, Auth: f.authn, Catalogue: cat, Log: log}
	f.srv = httptest.NewServer(f.web.Handler(apiSrv.Handler()))
	t.Cleanup(f.srv.Close)
	return f
}

// session signs user in directly and returns the cookie value and CSRF.
func (f *fixture) session(t *testing.T, user string) (string, string) {
	t.Helper()
	tok, se, err := f.authn.NewSession(context.Background(), f.users[user])
	if err != nil {
		t.Fatal(err)
	}
	return tok, se.CSRF
}

// who is one column of the access matrix.
type who int

const (
	nobody who = iota
	viewerA
	adminT
	adminU
	token
	nWho
)

var whoNames = [nWho]string{"no session", "school viewer of oak", "trust admin of T", "trust admin of U", "admin token"}

// send makes one request as w; POST bodies get w's CSRF token.
func (f *fixture) send(t *testing.T, as who, method, path string, form url.Values) *http.Response {
	t.Helper()
	var body io.Reader
	if form == nil {
		form = url.Values{}
	}
	var cookie string
	switch as {
	case viewerA, adminT, adminU:
		name := map[who]string{viewerA: "viewer", adminT: "admin-t", adminU: "admin-u"}[as]
		tok, csrf := f.session(t, name)
		cookie = tok
		form.Set("csrf", csrf)
	}
	if method == http.MethodPost {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, f.srv.URL+path, body)
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: auth.CookieName, Value: cookie})
	}
	if as == token {
		req.Header.Set("Authorization", "Bearer "+adminToken)
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func readBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestAccessMatrix walks every route of the web package (from routes())
// and the API's read routes for each kind of principal.
func TestAccessMatrix(t *testing.T) {
	f := newFixture(t, nil)
	attest := func() url.Values {
		return url.Values{"requirement": {f.attReq}, "by": {"Jo Head"}, "role": {"headteacher"}, "note": {"Policy reviewed by governors."}}
	}
	finding := func() url.Values { return url.Values{"text": {"Backups were tested each term."}} }
	T, U := f.trustT.ID, f.trustU.ID
	type cell = [nWho]int
	cases := []struct {
		route  string // the routes() pattern, or "api: ..." for an API route
		method string
		path   string
		form   func() url.Values
		want   cell // nobody, viewer of oak, admin of T, admin of U, admin token
	}{
		{"GET /static/web.css", "GET", "/static/web.css", nil, cell{200, 200, 200, 200, 200}},
		{"GET /static/bar.css", "GET", "/static/bar.css", nil, cell{200, 200, 200, 200, 200}},
		{"GET /favicon.ico", "GET", "/favicon.ico", nil, cell{200, 200, 200, 200, 200}},
		{"GET /login", "GET", "/login", nil, cell{200, 302, 302, 302, 302}},
		// No sign-in form token: refused whoever asks.
		{"POST /login", "POST", "/login", nil, cell{403, 403, 403, 403, 403}},
		{"POST /logout", "POST", "/logout", nil, cell{302, 303, 303, 303, 303}},
		{"GET /{$}", "GET", "/", nil, cell{302, 302, 200, 200, 200}},
		{"GET /trust/report", "GET", "/trust/report", nil, cell{302, 404, 200, 200, 200}},
		{"GET /trust/report", "GET", "/trust/report?format=pdf", nil, cell{302, 404, 200, 200, 200}},
		{"GET /schools/{id}", "GET", "/schools/oak", nil, cell{302, 200, 200, 404, 200}},
		{"GET /schools/{id}", "GET", "/schools/ash", nil, cell{302, 404, 200, 404, 200}},
		{"GET /schools/{id}", "GET", "/schools/elm", nil, cell{302, 404, 404, 200, 200}},
		{"GET /schools/{id}", "GET", "/schools/nowhere", nil, cell{302, 404, 404, 404, 404}},
		{"POST /schools/{id}/attestations", "POST", "/schools/oak/attestations", attest, cell{302, 403, 303, 404, 303}},
		{"POST /schools/{id}/attestations", "POST", "/schools/ash/attestations", attest, cell{302, 404, 303, 404, 303}},
		{"GET /schools/{id}/report", "GET", "/schools/oak/report", nil, cell{302, 200, 200, 404, 200}},
		{"GET /schools/{id}/report", "GET", "/schools/ash/report?since=30d", nil, cell{302, 404, 200, 404, 200}},
		{"GET /schools/{id}/report.pdf", "GET", "/schools/oak/report.pdf", nil, cell{302, 200, 200, 404, 200}},
		{"GET /schools/{id}/report.pdf", "GET", "/schools/ash/report.pdf", nil, cell{302, 404, 200, 404, 200}},
		{"GET /schools/{id}/report.csv", "GET", "/schools/oak/report.csv", nil, cell{302, 200, 200, 404, 200}},
		{"GET /schools/{id}/report.csv", "GET", "/schools/ash/report.csv", nil, cell{302, 404, 200, 404, 200}},
		{"GET /schools/{id}/report.json", "GET", "/schools/oak/report.json", nil, cell{302, 200, 200, 404, 200}},
		{"GET /schools/{id}/report.json", "GET", "/schools/ash/report.json", nil, cell{302, 404, 200, 404, 200}},
		{"GET /schools/{id}/review", "GET", "/schools/oak/review", nil, cell{302, 200, 200, 404, 200}},
		{"GET /schools/{id}/review", "GET", "/schools/ash/review", nil, cell{302, 404, 200, 404, 200}},
		{"POST /schools/{id}/review/findings", "POST", "/schools/oak/review/findings", finding, cell{302, 403, 303, 404, 303}},
		{"POST /schools/{id}/review/findings", "POST", "/schools/ash/review/findings", finding, cell{302, 404, 303, 404, 303}},
		{"GET /sites/{id}/report", "GET", "/sites/oak/report", nil, cell{301, 301, 301, 301, 301}},
		{"api: GET /api/v1/sites", "GET", "/api/v1/sites", nil, cell{401, 200, 200, 200, 200}},
		{"api: GET /api/v1/sites/{id}/verdicts", "GET", "/api/v1/sites/oak/verdicts", nil, cell{401, 200, 200, 404, 200}},
		{"api: GET /api/v1/sites/{id}/verdicts", "GET", "/api/v1/sites/ash/verdicts", nil, cell{401, 404, 200, 404, 200}},
		{"api: GET /api/v1/sites/{id}/verdicts", "GET", "/api/v1/sites/111/verdicts", nil, cell{401, 200, 200, 404, 200}},
		{"api: GET /api/v1/sites/{id}/attestations", "GET", "/api/v1/sites/oak/attestations", nil, cell{401, 200, 200, 404, 200}},
		{"api: GET /api/v1/sites/{id}/attestations", "GET", "/api/v1/sites/ash/attestations?history=1", nil, cell{401, 404, 200, 404, 200}},
		{"api: GET /api/v1/trusts", "GET", "/api/v1/trusts", nil, cell{401, 200, 200, 200, 200}},
		{"api: GET /api/v1/trusts/{id}/summary", "GET", fmt.Sprintf("/api/v1/trusts/%d/summary", T), nil, cell{401, 404, 200, 404, 200}},
		{"api: GET /api/v1/trusts/{id}/summary", "GET", "/api/v1/trusts/" + url.PathEscape("Trust U") + "/summary", nil, cell{401, 404, 404, 200, 200}},
		{"api: GET /api/v1/trusts/{id}/summary", "GET", fmt.Sprintf("/api/v1/trusts/%d/summary", U+100), nil, cell{401, 404, 404, 404, 404}},
		// Writes through the API stay admin-token only.
		{"api: POST /api/v1/sites/{id}/attestations", "POST", "/api/v1/sites/oak/attestations", nil, cell{401, 401, 401, 401, 400}},
	}
	covered := map[string]bool{}
	for _, tc := range cases {
		covered[tc.route] = true
		for as := who(0); as < nWho; as++ {
			var form url.Values
			if tc.form != nil {
				form = tc.form()
			}
			resp := f.send(t, as, tc.method, tc.path, form)
			body := readBody(t, resp)
			if resp.StatusCode != tc.want[as] {
				t.Errorf("%s %s as %s: %d, want %d\n%.300s", tc.method, tc.path, whoNames[as], resp.StatusCode, tc.want[as], body)
				continue
			}
			loc := resp.Header.Get("Location")
			switch {
			case resp.StatusCode == 302 && as == nobody && !strings.HasPrefix(loc, "/login?next="+url.QueryEscape(tc.path)):
				t.Errorf("%s %s as nobody: redirected to %q, want /login?next=", tc.method, tc.path, loc)
			case resp.StatusCode == 401 && !strings.Contains(resp.Header.Get("Content-Type"), "application/json"):
				t.Errorf("%s %s as %s: 401 is %q, want JSON", tc.method, tc.path, whoNames[as], resp.Header.Get("Content-Type"))
			}
		}
	}
	// Every web route is in the matrix: add a route, add its row.
	for _, rt := range f.web.routes() {
		if !covered[rt.pattern] {
			t.Errorf("route %q has no row in the access matrix", rt.pattern)
		}
	}
	for _, r := range []string{"api: GET /api/v1/sites", "api: GET /api/v1/sites/{id}/verdicts", "api: GET /api/v1/sites/{id}/attestations",
		"api: GET /api/v1/trusts", "api: GET /api/v1/trusts/{id}/summary"} {
		if !covered[r] {
			t.Errorf("API read route %q has no row in the access matrix", r)
		}
	}
	// The school viewer's redirect goes to their school.
	if loc := f.send(t, viewerA, "GET", "/", nil).Header.Get("Location"); loc != "/schools/oak" {
		t.Errorf("viewer's overview redirects to %q, want /schools/oak", loc)
	}
}

// TestAPIFilters checks that lists show only what the principal may see.
func TestAPIFilters(t *testing.T) {
	f := newFixture(t, nil)
	ids := func(as who, path, field string) []string {
		body := readBody(t, f.send(t, as, "GET", path, nil))
		var out []string
		for _, m := range regexp.MustCompile(`"`+field+`": "?([^",]+)"?`).FindAllStringSubmatch(body, -1) {
			out = append(out, m[1])
		}
		return out
	}
	for as, want := range map[who]string{viewerA: "oak", adminT: "ash oak", adminU: "elm", token: "ash elm oak"} {
		if got := strings.Join(ids(as, "/api/v1/sites", "id"), " "); got != want {
			t.Errorf("sites as %s: %q, want %q", whoNames[as], got, want)
		}
	}
	for as, want := range map[who]string{viewerA: "", adminT: "Trust T", adminU: "Trust U", token: "Trust T Trust U"} {
		if got := strings.Join(ids(as, "/api/v1/trusts", "name"), " "); got != want {
			t.Errorf("trusts as %s: %q, want %q", whoNames[as], got, want)
		}
	}
	body := readBody(t, f.send(t, adminT, "GET", "/api/v1/sites", nil))
	if !strings.Contains(body, `"report": "/schools/oak/report"`) {
		t.Errorf("sites do not link the new report path:\n%s", body)
	}
	// The fleet page lists only the admin's schools.
	page := readBody(t, f.send(t, adminT, "GET", "/", nil))
	if !strings.Contains(page, "Oak Primary") || !strings.Contains(page, "Ash Primary") || strings.Contains(page, "Elm Secondary") {
		t.Errorf("trust T's overview shows the wrong schools:\n%s", page)
	}
}

// browser is a client with a cookie jar that does not follow redirects.
func (f *fixture) browser(t *testing.T) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

// signIn goes through the real form.
func (f *fixture) signIn(t *testing.T, c *http.Client, name, pw, next string) *http.Response {
	t.Helper()
	resp, err := c.Get(f.srv.URL + "/login")
	if err != nil {
		t.Fatal(err)
	}
	m := csrfField.FindStringSubmatch(readBody(t, resp))
	if m == nil {
		t.Fatal("no csrf field in the sign-in form")
	}
	resp, err = c.PostForm(f.srv.URL+"/login", url.Values{"csrf": {m[1]}, "name": {name}, "password": {pw}, "next": {next}})
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func TestSignInAndOut(t *testing.T) {
	f := newFixture(t, nil)
	c := f.browser(t)
	resp := f.signIn(t, c, "admin-t", password, "/schools/ash/report")
	readBody(t, resp)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/schools/ash/report" {
		t.Fatalf("sign-in: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	var sc *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == auth.CookieName {
			sc = ck
		}
	}
	if sc == nil || !sc.HttpOnly || sc.SameSite != http.SameSiteLaxMode || sc.Path != "/" || sc.Secure || len(sc.Value) != 64 {
		t.Fatalf("session cookie = %+v; want HttpOnly, SameSite=Lax, Path=/, not Secure on plain HTTP, 256 bits", sc)
	}
	if _, err := f.st.Session(context.Background(), store.HashSecret(sc.Value)); err != nil {
		t.Errorf("the session is not stored by its hash: %v", err)
	}
	resp, _ = c.Get(f.srv.URL + "/")
	page := readBody(t, resp)
	if resp.StatusCode != 200 || !strings.Contains(page, "Signed in as <strong>admin-t</strong>") {
		t.Fatalf("overview after sign-in: %d", resp.StatusCode)
	}
	checkPage(t, "overview", page)
	if !strings.Contains(f.logs(), "msg=\"signed in\" user=admin-t") {
		t.Errorf("no sign-in log line:\n%s", f.logs())
	}
	// Sign out needs the CSRF token.
	resp, _ = c.PostForm(f.srv.URL+"/logout", url.Values{})
	readBody(t, resp)
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("sign-out without csrf: %d, want 403", resp.StatusCode)
	}
	csrf := csrfField.FindStringSubmatch(page)[1]
	resp, _ = c.PostForm(f.srv.URL+"/logout", url.Values{"csrf": {csrf}})
	readBody(t, resp)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
		t.Errorf("sign-out: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if _, err := f.st.Session(context.Background(), store.HashSecret(sc.Value)); err == nil {
		t.Error("the session outlived sign-out")
	}
	// The old cookie, replayed, is nobody.
	req, _ := http.NewRequest("GET", f.srv.URL+"/", nil)
	req.AddCookie(sc)
	resp, _ = noRedirect.Do(req)
	readBody(t, resp)
	if resp.StatusCode != http.StatusFound {
		t.Errorf("replayed cookie after sign-out: %d, want 302", resp.StatusCode)
	}
	if !strings.Contains(f.logs(), "msg=\"signed out\" user=admin-t") {
		t.Error("no sign-out log line")
	}
	// A school viewer lands on their school; a next to another host is ignored.
	resp = f.signIn(t, f.browser(t), "viewer", password, "")
	if loc := resp.Header.Get("Location"); loc != "/schools/oak" {
		t.Errorf("viewer lands on %q", loc)
	}
	for _, next := range []string{"//evil.example/", "https://evil.example/", `/\evil.example`} {
		resp = f.signIn(t, f.browser(t), "admin-u", password, next)
		if loc := resp.Header.Get("Location"); loc != "/" {
			t.Errorf("next %q: redirected to %q, want /", next, loc)
		}
	}
}

func TestSecureCookie(t *testing.T) {
	f := newFixture(t, func(s *Server) { s.SecureCookies = true })
	resp := f.signIn(t, f.browser(t), "admin-t", password, "")
	for _, ck := range resp.Cookies() {
		if ck.Name == auth.CookieName && !ck.Secure {
			t.Error("web.secure_cookies set, but the session cookie is not Secure")
		}
	}
}

func TestBadSignIn(t *testing.T) {
	f := newFixture(t, nil)
	for _, tc := range []struct{ name, pw string }{{"admin-t", "not the password!"}, {"nobody-here", password}, {"admin-t", ""}} {
		resp := f.signIn(t, f.browser(t), tc.name, tc.pw, "")
		body := readBody(t, resp)
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, errNotRecognised) {
			t.Errorf("%s/%q: %d; want 401 with the generic message", tc.name, tc.pw, resp.StatusCode)
		}
		for _, ck := range resp.Cookies() {
			if ck.Name == auth.CookieName {
				t.Errorf("%s: a failed sign-in set a session cookie", tc.name)
			}
		}
	}
	logs := f.logs()
	if !strings.Contains(logs, `msg="sign-in failed" user=admin-t`) || !strings.Contains(logs, "reason=\"wrong password\"") || !strings.Contains(logs, "reason=\"unknown user\"") {
		t.Errorf("failed sign-ins not logged with reasons:\n%s", logs)
	}
	if strings.Contains(logs, "not the password!") {
		t.Error("a password reached the log")
	}
	// A disabled user cannot sign in with the right password.
	if err := f.st.DisableUser(context.Background(), "admin-u"); err != nil {
		t.Fatal(err)
	}
	if resp := f.signIn(t, f.browser(t), "admin-u", password, ""); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("disabled user: %d, want 401", resp.StatusCode)
	}
	// Without the sign-in form's token, nothing is checked.
	resp, _ := f.browser(t).PostForm(f.srv.URL+"/login", url.Values{"name": {"admin-t"}, "password": {password}})
	if readBody(t, resp); resp.StatusCode != http.StatusForbidden {
		t.Errorf("sign-in without the form token: %d, want 403", resp.StatusCode)
	}
}

func TestSignInLimit(t *testing.T) {
	f := newFixture(t, nil)
	for i := 0; i < failPerName; i++ {
		if resp := f.signIn(t, f.browser(t), "admin-t", "wrong password "+fmt.Sprint(i), ""); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i, resp.StatusCode)
		}
	}
	// Now even the right password waits, and says so without telling
	// whether the name exists.
	resp := f.signIn(t, f.browser(t), "admin-t", password, "")
	if body := readBody(t, resp); resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(body, "Too many failed sign-ins") {
		t.Errorf("after %d failures: %d, want 429", failPerName, resp.StatusCode)
	}
	// Another name from the same address is still allowed (the address
	// limit is higher).
	if resp := f.signIn(t, f.browser(t), "admin-u", password, ""); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("another user: %d, want 303", resp.StatusCode)
	}
	// The window passes.
	l := newLimiter(func() time.Time { return time.Unix(0, 0) })
	clock := time.Unix(0, 0)
	l.now = func() time.Time { return clock }
	for i := 0; i < 3; i++ {
		l.fail("k")
	}
	if l.allowed("k", 3) {
		t.Error("allowed after 3 of 3 failures")
	}
	clock = clock.Add(failWindow)
	if !l.allowed("k", 3) {
		t.Error("still refused after the window")
	}
}

func TestCSRF(t *testing.T) {
	f := newFixture(t, nil)
	tok, csrf := f.session(t, "admin-t")
	post := func(path string, form url.Values, origin string) int {
		req, _ := http.NewRequest("POST", f.srv.URL+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(&http.Cookie{Name: auth.CookieName, Value: tok})
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		readBody(t, resp)
		return resp.StatusCode
	}
	valid := url.Values{"requirement": {f.attReq}, "by": {"Jo"}, "note": {"Seen."}}
	with := func(csrf string) url.Values {
		v := url.Values{}
		for k, vs := range valid {
			v[k] = vs
		}
		if csrf != "" {
			v.Set("csrf", csrf)
		}
		return v
	}
	_, otherCSRF := f.session(t, "operator")
	for _, tc := range []struct {
		name   string
		path   string
		form   url.Values
		origin string
		want   int
	}{
		{"no token", "/schools/oak/attestations", with(""), "", 403},
		{"wrong token", "/schools/oak/attestations", with("00" + csrf[2:]), "", 403},
		{"another session's token", "/schools/oak/attestations", with(otherCSRF), "", 403},
		{"cross-site origin", "/schools/oak/attestations", with(csrf), "https://evil.example", 403},
		{"null origin", "/schools/oak/attestations", with(csrf), "null", 403},
		{"finding without token", "/schools/oak/review/findings", url.Values{"text": {"x"}}, "", 403},
		{"sign-out without token", "/logout", url.Values{}, "", 403},
		{"same origin", "/schools/oak/attestations", with(csrf), f.srv.URL, 303},
	} {
		if got := post(tc.path, tc.form, tc.origin); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
	as, err := f.st.Attestations(context.Background(), "oak")
	if err != nil || len(as) != 1 {
		t.Fatalf("attestations after one accepted form: %d, %v", len(as), err)
	}
}

func TestAttestAndFindings(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	// An invalid form is shown again with the field named.
	resp := f.send(t, adminT, "POST", "/schools/oak/attestations", url.Values{"requirement": {f.attReq}, "by": {"Jo"}, "note": {"Seen."}, "link": {"ftp://x"}})
	body := readBody(t, resp)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "link: must be an http:// or https:// address") || !strings.Contains(body, `value="Jo"`) {
		t.Errorf("invalid link: %d\n%.2000s", resp.StatusCode, body)
	}
	resp = f.send(t, adminT, "POST", "/schools/oak/attestations", url.Values{"requirement": {f.attReq}, "by": {"Jo Head"}, "role": {"headteacher"}, "note": {"Seen the policy."}})
	readBody(t, resp)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/schools/oak?recorded="+f.attReq) {
		t.Fatalf("attest: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	as, _ := f.st.Attestations(ctx, "oak")
	if len(as) != 1 || as[0].RecordedBy != "web:admin-t" || as[0].By != "Jo Head" || as[0].Expires.Sub(as[0].At) < 80*24*time.Hour {
		t.Fatalf("stored attestation = %+v; want recorded by web:admin-t with a term or a year to run", as)
	}
	page := readBody(t, f.send(t, viewerA, "GET", "/schools/oak?recorded="+f.attReq, nil))
	if !strings.Contains(page, "Jo Head") || !strings.Contains(page, "web:admin-t") || strings.Contains(page, `action="/schools/oak/attestations"`) {
		t.Error("the viewer's page does not list the attestation, or shows them the form")
	}
	checkPage(t, "school page", page)
	adminPage := readBody(t, f.send(t, adminT, "GET", "/schools/oak", nil))
	if !strings.Contains(adminPage, `action="/schools/oak/attestations"`) || !strings.Contains(adminPage, `<option value="`+f.attReq+`"`) {
		t.Error("the trust admin's page has no attestation form")
	}
	// Findings.
	resp = f.send(t, adminT, "POST", "/schools/oak/review/findings", url.Values{"text": {"  "}})
	if body := readBody(t, resp); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "Write the finding") {
		t.Errorf("empty finding: %d", resp.StatusCode)
	}
	resp = f.send(t, adminT, "POST", "/schools/oak/review/findings?since=90d", url.Values{"text": {"Switch firmware is two years old."}})
	readBody(t, resp)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/schools/oak/review?since=90d#findings" {
		t.Errorf("finding: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	fs, err := f.st.Findings(ctx, "oak", time.Time{}, time.Now().Add(time.Hour))
	if err != nil || len(fs) != 1 || fs[0].By != "web:admin-t" || fs[0].Text != "Switch firmware is two years old." || fs[0].To.Sub(fs[0].From) < 89*24*time.Hour {
		t.Errorf("stored findings = %+v, %v", fs, err)
	}
	review := readBody(t, f.send(t, adminT, "GET", "/schools/oak/review", nil))
	if !strings.Contains(review, `action="/schools/oak/review/findings"`) || !strings.Contains(review, `class="pw-bar"`) {
		t.Error("the review page has no findings form or bar for a trust admin")
	}
	if strings.Contains(readBody(t, f.send(t, viewerA, "GET", "/schools/oak/review", nil)), "/review/findings") {
		t.Error("the viewer's review page shows the findings form")
	}
}

func TestReportAndDownloads(t *testing.T) {
	f := newFixture(t, nil)
	page := readBody(t, f.send(t, viewerA, "GET", "/schools/oak/report?since=30d", nil))
	for _, want := range []string{`class="pw-bar"`, `href="/schools/oak/report.pdf?since=30d"`, `href="/schools/oak/report.csv?since=30d"`, "Oak Primary", `<link rel="stylesheet" href="/static/bar.css">`} {
		if !strings.Contains(page, want) {
			t.Errorf("report page lacks %s", want)
		}
	}
	if strings.Count(page, "<body") != 1 || strings.Count(page, "<html") != 1 {
		t.Error("the bar was not put inside the report's one document")
	}
	if resp := f.send(t, viewerA, "GET", "/schools/oak/report?since=tomorrow", nil); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("bad since: %d, want 400", resp.StatusCode)
	}
	for ext, magic := range map[string]string{"pdf": "%PDF-", "csv": "", "json": "{"} {
		resp := f.send(t, adminT, "GET", "/schools/oak/report."+ext, nil)
		body := readBody(t, resp)
		if resp.StatusCode != 200 || !strings.HasPrefix(body, magic) || len(body) < 10 ||
			!strings.HasPrefix(resp.Header.Get("Content-Disposition"), `attachment; filename="probity-oak-`) {
			t.Errorf("%s: %d %q %q", ext, resp.StatusCode, resp.Header.Get("Content-Disposition"), body[:min(len(body), 40)])
		}
	}
	if loc := f.send(t, nobody, "GET", "/sites/oak/report?since=30d", nil).Header.Get("Location"); loc != "/schools/oak/report?since=30d" {
		t.Errorf("old report link goes to %q", loc)
	}
}

// checkPage asserts the page frame's accessibility basics.
func checkPage(t *testing.T, name, page string) {
	t.Helper()
	for _, want := range []string{`<html lang="en">`, `<a class="skip" href="#main">`, `<main id="main"`, `name="viewport"`} {
		if !strings.Contains(page, want) {
			t.Errorf("%s lacks %s", name, want)
		}
	}
	if n := strings.Count(page, "<h1"); n != 1 {
		t.Errorf("%s has %d h1 elements, want 1", name, n)
	}
	// Every input, select and textarea that is not hidden has a label.
	for _, m := range regexp.MustCompile(`<(input|select|textarea)\b[^>]*>`).FindAllString(page, -1) {
		if strings.Contains(m, `type="hidden"`) {
			continue
		}
		id := regexp.MustCompile(`id="([^"]+)"`).FindStringSubmatch(m)
		if id == nil || !strings.Contains(page, `<label for="`+id[1]+`"`) {
			t.Errorf("%s: control without a label: %s", name, m)
		}
	}
}

func TestLoginPageAccessible(t *testing.T) {
	f := newFixture(t, nil)
	resp, _ := f.browser(t).Get(f.srv.URL + "/login")
	checkPage(t, "sign-in page", readBody(t, resp))
	if resp.Header.Get("X-Frame-Options") != "DENY" || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Error("pages can be framed")
	}
}
