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
}
