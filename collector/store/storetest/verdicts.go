package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/probity-edu/probity/collector/store"
)

func verdict(req, state string, at time.Time) store.Verdict {
	return store.Verdict{
		Site: "oak", ReqID: req, State: state, Summary: req + " is " + state,
		Evidence: []byte(`{"samples":42,"p95_ms":12.5}`), Catalogue: "2025.1", EvaluatedAt: at,
	}
}

func testVerdicts(t *testing.T, st store.Store) {
	ctx := context.Background()
	newFixture(t, st, "oak")
	newFixture(t, st, "elm")
	first := []store.Verdict{verdict("wifi-2", "met", t0), verdict("bb-1", "not_met", t0), verdict("filter-1", "attested", t0)}
	if err := st.SaveVerdicts(ctx, "oak", first); err != nil {
		t.Fatalf("SaveVerdicts: %v", err)
	}
	elm := verdict("bb-1", "met", t0)
	elm.Site = "elm"
	if err := st.SaveVerdicts(ctx, "elm", []store.Verdict{elm}); err != nil {
		t.Fatalf("SaveVerdicts(elm): %v", err)
	}
	got, err := st.Verdicts(ctx, "oak")
	if err != nil {
		t.Fatalf("Verdicts: %v", err)
	}
	want := []store.Verdict{first[1], first[2], first[0]} // by requirement id
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Verdicts (-want +got):\n%s", diff)
	}

	// Saving again replaces the set: bb-1 changes, filter-1 and wifi-2 go.
	later := t0.Add(time.Hour)
	second := []store.Verdict{verdict("bb-1", "met", later), verdict("dns-1", "not_enough_data", later)}
	second[1].Evidence = nil
	if err := st.SaveVerdicts(ctx, "oak", second); err != nil {
		t.Fatalf("second SaveVerdicts: %v", err)
	}
	got, err = st.Verdicts(ctx, "oak")
	if err != nil {
		t.Fatalf("Verdicts: %v", err)
	}
	if diff := cmp.Diff(second, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("Verdicts after replace (-want +got):\n%s", diff)
	}
	got, _ = st.Verdicts(ctx, "elm")
	if diff := cmp.Diff([]store.Verdict{elm}, got); diff != "" {
		t.Errorf("other site's verdicts changed (-want +got):\n%s", diff)
	}

	// A failed save leaves the current set alone.
	dupReq := []store.Verdict{verdict("x-1", "met", later), verdict("x-1", "not_met", later)}
	if err := st.SaveVerdicts(ctx, "oak", dupReq); err == nil {
		t.Error("SaveVerdicts with a repeated requirement succeeded")
	}
	got, _ = st.Verdicts(ctx, "oak")
	if diff := cmp.Diff(second, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("Verdicts after a failed save (-want +got):\n%s", diff)
	}
	wantErr(t, "verdicts of unknown site", st.SaveVerdicts(ctx, "nowhere", nil), store.ErrNotFound)

	// An empty set clears the current verdicts.
	if err := st.SaveVerdicts(ctx, "oak", nil); err != nil {
		t.Fatalf("SaveVerdicts(nil): %v", err)
	}
	if got, err := st.Verdicts(ctx, "oak"); err != nil || len(got) != 0 {
		t.Errorf("Verdicts after clearing = %v, %v", got, err)
	}
	t.Run("History", func(t *testing.T) { testVerdictHistory(t, st) })
}

func testAttestations(t *testing.T, st store.Store) {
	ctx := context.Background()
	newFixture(t, st, "oak")
	newFixture(t, st, "elm")
	var added []store.Attestation
	for i, at := range []time.Time{t0.Add(-48 * time.Hour), t0, t0.Add(-24 * time.Hour)} {
		a, err := st.AddAttestation(ctx, store.Attestation{
			Site: "oak", ReqID: "cyber-" + string(rune('a'+i)), By: "A. Head", Note: "policy reviewed",
			Link: "https://example.invalid/policy.pdf", At: at, Expires: at.AddDate(1, 0, 0),
		})
		if err != nil {
			t.Fatalf("AddAttestation: %v", err)
		}
		if a.ID == 0 {
			t.Errorf("attestation %d has no id", i)
		}
		added = append(added, a)
	}
	if _, err := st.AddAttestation(ctx, store.Attestation{Site: "elm", ReqID: "cyber-z", By: "B", At: t0, Expires: t0.AddDate(1, 0, 0)}); err != nil {
		t.Fatalf("AddAttestation(elm): %v", err)
	}
	_, err := st.AddAttestation(ctx, store.Attestation{Site: "nowhere", ReqID: "r", By: "B", At: t0, Expires: t0})
	wantErr(t, "attestation for unknown site", err, store.ErrNotFound)

	got, err := st.Attestations(ctx, "oak")
	if err != nil {
		t.Fatalf("Attestations: %v", err)
	}
	want := []store.Attestation{added[1], added[2], added[0]} // newest first
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Attestations (-want +got):\n%s", diff)
	}
	if got, _ := st.Attestations(ctx, "nowhere"); len(got) != 0 {
		t.Errorf("attestations of an unknown site: %v", got)
	}
	t.Run("History", func(t *testing.T) { testAttestationHistory(t, st) })
	t.Run("AdminTokens", func(t *testing.T) { testAdminTokens(t, st) })
}

// testVerdictHistory runs inside testVerdicts, on its own site, so the
// suite's list of tests stays as it is.
func testVerdictHistory(t *testing.T, st store.Store) {
	ctx := context.Background()
	newFixture(t, st, "ash")
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	v := func(req, state, cat string, d time.Duration) store.Verdict {
		x := verdict(req, state, at(d))
		x.Site, x.Catalogue = "ash", cat
		return x
	}
	saves := [][]store.Verdict{
		{v("a", "met", "1", 0), v("b", "not_met", "1", 0)},
		// a unchanged: not kept; b changed: kept.
		{v("a", "met", "1", time.Hour), v("b", "met", "1", time.Hour)},
		// c is new: kept.
		{v("a", "met", "1", 2*time.Hour), v("b", "met", "1", 2*time.Hour), v("c", "not_enough_data", "1", 2*time.Hour)},
		// a's last entry is 24.5 h old: kept again; b's is 23.5 h old: not.
		// c is no longer scored.
		{v("a", "met", "1", 24*time.Hour+30*time.Minute), v("b", "met", "1", 24*time.Hour+30*time.Minute)},
		// A new catalogue version is kept even when nothing changed.
		{v("a", "met", "2", 26*time.Hour), v("b", "met", "2", 26*time.Hour)},
	}
	for i, s := range saves {
		if err := st.SaveVerdicts(ctx, "ash", s); err != nil {
			t.Fatalf("SaveVerdicts #%d: %v", i, err)
		}
	}
	all := []store.Verdict{
		v("a", "met", "1", 0), v("a", "met", "1", 24*time.Hour+30*time.Minute), v("a", "met", "2", 26*time.Hour),
		v("b", "not_met", "1", 0), v("b", "met", "1", time.Hour), v("b", "met", "2", 26*time.Hour),
		v("c", "not_enough_data", "1", 2*time.Hour),
	}
	got, err := st.VerdictHistory(ctx, "ash", "", time.Time{})
	if err != nil {
		t.Fatalf("VerdictHistory: %v", err)
	}
	if diff := cmp.Diff(all, got); diff != "" {
		t.Errorf("VerdictHistory(all) (-want +got):\n%s", diff)
	}
	got, err = st.VerdictHistory(ctx, "ash", "b", at(30*time.Minute))
	if err != nil {
		t.Fatalf("VerdictHistory(b): %v", err)
	}
	if diff := cmp.Diff([]store.Verdict{all[4], all[5]}, got); diff != "" {
		t.Errorf("VerdictHistory(b, since 09:30) (-want +got):\n%s", diff)
	}
	// The since bound is inclusive.
	if got, _ := st.VerdictHistory(ctx, "ash", "c", at(2*time.Hour)); len(got) != 1 {
		t.Errorf("VerdictHistory(c, since its own time) = %d entries, want 1", len(got))
	}

	cases := []struct {
		name string
		at   time.Time
		want []store.Verdict
	}{
		{"before any", at(-time.Second), nil},
		{"at the first save", at(0), []store.Verdict{all[0], all[3]}},
		{"between saves", at(90 * time.Minute), []store.Verdict{all[0], all[4]}},
		{"after c appeared", at(3 * time.Hour), []store.Verdict{all[0], all[4], all[6]}},
		// c was not scored again; its last known verdict still stands.
		{"after the catalogue change", at(30 * time.Hour), []store.Verdict{all[2], all[5], all[6]}},
	}
	for _, tc := range cases {
		got, err := st.VerdictsAt(ctx, "ash", tc.at)
		if err != nil {
			t.Fatalf("VerdictsAt(%s): %v", tc.name, err)
		}
		if diff := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("VerdictsAt(%s) (-want +got):\n%s", tc.name, diff)
		}
	}
	if got, err := st.VerdictsAt(ctx, "nowhere", at(time.Hour)); err != nil || len(got) != 0 {
		t.Errorf("VerdictsAt(unknown site) = %v, %v", got, err)
	}
	// Another site's history is apart: elm has one verdict, saved in testVerdicts.
	elm := verdict("bb-1", "met", t0)
	elm.Site = "elm"
	if got, err := st.VerdictsAt(ctx, "elm", at(30*time.Hour)); err != nil || !cmp.Equal([]store.Verdict{elm}, got) {
		t.Errorf("VerdictsAt(elm) = %+v, %v; want only its own verdict", got, err)
	}
}

// testAttestationHistory runs inside testAttestations on its own site.
func testAttestationHistory(t *testing.T, st store.Store) {
	ctx := context.Background()
	newFixture(t, st, "yew")
	add := func(req string, date, recorded time.Time, by string) store.Attestation {
		t.Helper()
		a, err := st.AddAttestation(ctx, store.Attestation{
			Site: "yew", ReqID: req, By: by, Role: "headteacher", Note: "reviewed " + req,
			Link: "https://example.invalid/" + req, At: date, Expires: date.AddDate(1, 0, 0),
			RecordedBy: "cli:" + by, RecordedAt: recorded,
		})
		if err != nil {
			t.Fatalf("AddAttestation %s: %v", req, err)
		}
		return a
	}
	a1 := add("DL-1", t0.AddDate(0, -1, 0), t0.AddDate(0, -1, 0), "A")
	a2 := add("CY-1", t0.AddDate(0, 0, -3), t0.AddDate(0, 0, -3), "A")
	a3 := add("DL-1", t0, t0, "B")
	// A correction: dated earlier, recorded later; it replaces a3.
	a4 := add("DL-1", t0.AddDate(0, 0, -1), t0.Add(time.Hour), "C")
	if a3.SupersededBy != 0 || !a3.Current() {
		t.Errorf("AddAttestation returned a superseded attestation: %+v", a3)
	}
	// Another site's attestation of the same requirement supersedes nothing here.
	newFixture(t, st, "fir")
	if _, err := st.AddAttestation(ctx, store.Attestation{Site: "fir", ReqID: "DL-1", By: "D", At: t0, Expires: t0.AddDate(1, 0, 0)}); err != nil {
		t.Fatal(err)
	}

	a1.SupersededBy, a1.SupersededAt = a3.ID, a3.RecordedAt
	a3.SupersededBy, a3.SupersededAt = a4.ID, a4.RecordedAt
	cur, err := st.Attestations(ctx, "yew")
	if err != nil {
		t.Fatalf("Attestations: %v", err)
	}
	if diff := cmp.Diff([]store.Attestation{a4, a2}, cur); diff != "" { // newest date first
		t.Errorf("current attestations (-want +got):\n%s", diff)
	}
	hist, err := st.AttestationHistory(ctx, "yew", "DL-1")
	if err != nil {
		t.Fatalf("AttestationHistory: %v", err)
	}
	if diff := cmp.Diff([]store.Attestation{a4, a3, a1}, hist); diff != "" {
		t.Errorf("DL-1 history (-want +got):\n%s", diff)
	}
	hist, err = st.AttestationHistory(ctx, "yew", "")
	if err != nil {
		t.Fatalf("AttestationHistory(all): %v", err)
	}
	if diff := cmp.Diff([]store.Attestation{a4, a3, a2, a1}, hist); diff != "" {
		t.Errorf("all history (-want +got):\n%s", diff)
	}
	if h, _ := st.AttestationHistory(ctx, "yew", "XX-9"); len(h) != 0 {
		t.Errorf("history of an unattested requirement: %+v", h)
	}

	// Without a recording time the store stamps one.
	a, err := st.AddAttestation(ctx, store.Attestation{Site: "yew", ReqID: "CY-2", By: "E", At: t0, Expires: t0.AddDate(1, 0, 0)})
	if err != nil || a.RecordedAt.IsZero() {
		t.Errorf("AddAttestation without RecordedAt = %+v, %v", a, err)
	}
}

func testAdminTokens(t *testing.T, st store.Store) {
	ctx := context.Background()
	h1, h2 := store.HashSecret("one"), store.HashSecret("two")
	if err := st.CreateAdminToken(ctx, store.AdminToken{Name: "lead", Hash: h1, Created: t0}); err != nil {
		t.Fatalf("CreateAdminToken: %v", err)
	}
	got, err := st.AdminByToken(ctx, h1)
	if err != nil || got.Name != "lead" || !got.Created.Equal(t0) || !got.Revoked.IsZero() {
		t.Errorf("AdminByToken = %+v, %v", got, err)
	}
	_, err = st.AdminByToken(ctx, h2)
	wantErr(t, "unknown admin token", err, store.ErrNotFound)
	wantErr(t, "second token with the same name", st.CreateAdminToken(ctx, store.AdminToken{Name: "lead", Hash: h2, Created: t0}), store.ErrExists)
	wantErr(t, "revoke unknown", st.RevokeAdminToken(ctx, "nobody", t0), store.ErrNotFound)

	if err := st.RevokeAdminToken(ctx, "lead", t0.Add(time.Hour)); err != nil {
		t.Fatalf("RevokeAdminToken: %v", err)
	}
	_, err = st.AdminByToken(ctx, h1)
	wantErr(t, "revoked admin token", err, store.ErrNotFound)
	wantErr(t, "revoke twice", st.RevokeAdminToken(ctx, "lead", t0), store.ErrNotFound)
	// The name is free again once revoked.
	if err := st.CreateAdminToken(ctx, store.AdminToken{Name: "lead", Hash: h2, Created: t0.Add(2 * time.Hour)}); err != nil {
		t.Fatalf("CreateAdminToken after revoking: %v", err)
	}
	all, err := st.AdminTokens(ctx)
	if err != nil {
		t.Fatalf("AdminTokens: %v", err)
	}
	want := []store.AdminToken{
		{Name: "lead", Hash: h1, Created: t0, Revoked: t0.Add(time.Hour)},
		{Name: "lead", Hash: h2, Created: t0.Add(2 * time.Hour)},
	}
	if diff := cmp.Diff(want, all); diff != "" {
		t.Errorf("AdminTokens (-want +got):\n%s", diff)
	}
}
