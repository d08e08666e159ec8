package score

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/probity-edu/probity/collector/standards"
	"github.com/probity-edu/probity/collector/store"
	"github.com/probity-edu/probity/internal/point"
)

// countingSource records the queries the engine makes.
type countingSource struct {
	pts     memSource
	queries []string
	err     error
}

func (c *countingSource) Points(ctx context.Context, site, m string, where map[string]string, from, to time.Time) ([]point.Point, error) {
	c.queries = append(c.queries, site+" "+m+" "+from.Format(time.RFC3339)+" "+to.Format(time.RFC3339))
	if c.err != nil {
		return nil, c.err
	}
	return c.pts.Points(ctx, site, m, where, from, to)
}

func TestEngineFetchesEachSelectionOnce(t *testing.T) {
	def := standards.Default()
	fm15, _ := def.Requirement("FM-15")
	bb2, _ := def.Requirement("BB-2")
	dl1, _ := def.Requirement("DL-1")
	// FM-15 twice: the second must reuse the first's three fetches.
	cat := &standards.Catalogue{Version: "v-test", Requirements: []standards.Requirement{fm15, fm15, bb2, dl1}}
	src := &countingSource{}
	eng := &Engine{Catalogue: cat, Source: src}
	vs, err := eng.EvaluateSite(context.Background(), "school-a", "secondary", nil, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 4 || vs[0].ReqID != "FM-15" || vs[2].ReqID != "BB-2" || vs[3].ReqID != "DL-1" {
		t.Fatalf("verdicts out of catalogue order: %+v", vs)
	}
	// 3 for FM-15, none for BB-2 (primary only), none for the attested DL-1.
	if len(src.queries) != 3 {
		t.Errorf("queries: %q", src.queries)
	}
	want := "school-a dns 2026-03-01T09:00:00Z 2026-03-02T09:00:00Z"
	if src.queries[0] != want {
		t.Errorf("query %q, want %q", src.queries[0], want)
	}
	for _, v := range vs {
		if v.Catalogue != "v-test" {
			t.Errorf("%s: catalogue %q", v.ReqID, v.Catalogue)
		}
	}
	if vs[2].State != NotApplicable {
		t.Errorf("BB-2 at a secondary: %s", vs[2].State)
	}
}

func TestEngineWrapsSourceErrors(t *testing.T) {
	def := standards.Default()
	fm13, _ := def.Requirement("FM-13")
	boom := errors.New("database is locked")
	eng := &Engine{Catalogue: &standards.Catalogue{Requirements: []standards.Requirement{fm13}}, Source: &countingSource{err: boom}}
	_, err := eng.EvaluateSite(context.Background(), "school-a", "primary", nil, now)
	if !errors.Is(err, boom) {
		t.Fatalf("error %v does not wrap the source's", err)
	}
	for _, part := range []string{"school-a", "FM-13", "use-application-dns.net answered NXDOMAIN", "dns"} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("error %q does not name %q", err, part)
		}
	}
}

// fakeStore answers Points from memory, as store.PointQuery describes.
type fakeStore struct {
	pts memSource
	got store.PointQuery
}

func (f *fakeStore) Points(ctx context.Context, q store.PointQuery) ([]point.Point, error) {
	f.got = q
	return f.pts.Points(ctx, q.Site, q.Measurement, q.Tags, q.From, q.To)
}

func TestStoreAdapters(t *testing.T) {
	fs := &fakeStore{pts: memSource{enforced(true, time.Hour), enforced(true, 30*time.Hour)}}
	src := StoreSource{Store: fs}
	where := map[string]string{"engine": "google"}
	pts, err := src.Points(context.Background(), "school-a", "safesearch", where, now.Add(-24*time.Hour), now)
	if err != nil || len(pts) != 1 {
		t.Fatalf("%d points, %v", len(pts), err)
	}
	if fs.got.Site != "school-a" || fs.got.Measurement != "safesearch" || fs.got.Tags["engine"] != "google" || !fs.got.To.Equal(now) {
		t.Errorf("query %+v", fs.got)
	}

	atts := FromStore([]store.Attestation{{ID: 7, Site: "school-a", ReqID: "DL-1", By: "Pat", Note: "n", Link: "https://l", At: now, Expires: now.AddDate(1, 0, 0)}})
	if len(atts) != 1 || atts[0] != (Attestation{ReqID: "DL-1", By: "Pat", Note: "n", Link: "https://l", At: now, Expires: now.AddDate(1, 0, 0)}) {
		t.Errorf("attestations %+v", atts)
	}

	req, _ := standards.Default().Requirement("DL-1")
	v := Evaluate(req, Input{Phase: "primary", Now: now, Attestations: atts})
	v.Catalogue = "v1"
	rec, err := v.Record("school-a", now)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Site != "school-a" || rec.ReqID != "DL-1" || rec.State != "attested" || rec.Catalogue != "v1" || !rec.EvaluatedAt.Equal(now) || rec.Summary != v.Summary {
		t.Errorf("record %+v", rec)
	}
	var ev Evidence
	if err := json.Unmarshal(rec.Evidence, &ev); err != nil || ev.Attestation == nil || ev.Attestation.By != "Pat" {
		t.Errorf("evidence %s: %v", rec.Evidence, err)
	}
}
