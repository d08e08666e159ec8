package score

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/probity-edu/probity/collector/rollup"
	"github.com/probity-edu/probity/collector/standards"
	"github.com/probity-edu/probity/collector/store"
	"github.com/probity-edu/probity/internal/point"
)

// countingSource records the queries the engine makes.
type countingSource struct {
	src     memSource
	queries []string
	err     error
}

func (c *countingSource) Buckets(ctx context.Context, q Query) ([]rollup.Bucket, error) {
	var spans []string
	for _, s := range q.Spans {
		spans = append(spans, s.Res.String()+" "+s.From.Format(time.RFC3339)+" "+s.To.Format(time.RFC3339))
	}
	c.queries = append(c.queries, q.Site+" "+q.Measurement+"."+q.Field+" "+strings.Join(spans, ", "))
	if c.err != nil {
		return nil, c.err
	}
	return c.src.Buckets(ctx, q)
}

func TestEngineFetchesEachSelectionOnce(t *testing.T) {
	def := standards.Default()
	fm6, _ := def.Requirement("FM-6")
	bb2, _ := def.Requirement("BB-2")
	dl1, _ := def.Requirement("DL-1")
	// FM-6's four conditions are four selections of filter.pass (each its
	// own where); FM-6 twice: the second reuses the first's four fetches.
	cat := &standards.Catalogue{Version: "v-test", Requirements: []standards.Requirement{fm6, fm6, bb2, dl1}}
	src := &countingSource{}
	eng := &Engine{Catalogue: cat, Source: src}
	vs, err := eng.EvaluateSite(context.Background(), "school-a", "secondary", nil, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 4 || vs[0].ReqID != "FM-6" || vs[2].ReqID != "BB-2" || vs[3].ReqID != "DL-1" {
		t.Fatalf("verdicts out of catalogue order: %+v", vs)
	}
	// 4 for FM-6, none for BB-2 (primary only), none for the attested DL-1.
	if len(src.queries) != 4 {
		t.Fatalf("queries: %q", src.queries)
	}
	want := "school-a filter.pass hour 2026-03-01T09:00:00Z 2026-03-02T09:00:00Z"
	if src.queries[0] != want {
		t.Errorf("query %q, want %q", src.queries[0], want)
	}
	// A month reads days, with hours at either end.
	cl4, _ := def.Requirement("CL-4")
	src = &countingSource{}
	eng = &Engine{Catalogue: &standards.Catalogue{Requirements: []standards.Requirement{cl4}}, Source: src}
	if _, err := eng.EvaluateSite(context.Background(), "school-a", "secondary", nil, now.Add(30*time.Minute)); err != nil {
		t.Fatal(err)
	}
	want = "school-a http.ok hour 2026-01-31T09:00:00Z 2026-02-01T00:00:00Z, day 2026-02-01T00:00:00Z 2026-03-02T00:00:00Z, " +
		"hour 2026-03-02T00:00:00Z 2026-03-02T09:30:00Z"
	if len(src.queries) != 1 || src.queries[0] != want {
		t.Errorf("CL-4 queries %q, want %q", src.queries, want)
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
	for _, part := range []string{"school-a", "FM-13", "DNS-over-HTTPS, private relay and proxy routes blocked", "filter.pass"} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("error %q does not name %q", err, part)
		}
	}
}

// fakeStore answers Rollups from memory and records the queries.
type fakeStore struct {
	src memSource
	got []store.RollupQuery
}

func (f *fakeStore) Rollups(ctx context.Context, q store.RollupQuery) ([]rollup.Bucket, error) {
	f.got = append(f.got, q)
	return f.src.Buckets(ctx, Query{Site: q.Site, Measurement: q.Measurement, Field: q.Field, Where: q.Tags, OnlyOK: q.OnlyOK,
		Spans: []rollup.Span{{Res: q.Res, From: q.From, To: q.To}}})
}

func TestStoreAdapters(t *testing.T) {
	fs := &fakeStore{src: rollup.FromPoints("school-a", []point.Point{enforced(true, time.Hour), enforced(true, 30*time.Hour)})}
	src := StoreSource{Store: fs}
	where := map[string]string{"engine": "google"}
	spans := rollup.Window(now, 720*time.Hour)
	bs, err := src.Buckets(context.Background(), Query{Site: "school-a", Measurement: "safesearch", Field: "enforced", Where: where, Spans: spans})
	if err != nil || len(bs) != 2 {
		t.Fatalf("%d buckets, %v", len(bs), err)
	}
	if len(fs.got) != len(spans) {
		t.Fatalf("%d store queries for %d spans", len(fs.got), len(spans))
	}
	for i, q := range fs.got {
		if q.Site != "school-a" || q.Measurement != "safesearch" || q.Field != "enforced" || q.Tags["engine"] != "google" ||
			q.OnlyOK || q.Res != spans[i].Res || !q.From.Equal(spans[i].From) || !q.To.Equal(spans[i].To) {
			t.Errorf("query %d: %+v", i, q)
		}
	}
	// These points have no ok field: none is in the ok=true class.
	fs.got = nil
	bs, err = src.Buckets(context.Background(), Query{Site: "school-a", Measurement: "safesearch", Field: "enforced", OnlyOK: true, Spans: spans})
	if err != nil || len(bs) != 0 || len(fs.got) == 0 || !fs.got[0].OnlyOK {
		t.Errorf("only ok: %d buckets, %v, queries %+v", len(bs), err, fs.got)
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
