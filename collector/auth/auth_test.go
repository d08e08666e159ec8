package auth

import (
	"context"
	"errors"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/probity-edu/probity/collector/store"
	"github.com/probity-edu/probity/collector/store/sqlite"
)

func TestPasswordRoundTrip(t *testing.T) {
	h, err := HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`).MatchString(h) {
		t.Errorf("hash %q is not the PHC form", h)
	}
	h2, _ := HashPassword("correct horse battery")
	if h == h2 {
		t.Error("two hashes of one password are equal: no salt")
	}
	for pw, want := range map[string]bool{"correct horse battery": true, "correct horse batterY": false, "": false} {
		if ok, err := VerifyPassword(h, pw); ok != want || err != nil {
			t.Errorf("VerifyPassword(%q) = %v, %v; want %v", pw, ok, err, want)
		}
	}
	for _, bad := range []string{"", "plain", "$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=99999999,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA", strings.Replace(h, "v=19", "v=16", 1)} {
		if ok, err := VerifyPassword(bad, "correct horse battery"); ok || err == nil {
			t.Errorf("VerifyPassword(%q) = %v, %v; want an error", bad, ok, err)
		}
	}
}

func TestPasswordPolicy(t *testing.T) {
	if _, err := HashPassword("elevenchars"); !errors.Is(err, ErrPasswordPolicy) {
		t.Errorf("11 characters: %v, want ErrPasswordPolicy", err)
	}
	if err := CheckPasswordPolicy("twelve chars"); err != nil {
		t.Errorf("12 characters: %v", err)
	}
	if err := CheckPasswordPolicy(strings.Repeat("é", 12)); err != nil {
		t.Errorf("12 two-byte characters: %v", err)
	}
	seen := map[string]bool{}
	for range 20 {
		pw := GeneratePassword()
		if !regexp.MustCompile(`^([a-km-zA-HJ-NP-Z2-9]{5}-){3}[a-km-zA-HJ-NP-Z2-9]{5}$`).MatchString(pw) || seen[pw] {
			t.Fatalf("generated %q: not 4 groups of 5 unambiguous characters, or repeated", pw)
		}
		seen[pw] = true
		if CheckPasswordPolicy(pw) != nil {
			t.Fatalf("generated %q fails the policy", pw)
		}
	}
}

func TestPrincipalRules(t *testing.T) {
	oak := store.Site{ID: "oak", TrustID: 1}
	ash := store.Site{ID: "ash", TrustID: 1}
	elm := store.Site{ID: "elm", TrustID: 2}
	user := func(role string, trust int64, site string) Principal {
		return Principal{User: &store.User{Name: "u", Role: role, TrustID: trust, SiteID: site}}
	}
	type want struct{ readOak, readAsh, readElm, actOak, trust1, trust2 bool }
	for name, tc := range map[string]struct {
		p Principal
		w want
	}{
		"nobody":           {Principal{}, want{}},
		"viewer of oak":    {user(store.RoleSchoolViewer, 0, "oak"), want{readOak: true}},
		"admin of trust 1": {user(store.RoleTrustAdmin, 1, ""), want{true, true, false, true, true, false}},
		"admin of trust 2": {user(store.RoleTrustAdmin, 2, ""), want{readElm: true, trust2: true}},
		"operator":         {user(store.RoleTrustAdmin, 0, ""), want{true, true, true, true, true, true}},
		"admin token":      {Principal{Admin: &store.AdminToken{Name: "ops"}}, want{true, true, true, true, true, true}},
		"unknown role":     {user("root", 0, "oak"), want{}},
	} {
		got := want{tc.p.CanRead(oak), tc.p.CanRead(ash), tc.p.CanRead(elm), tc.p.CanAct(oak), tc.p.CanReadTrust(1), tc.p.CanReadTrust(2)}
		if got != tc.w {
			t.Errorf("%s: got %+v, want %+v", name, got, tc.w)
		}
		if vis := tc.p.Visible([]store.Site{oak, ash, elm}); len(vis) != btoi(tc.w.readOak)+btoi(tc.w.readAsh)+btoi(tc.w.readElm) {
			t.Errorf("%s: Visible = %v", name, vis)
		}
	}
	if v := user(store.RoleSchoolViewer, 0, "oak"); v.CanAct(oak) {
		t.Error("a school viewer may act on their school")
	}
	if n := (Principal{Admin: &store.AdminToken{Name: "ops"}}).Name(); n != "admin token ops" {
		t.Errorf("token name %q", n)
	}
	if n := user(store.RoleTrustAdmin, 1, "").Name(); n != "web:u" {
		t.Errorf("user name %q", n)
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestSessions(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "p.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	u, err := st.CreateUser(ctx, store.User{Name: "ann", Role: store.RoleTrustAdmin, PasswordHash: "$x"})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateAdminToken(ctx, store.AdminToken{Name: "ops", Hash: store.HashSecret("tok")}); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	a := &Authenticator{Store: st, Idle: time.Hour, Max: 3 * time.Hour, Now: func() time.Time { return now }}
	tok, se, err := a.NewSession(ctx, u)
	if err != nil || len(tok) != 64 || se.CSRF == "" || !se.Expires.Equal(now.Add(3*time.Hour)) {
		t.Fatalf("NewSession = %q %+v %v", tok, se, err)
	}
	if _, err := st.Session(ctx, tok); !errors.Is(err, store.ErrNotFound) {
		t.Error("the session is stored under the raw token, not its hash")
	}
	resolve := func(cookie, bearer string) (Principal, error) {
		r := httptest.NewRequest("GET", "/", nil)
		if cookie != "" {
			r.Header.Set("Cookie", CookieName+"="+cookie)
		}
		if bearer != "" {
			r.Header.Set("Authorization", bearer)
		}
		return a.Principal(r)
	}
	if p, err := resolve(tok, ""); err != nil || p.User == nil || p.User.Name != "ann" || p.Session.CSRF != se.CSRF {
		t.Fatalf("fresh session: %+v %v", p, err)
	}
	if p, err := resolve("", "Bearer tok"); err != nil || p.Admin == nil || p.Admin.Name != "ops" {
		t.Errorf("admin token: %+v %v", p, err)
	}
	if _, err := resolve(tok, "Bearer wrong"); !errors.Is(err, ErrBadToken) {
		t.Errorf("bad bearer with a good cookie: %v, want ErrBadToken", err)
	}
	if p, err := resolve("forged", ""); err != nil || p.Authenticated() {
		t.Errorf("unknown cookie: %+v %v", p, err)
	}
	// Activity within the idle limit keeps it; the hard limit ends it.
	for i := 0; i < 4; i++ {
		now = now.Add(50 * time.Minute)
		p, _ := resolve(tok, "")
		if want := i < 3; p.Authenticated() != want {
			t.Fatalf("after %d×50 min: signed in %v, want %v", i+1, p.Authenticated(), want)
		}
	}
	if _, err := st.Session(ctx, store.HashSecret(tok)); !errors.Is(err, store.ErrNotFound) {
		t.Error("an expired session was not deleted")
	}
	// Idle.
	tok, _, _ = a.NewSession(ctx, u)
	now = now.Add(time.Hour)
	if p, _ := resolve(tok, ""); p.Authenticated() {
		t.Error("a session idle for the idle limit is still signed in")
	}
	// Disabled users are nobody.
	tok, _, _ = a.NewSession(ctx, u)
	if err := st.DisableUser(ctx, "ann"); err != nil {
		t.Fatal(err)
	}
	if p, _ := resolve(tok, ""); p.Authenticated() {
		t.Error("a disabled user's session still signs in")
	}
}
