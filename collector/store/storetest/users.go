package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/probity-edu/probity/collector/store"
)

func testUsers(t *testing.T, st store.Store) {
	ctx := context.Background()
	f := newFixture(t, st, "users-a")
	admin, err := st.CreateUser(ctx, store.User{Name: "ann", Role: store.RoleTrustAdmin, TrustID: f.trust.ID, PasswordHash: "$h1", CreatedAt: t0})
	if err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	if admin.ID == 0 || !admin.CreatedAt.Equal(t0) {
		t.Errorf("created user = %+v, want an id and CreatedAt %v", admin, t0)
	}
	viewer, err := st.CreateUser(ctx, store.User{Name: "gov", Role: store.RoleSchoolViewer, SiteID: f.site.ID, PasswordHash: "$h2"})
	if err != nil {
		t.Fatalf("CreateUser viewer: %v", err)
	}
	if viewer.CreatedAt.IsZero() {
		t.Error("CreatedAt zero was not set to now")
	}
	if _, err := st.CreateUser(ctx, store.User{Name: "ann", Role: store.RoleSchoolViewer, SiteID: f.site.ID, PasswordHash: "$h3"}); !errors.Is(err, store.ErrExists) {
		t.Errorf("duplicate name: err = %v, want ErrExists", err)
	}
	if _, err := st.CreateUser(ctx, store.User{Name: "bad", Role: "root", PasswordHash: "$h"}); err == nil {
		t.Error("unknown role accepted")
	}
	got, err := st.UserByName(ctx, "ann")
	if err != nil || got.ID != admin.ID || got.Role != store.RoleTrustAdmin || got.TrustID != f.trust.ID || got.PasswordHash != "$h1" || got.Disabled {
		t.Errorf("UserByName(ann) = %+v, %v", got, err)
	}
	got, err = st.UserByID(ctx, viewer.ID)
	if err != nil || got.Name != "gov" || got.SiteID != f.site.ID || got.Role != store.RoleSchoolViewer {
		t.Errorf("UserByID(gov) = %+v, %v", got, err)
	}
	if _, err := st.UserByName(ctx, "nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UserByName(nobody): %v, want ErrNotFound", err)
	}
	if _, err := st.UserByID(ctx, 9999); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UserByID(9999): %v, want ErrNotFound", err)
	}
	us, err := st.Users(ctx)
	if err != nil || len(us) != 2 || us[0].Name != "ann" || us[1].Name != "gov" {
		t.Errorf("Users = %+v, %v; want ann, gov", us, err)
	}

	// A new password and disabling both end the user's sessions.
	session := func(tok string, u store.User) {
		t.Helper()
		if err := st.CreateSession(ctx, store.Session{TokenHash: tok, UserID: u.ID, CSRF: "c-" + tok, Created: t0, Expires: t0.Add(time.Hour)}); err != nil {
			t.Fatalf("CreateSession: %v", err)
		}
	}
	session("ann-1", admin)
	session("gov-1", viewer)
	if err := st.SetUserPassword(ctx, "ann", "$h9"); err != nil {
		t.Fatalf("SetUserPassword: %v", err)
	}
	if got, _ := st.UserByName(ctx, "ann"); got.PasswordHash != "$h9" {
		t.Errorf("hash after SetUserPassword = %q", got.PasswordHash)
	}
	if _, err := st.Session(ctx, "ann-1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ann's session after a new password: %v, want ErrNotFound", err)
	}
	if _, err := st.Session(ctx, "gov-1"); err != nil {
		t.Errorf("gov's session ended by ann's new password: %v", err)
	}
	if err := st.SetUserPassword(ctx, "nobody", "$h"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SetUserPassword(nobody): %v, want ErrNotFound", err)
	}
	if err := st.DisableUser(ctx, "gov"); err != nil {
		t.Fatalf("DisableUser: %v", err)
	}
	if got, _ := st.UserByName(ctx, "gov"); !got.Disabled {
		t.Error("gov not disabled")
	}
	if _, err := st.Session(ctx, "gov-1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("gov's session after disabling: %v, want ErrNotFound", err)
	}
	if err := st.DisableUser(ctx, "nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DisableUser(nobody): %v, want ErrNotFound", err)
	}
}

func testSessions(t *testing.T, st store.Store) {
	ctx := context.Background()
	f := newFixture(t, st, "sessions-a")
	u, err := st.CreateUser(ctx, store.User{Name: "ann", Role: store.RoleTrustAdmin, TrustID: f.trust.ID, PasswordHash: "$h"})
	if err != nil {
		t.Fatal(err)
	}
	want := store.Session{TokenHash: store.HashSecret("tok"), UserID: u.ID, CSRF: "csrf-1", Created: t0, Expires: t0.Add(7 * 24 * time.Hour), LastSeen: t0}
	if err := st.CreateSession(ctx, want); err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	if err := st.CreateSession(ctx, want); !errors.Is(err, store.ErrExists) {
		t.Errorf("same token twice: %v, want ErrExists", err)
	}
	got, err := st.Session(ctx, want.TokenHash)
	if err != nil || got.UserID != u.ID || got.CSRF != "csrf-1" || !got.Created.Equal(t0) || !got.Expires.Equal(want.Expires) || !got.LastSeen.Equal(t0) {
		t.Errorf("Session = %+v, %v; want %+v", got, err, want)
	}
	if err := st.TouchSession(ctx, want.TokenHash, t0.Add(time.Hour)); err != nil {
		t.Fatalf("TouchSession: %v", err)
	}
	if got, _ := st.Session(ctx, want.TokenHash); !got.LastSeen.Equal(t0.Add(time.Hour)) {
		t.Errorf("LastSeen after touch = %v", got.LastSeen)
	}
	if err := st.TouchSession(ctx, "unknown", t0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("TouchSession(unknown): %v, want ErrNotFound", err)
	}
	if _, err := st.Session(ctx, "unknown"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Session(unknown): %v, want ErrNotFound", err)
	}
	short := store.Session{TokenHash: store.HashSecret("short"), UserID: u.ID, CSRF: "csrf-2", Created: t0, Expires: t0.Add(time.Hour)}
	if err := st.CreateSession(ctx, short); err != nil {
		t.Fatal(err)
	}
	n, err := st.PruneSessions(ctx, t0.Add(time.Hour))
	if err != nil || n != 1 {
		t.Errorf("PruneSessions = %d, %v; want 1 (expiry at now is expired)", n, err)
	}
	if _, err := st.Session(ctx, short.TokenHash); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("pruned session still there: %v", err)
	}
	if _, err := st.Session(ctx, want.TokenHash); err != nil {
		t.Errorf("live session pruned: %v", err)
	}
	if err := st.DeleteSession(ctx, want.TokenHash); err != nil {
		t.Fatalf("DeleteSession: %v", err)
	}
	if _, err := st.Session(ctx, want.TokenHash); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleted session still there: %v", err)
	}
	if err := st.DeleteSession(ctx, want.TokenHash); err != nil {
		t.Errorf("deleting twice: %v", err)
	}
}
