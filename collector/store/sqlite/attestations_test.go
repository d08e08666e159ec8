package sqlite

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/probity-edu/probity/collector/store"
)

// Attestations stored before 0003 gain a history: for each site and
// requirement the last recorded stays current, the earlier ones are
// superseded by their successor.
func TestMigrate0003SupersedesOlderAttestations(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "probity.db")
	db := openBefore(t, path, 3)
	day := time.Date(2025, 9, 1, 0, 0, 0, 0, time.UTC)
	for _, q := range []string{
		`INSERT INTO trusts(id, name, created) VALUES (1, 'T', 0)`,
		`INSERT INTO sites(id, trust_id, name, phase, created) VALUES ('oak', 1, 'Oak', 'primary', 0)`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	for i, req := range []string{"DL-1", "CY-1", "DL-1", "DL-1"} {
		at := day.AddDate(0, 0, i)
		if _, err := db.Exec(`INSERT INTO attestations(site, req_id, by_name, at, expires) VALUES ('oak', ?, 'A', ?, ?)`,
			req, at.UnixNano(), at.AddDate(1, 0, 0).UnixNano()); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatalf("Open (migrating): %v", err)
	}
	defer s.Close()
	hist, err := s.AttestationHistory(ctx, "oak", "")
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		id, supersededBy int64
		req              string
		supersededAt     time.Time
	}
	var got []row
	for _, a := range hist {
		got = append(got, row{a.ID, a.SupersededBy, a.ReqID, a.SupersededAt})
		if !a.RecordedAt.Equal(a.At) {
			t.Errorf("attestation %d: recorded %v, want its date %v", a.ID, a.RecordedAt, a.At)
		}
	}
	want := []row{
		{4, 0, "DL-1", time.Time{}},
		{3, 4, "DL-1", day.AddDate(0, 0, 3)},
		{2, 0, "CY-1", time.Time{}},
		{1, 3, "DL-1", day.AddDate(0, 0, 2)},
	}
	if len(got) != len(want) {
		t.Fatalf("history = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i].id != want[i].id || got[i].supersededBy != want[i].supersededBy || got[i].req != want[i].req ||
			!got[i].supersededAt.Equal(want[i].supersededAt) {
			t.Errorf("history[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
	cur, err := s.Attestations(ctx, "oak")
	if err != nil || len(cur) != 2 || cur[0].ID != 4 || cur[1].ID != 2 {
		t.Errorf("current after migration = %+v, %v; want ids 4 and 2", cur, err)
	}
	// The unique index holds: a new DL-1 supersedes 4.
	a, err := s.AddAttestation(ctx, store.Attestation{Site: "oak", ReqID: "DL-1", By: "B", At: day.AddDate(0, 1, 0)})
	if err != nil {
		t.Fatal(err)
	}
	h, _ := s.AttestationHistory(ctx, "oak", "DL-1")
	if len(h) != 4 || h[0].ID != a.ID || h[1].ID != 4 || h[1].SupersededBy != a.ID {
		t.Errorf("DL-1 history after a new one = %+v", h)
	}
}
