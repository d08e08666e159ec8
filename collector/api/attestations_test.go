package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/probity-edu/probity/collector/report"
	"github.com/probity-edu/probity/collector/standards"
	"github.com/probity-edu/probity/collector/store"
)

// testCatalogue is fixed here so these tests do not move with the real
// catalogue: one measured row, one partly measured, one attested yearly,
// one attested termly, one for secondary schools only.
func testCatalogue() *standards.Catalogue {
	return &standards.Catalogue{Version: "api-test", Checked: "2026-01-01", Requirements: []standards.Requirement{
		{ID: "FM-13", Standard: "filtering", Title: "DoH blocked", Core: true, Evidence: standards.EvidenceMeasured},
		{ID: "FM-15", Standard: "filtering", Title: "SafeSearch", Core: true, Evidence: standards.EvidencePartly, AttestationLife: standards.LifeYearly},
		{ID: "DL-1", Standard: "leadership", Title: "Digital lead", Core: true, Evidence: standards.EvidenceAttested, AttestationLife: standards.LifeYearly},
		{ID: "CY-22", Standard: "cyber", Title: "Backups tested", Core: true, Evidence: standards.EvidenceAttested, AttestationLife: standards.LifeTermly},
		{ID: "BB-3", Standard: "broadband", Title: "1 Gbps", Core: true, Phases: []string{"secondary"}, Evidence: standards.EvidencePartly, AttestationLife: standards.LifeYearly},
	}}
}

const adminSecret = "admin-secret-for-tests"

func (f *fixture) addAdmin(t *testing.T, name, secret string) {
	t.Helper()
	if err := f.st.CreateAdminToken(context.Background(), store.AdminToken{Name: name, Hash: store.HashSecret(secret)}); err != nil {
		t.Fatal(err)
	}
}

// do sends a request with an optional bearer token and decodes JSON into out.
func (f *fixture) do(t *testing.T, method, path, token string, body any, out any) (int, http.Header, string) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		js, _ := json.Marshal(b)
		rd = bytes.NewReader(js)
	}
	req, _ := http.NewRequest(method, f.srv.URL+path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: decoding %q: %v", method, path, raw, err)
		}
	}
	return resp.StatusCode, resp.Header, string(raw)
}

const attPath = "/api/v1/sites/oak/attestations"

func valid() AttestationInput {
	return AttestationInput{Requirement: "DL-1", By: "Pat Green", Role: "headteacher", Note: "J Smith appointed digital lead",
		Link: "https://docs.example/minutes.pdf", Date: "2026-01-15"}
}

func TestAttestationPostNeedsAdminToken(t *testing.T) {
	f := newFixture(t, 0)
	f.addAdmin(t, "lead", adminSecret)
	f.addAdmin(t, "gone", "revoked-secret")
	if err := f.st.RevokeAdminToken(context.Background(), "gone", time.Now()); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, token, errPart string
	}{
		{"no token", "", "probity-collector admin token"},
		{"agent credential", f.cred, "unknown or revoked admin token"},
		{"revoked", "revoked-secret", "unknown or revoked admin token"},
		{"made up", "nope", "unknown or revoked admin token"},
	}
	for _, tc := range cases {
		var e apiError
		code, h, _ := f.do(t, "POST", attPath, tc.token, valid(), &e)
		if code != http.StatusUnauthorized || !strings.Contains(e.Error, tc.errPart) || !strings.HasPrefix(h.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("%s: %d %q %q", tc.name, code, e.Error, h.Get("WWW-Authenticate"))
		}
	}
	// Unauthenticated requests learn nothing about sites either.
	if code, _, _ := f.do(t, "POST", "/api/v1/sites/nowhere/attestations", "", valid(), nil); code != http.StatusUnauthorized {
		t.Errorf("unknown site without a token: %d, want 401", code)
	}
	if code, _, _ := f.do(t, "POST", "/api/v1/sites/nowhere/attestations", adminSecret, valid(), nil); code != http.StatusNotFound {
		t.Errorf("unknown site with a token: %d, want 404", code)
	}
	if h, _ := f.st.AttestationHistory(context.Background(), "oak", ""); len(h) != 0 {
		t.Fatalf("refused requests stored %d attestations", len(h))
	}
	var got AttestationJSON
	if code, _, body := f.do(t, "POST", attPath, adminSecret, valid(), &got); code != http.StatusCreated {
		t.Fatalf("valid POST: %d %s", code, body)
	}
	if got.RecordedBy != "admin token lead" {
		t.Errorf("recorded_by = %q", got.RecordedBy)
	}
}

func TestAttestationPostValidation(t *testing.T) {
	f := newFixture(t, 0)
	f.addAdmin(t, "lead", adminSecret)
	future := time.Now().UTC().AddDate(0, 0, 2).Format(time.DateOnly)
	with := func(change func(*AttestationInput)) AttestationInput {
		in := valid()
		change(&in)
		return in
	}
	cases := []struct {
		name   string
		body   any
		fields map[string]string // field -> part of its message
	}{
		{"empty body", "", map[string]string{"body": "EOF"}},
		{"not JSON", "requirement=DL-1", map[string]string{"body": "invalid character"}},
		{"unknown field", `{"requirement":"DL-1","by":"x","note":"y","expires":"2030-01-01"}`, map[string]string{"body": `unknown field "expires"`}},
		{"missing by and note", with(func(in *AttestationInput) { in.By, in.Note = " ", "" }), map[string]string{"by": "required", "note": "required"}},
		{"missing requirement", with(func(in *AttestationInput) { in.Requirement = "" }), map[string]string{"requirement": "required"}},
		{"unknown requirement", with(func(in *AttestationInput) { in.Requirement = "XX-9" }), map[string]string{"requirement": `no requirement "XX-9" in catalogue api-test`}},
		{"measured requirement", with(func(in *AttestationInput) { in.Requirement = "FM-13" }), map[string]string{"requirement": "FM-13 is measured by probes and cannot be attested"}},
		{"other phase", with(func(in *AttestationInput) { in.Requirement = "BB-3" }), map[string]string{"requirement": "applies only to secondary schools, and oak is primary"}},
		{"future date", with(func(in *AttestationInput) { in.Date = future }), map[string]string{"date": "is in the future"}},
		{"bad date", with(func(in *AttestationInput) { in.Date = "15/01/2026" }), map[string]string{"date": "not a date (YYYY-MM-DD) or an RFC 3339 time"}},
		{"script link", with(func(in *AttestationInput) { in.Link = "javascript:alert(1)" }), map[string]string{"link": "http:// or https://"}},
		{"long note", with(func(in *AttestationInput) { in.Note = strings.Repeat("é", maxNote+1) }), map[string]string{"note": "at most 4000 characters"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var e fieldErrorBody
			code, _, raw := f.do(t, "POST", attPath, adminSecret, tc.body, &e)
			if code != http.StatusBadRequest {
				t.Fatalf("%d %s, want 400", code, raw)
			}
			if len(e.Fields) != len(tc.fields) {
				t.Errorf("fields %+v, want %v", e.Fields, tc.fields)
			}
			for _, fe := range e.Fields {
				if part, ok := tc.fields[fe.Field]; !ok || !strings.Contains(fe.Message, part) {
					t.Errorf("field %s: %q, want it to contain %q", fe.Field, fe.Message, part)
				}
				if !strings.Contains(e.Error, fe.Field+": ") {
					t.Errorf("error %q does not name field %s", e.Error, fe.Field)
				}
			}
		})
	}
	if h, _ := f.st.AttestationHistory(context.Background(), "oak", ""); len(h) != 0 {
		t.Fatalf("invalid requests stored %d attestations", len(h))
	}
}

func TestAttestationSupersedeAndHistory(t *testing.T) {
	f := newFixture(t, 0)
	f.addAdmin(t, "lead", adminSecret)
	var first, second, termly AttestationJSON
	if code, _, body := f.do(t, "POST", attPath, adminSecret, valid(), &first); code != http.StatusCreated {
		t.Fatalf("first: %d %s", code, body)
	}
	wantDate := time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC)
	if !first.Date.Equal(wantDate) || !first.Expires.Equal(wantDate.AddDate(1, 0, 0)) || first.Supersedes != 0 || first.Role != "headteacher" {
		t.Errorf("first = %+v; want dated %v, expiring a year later, superseding nothing", first, wantDate)
	}
	// Lower-case ids are accepted; no date means now.
	in := valid()
	in.Requirement, in.Date, in.By, in.Note = "dl-1", "", "Sam Blue", "New digital lead after J Smith left"
	before := time.Now()
	if code, _, body := f.do(t, "POST", attPath, adminSecret, in, &second); code != http.StatusCreated {
		t.Fatalf("second: %d %s", code, body)
	}
	if second.Supersedes != first.ID || second.Requirement != "DL-1" || second.Date.Before(before.Add(-time.Second)) {
		t.Errorf("second = %+v; want it to supersede %d and be dated now", second, first.ID)
	}
	termIn := AttestationInput{Requirement: "CY-22", By: "IT lead", Note: "Restore tested", Date: "2026-01-10"}
	if code, _, body := f.do(t, "POST", attPath, adminSecret, termIn, &termly); code != http.StatusCreated {
		t.Fatalf("termly: %d %s", code, body)
	}
	if want := time.Date(2026, 5, 10, 0, 0, 0, 0, time.UTC); !termly.Expires.Equal(want) {
		t.Errorf("termly attestation expires %v, want %v (four months)", termly.Expires, want)
	}

	var cur []AttestationJSON
	if code, _, body := f.do(t, "GET", attPath, readerSecret, nil, &cur); code != http.StatusOK || len(cur) != 2 {
		t.Fatalf("current: %d %s", code, body)
	}
	for _, a := range cur {
		if a.ID == first.ID || a.SupersededBy != 0 {
			t.Errorf("current list holds a superseded attestation: %+v", a)
		}
	}
	var hist []AttestationJSON
	if code, _, body := f.do(t, "GET", attPath+"?history=1&requirement=DL-1", readerSecret, nil, &hist); code != http.StatusOK || len(hist) != 2 {
		t.Fatalf("history: %d %s", code, body)
	}
	if hist[0].ID != second.ID || hist[1].ID != first.ID || hist[1].SupersededBy != second.ID || hist[1].SupersededAt.IsZero() {
		t.Errorf("DL-1 history = %+v; want the second, then the first superseded by it", hist)
	}
	if code, _, _ := f.do(t, "GET", attPath+"?history=1", readerSecret, nil, &hist); code != http.StatusOK || len(hist) != 3 {
		t.Errorf("all history: %d, %d entries, want 3", code, len(hist))
	}
	// By URN too, and a bad history value is named.
	if code, _, _ := f.do(t, "GET", "/api/v1/sites/111/attestations", readerSecret, nil, &cur); code != http.StatusOK || len(cur) != 2 {
		t.Errorf("by URN: %d, %d", code, len(cur))
	}
	var e fieldErrorBody
	if code, _, _ := f.do(t, "GET", attPath+"?history=maybe", readerSecret, nil, &e); code != http.StatusBadRequest || e.Fields[0].Field != "history" {
		t.Errorf("history=maybe: %d %+v", code, e)
	}
}

func TestVerdictsAt(t *testing.T) {
	f := newFixture(t, 0)
	ctx := context.Background()
	t1 := time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC)
	t2 := t1.AddDate(0, 1, 0)
	for _, save := range []struct {
		at    time.Time
		state string
	}{{t1, "not_met"}, {t2, "met"}} {
		vs := []store.Verdict{{ReqID: "FM-13", State: save.state, Summary: save.state, Catalogue: "c", EvaluatedAt: save.at}}
		if err := f.st.SaveVerdicts(ctx, "oak", vs); err != nil {
			t.Fatal(err)
		}
	}
	get := func(q string) (int, []VerdictJSON, string) {
		var out []VerdictJSON
		code, _, raw := f.do(t, "GET", "/api/v1/sites/oak/verdicts"+q, readerSecret, nil, nil)
		if code == http.StatusOK {
			json.Unmarshal([]byte(raw), &out)
		}
		return code, out, raw
	}
	for q, want := range map[string]string{
		"": "met",
		"?at=" + url.QueryEscape("2026-02-15T00:00:00+01:00"): "not_met",
		"?at=2026-03-02":           "met",
		"?at=2026-03-01T09:00:00Z": "met",     // the bound is inclusive
		"?at=2026-03-01":           "not_met", // midnight, before the second save
		"?at=2026-02-28":           "not_met",
	} {
		code, vs, raw := get(q)
		if code != http.StatusOK || len(vs) != 1 || vs[0].State != want {
			t.Errorf("verdicts%s: %d %s; want one %s", q, code, raw, want)
		}
	}
	if code, vs, _ := get("?at=2026-01-01"); code != http.StatusOK || len(vs) != 0 {
		t.Errorf("before any verdict: %d %+v", code, vs)
	}
	if code, _, raw := get("?at=last-term"); code != http.StatusBadRequest || !strings.Contains(raw, `at: \"last-term\" is not a date`) {
		t.Errorf("bad at: %d %s", code, raw)
	}
}

func TestTrustSummary(t *testing.T) {
	f := newFixture(t, 0)
	ctx := context.Background()
	tr, _ := f.st.TrustByName(ctx, "Trust")
	if _, err := f.st.CreateSite(ctx, store.Site{ID: "ash", TrustID: tr.ID, Name: "Ash Secondary", Phase: "secondary"}); err != nil {
		t.Fatal(err)
	}
	other, _ := f.st.CreateTrust(ctx, "Other Trust")
	if _, err := f.st.CreateSite(ctx, store.Site{ID: "fir", TrustID: other.ID, Name: "Fir", Phase: "primary"}); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	save := func(site string, states map[string]string) {
		var vs []store.Verdict
		for req, st := range states {
			vs = append(vs, store.Verdict{ReqID: req, State: st, Catalogue: "api-test", EvaluatedAt: now})
		}
		if err := f.st.SaveVerdicts(ctx, site, vs); err != nil {
			t.Fatal(err)
		}
	}
	save("oak", map[string]string{"FM-13": "met", "FM-15": "partly_met", "DL-1": "attested", "CY-22": "attested", "BB-3": "not_applicable"})
	save("ash", map[string]string{"FM-13": "not_met", "FM-15": "partly_met", "DL-1": "attested", "CY-22": "attestation_expired", "BB-3": "met"})

	var sum report.Summary
	code, _, raw := f.do(t, "GET", "/api/v1/trusts/"+url.PathEscape("Trust")+"/summary", readerSecret, nil, &sum)
	if code != http.StatusOK {
		t.Fatalf("summary by name: %d %s", code, raw)
	}
	got := map[string]report.TrustStandard{}
	for _, s := range sum.Standards {
		got[s.Standard] = s
	}
	if len(sum.Schools) != 2 {
		t.Errorf("schools = %+v; want oak and ash only", sum.Schools)
	}
	if fm := got["filtering"]; fm.Meeting != 0 || fm.Schools != 2 || fm.MostCommonGap == nil || fm.MostCommonGap.ReqID != "FM-15" || fm.MostCommonGap.Schools != 2 {
		t.Errorf("filtering = %+v; want 0 of 2 meeting, FM-15 short at both", fm)
	}
	if dl := got["leadership"]; dl.Meeting != 2 || dl.MostCommonGap != nil {
		t.Errorf("leadership = %+v; want 2 of 2", dl)
	}
	if cy := got["cyber"]; cy.Meeting != 1 || cy.MostCommonGap.ReqID != "CY-22" || cy.MostCommonGap.States["attestation_expired"] != 1 {
		t.Errorf("cyber = %+v", cy)
	}
	if bb := got["broadband"]; bb.Schools != 1 || bb.Meeting != 1 {
		t.Errorf("broadband = %+v; want it to apply to ash only, which meets it", bb)
	}
	var byID report.Summary
	if code, _, _ := f.do(t, "GET", "/api/v1/trusts/"+strconv.FormatInt(tr.ID, 10)+"/summary", readerSecret, nil, &byID); code != http.StatusOK || byID.Trust.Name != "Trust" {
		t.Errorf("summary by id: %d %+v", code, byID.Trust)
	}
	if code, _, _ := f.do(t, "GET", "/api/v1/trusts/Nobody/summary", readerSecret, nil, nil); code != http.StatusNotFound {
		t.Errorf("unknown trust: %d", code)
	}
	var list []TrustJSON
	if code, _, _ := f.do(t, "GET", "/api/v1/trusts", readerSecret, nil, &list); code != http.StatusOK || len(list) != 2 || !strings.HasSuffix(list[1].Summary, "/summary") {
		t.Errorf("trusts: %d %+v", code, list)
	}
}
