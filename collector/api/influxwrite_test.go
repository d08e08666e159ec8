package api

import (
	"bytes"
	"compress/gzip"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/probity-edu/probity/collector/store"
	"github.com/probity-edu/probity/collector/store/sqlite"
	"github.com/probity-edu/probity/internal/point"
)

// influxAnswer is what an InfluxDB v2 write answered.
type influxAnswer struct {
	code   int
	header http.Header
	raw    string
	err    influxError
}

// influxPost sends body to srv's /api/v2/write with query (org, bucket,
// precision), as Telegraf would: Authorization: Token, optionally gzip.
func influxPost(t *testing.T, base, auth, query string, body []byte, gz bool) influxAnswer {
	t.Helper()
	if gz {
		body = gzipped(body)
	}
	req, _ := http.NewRequest("POST", base+InfluxWritePath+query, bytes.NewReader(body))
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if gz {
		req.Header.Set("Content-Encoding", "gzip")
	}
	return influxDo(t, req)
}

func influxDo(t *testing.T, req *http.Request) influxAnswer {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := influxAnswer{code: resp.StatusCode, header: resp.Header, raw: string(raw)}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &a.err); err != nil {
			t.Fatalf("%d answer is not InfluxDB's JSON error: %v\n%s", resp.StatusCode, err, raw)
		}
	}
	return a
}

func gzipped(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func (f *fixture) points(t *testing.T, measurement string) []point.Point {
	t.Helper()
	pts, err := f.st.Points(context.Background(), store.PointQuery{Site: "oak", Measurement: measurement, From: time.Unix(0, 0), To: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	return pts
}

func (f *fixture) metrics(t *testing.T) string {
	t.Helper()
	resp, err := http.Get(f.srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// TestTelegrafReplay sends the request Telegraf 1.37.2 made (testdata),
// byte for byte, with the fixture's credential as its token.
func TestTelegrafReplay(t *testing.T) {
	f := newFixture(t, 0)
	dir := filepath.Join("testdata", "telegraf-1.37.2")
	var captured struct {
		Method  string      `json:"method"`
		URL     string      `json:"url"`
		Headers http.Header `json:"headers"`
	}
	raw, err := os.ReadFile(filepath.Join(dir, "request.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &captured); err != nil {
		t.Fatal(err)
	}
	body, err := os.ReadFile(filepath.Join(dir, "body.gz"))
	if err != nil {
		t.Fatal(err)
	}
	send := func() influxAnswer {
		// A reader of unknown length makes the client send chunked, as
		// Telegraf does.
		req, _ := http.NewRequest(captured.Method, f.srv.URL+captured.URL, io.NopCloser(bytes.NewReader(body)))
		for k, vs := range captured.Headers {
			req.Header[k] = vs
		}
		req.Header.Set("Authorization", "Token "+f.cred)
		return influxDo(t, req)
	}
	a := send()
	if a.code != http.StatusNoContent || a.raw != "" || !strings.HasPrefix(a.header.Get("X-Influxdb-Version"), "probity-") {
		t.Fatalf("replay: %d %q %v", a.code, a.raw, a.header)
	}
	agent := f.agent(t)
	want := map[string]int{"mem": 1, "internal_gather": 2, "internal_write": 3, "internal_agent": 1, "internal_memstats": 1}
	for m, n := range want {
		pts := f.points(t, m)
		if len(pts) != n {
			t.Errorf("%s: %d points stored, want %d", m, len(pts), n)
			continue
		}
		for _, p := range pts {
			if p.Tags["site"] != "oak" || p.Tags["agent"] != agent.ID || p.Tags["host"] != "tg-host" {
				t.Errorf("%s tags %v", m, p.Tags)
			}
			// Telegraf's timestamps are nanoseconds, rounded to its interval.
			if want := time.Unix(0, 1796417209000000000); !p.Time.Equal(want) {
				t.Errorf("%s at %v, want %v", m, p.Time.UTC(), want.UTC())
			}
		}
	}
	mem := f.points(t, "mem")
	if len(mem) == 1 {
		if v, ok := mem[0].Fields["total"].(int64); !ok || v != 25276203008 {
			t.Errorf("mem total = %#v", mem[0].Fields["total"])
		}
	}
	// Telegraf's user agent is recorded as the sender's version.
	if got := f.agent(t).Version; got != "Telegraf/unknown Go/1.26.8" {
		t.Errorf("agent version %q", got)
	}
	// Telegraf resending the same body (its answer lost) stores nothing new.
	if a := send(); a.code != http.StatusNoContent {
		t.Fatalf("resend: %d %s", a.code, a.raw)
	}
	if n := len(f.points(t, "internal_write")); n != 3 {
		t.Errorf("after the resend internal_write has %d points, want 3", n)
	}
	m := f.metrics(t)
	for _, s := range []string{`probity_ingest_batches_total{result="stored"} 1`, `probity_ingest_batches_total{result="duplicate"} 1`, "probity_ingest_points_total 8"} {
		if !strings.Contains(m, s) {
			t.Errorf("metrics lack %q", s)
		}
	}
}

func TestInfluxWritePrecision(t *testing.T) {
	f := newFixture(t, 0)
	const ns = 1764844800123456789
	for _, tc := range []struct {
		param string
		ts    int64
		unit  time.Duration
	}{
		{"", ns, time.Nanosecond},
		{"ns", ns, time.Nanosecond},
		{"us", ns / 1000, time.Microsecond},
		{"ms", ns / 1000000, time.Millisecond},
		{"s", ns / 1000000000, time.Second},
	} {
		name := tc.param
		if name == "" {
			name = "none"
		}
		body := fmt.Sprintf("prec,p=%s v=1 %d\n", name, tc.ts)
		q := "?org=oak-trust&bucket=probity"
		if tc.param != "" {
			q += "&precision=" + tc.param
		}
		if a := influxPost(t, f.srv.URL, "Token "+f.cred, q, []byte(body), false); a.code != http.StatusNoContent {
			t.Fatalf("precision %q: %d %s", tc.param, a.code, a.raw)
		}
		pts, err := f.st.Points(context.Background(), store.PointQuery{Site: "oak", Measurement: "prec", Tags: map[string]string{"p": name},
			From: time.Unix(0, 0), To: time.Now().Add(time.Hour)})
		if err != nil || len(pts) != 1 {
			t.Fatalf("precision %q: %v %v", tc.param, pts, err)
		}
		if want := time.Unix(0, ns).Truncate(tc.unit); !pts[0].Time.Equal(want) {
			t.Errorf("precision %q: stored at %v, want %v", tc.param, pts[0].Time.UTC(), want.UTC())
		}
	}
	a := influxPost(t, f.srv.URL, "Token "+f.cred, "?precision=h", []byte("prec v=1 1\n"), false)
	if a.code != 400 || a.err.Code != "invalid" || !strings.Contains(a.err.Message, "precision") {
		t.Errorf("precision h: %d %s", a.code, a.raw)
	}
}

func TestInfluxWriteGzip(t *testing.T) {
	f := newFixture(t, 0)
	body := []byte("gz,t=a v=1 1764844800000000000\ngz,t=b v=2 1764844800000000000\n")
	if a := influxPost(t, f.srv.URL, "Token "+f.cred, "", body, true); a.code != 204 {
		t.Fatalf("gzip: %d %s", a.code, a.raw)
	}
	if n := len(f.points(t, "gz")); n != 2 {
		t.Fatalf("%d points stored from the gzip body", n)
	}
	// Bytes that are not gzip, and an encoding we do not speak.
	req, _ := http.NewRequest("POST", f.srv.URL+InfluxWritePath, bytes.NewReader(body))
	req.Header.Set("Authorization", "Token "+f.cred)
	req.Header.Set("Content-Encoding", "gzip")
	if a := influxDo(t, req); a.code != 400 || a.err.Code != "invalid" || !strings.Contains(a.err.Message, "gzip") {
		t.Errorf("plain body called gzip: %d %s", a.code, a.raw)
	}
	req, _ = http.NewRequest("POST", f.srv.URL+InfluxWritePath, bytes.NewReader(body))
	req.Header.Set("Authorization", "Token "+f.cred)
	req.Header.Set("Content-Encoding", "br")
	if a := influxDo(t, req); a.code != 400 || a.err.Code != "invalid" || !strings.Contains(a.err.Message, "Content-Encoding") {
		t.Errorf("br: %d %s", a.code, a.raw)
	}
	if n := len(f.points(t, "gz")); n != 2 {
		t.Errorf("refused bodies stored points: %d", n)
	}
}

func TestInfluxWriteAuth(t *testing.T) {
	f := newFixture(t, 0)
	body := []byte("auth v=1 1764844800000000000\n")
	for _, tc := range []struct{ name, auth, want string }{
		{"none", "", "missing Authorization: Token"},
		{"unknown", "Token not-a-credential", "unknown or revoked"},
		{"other scheme", "Basic " + f.cred, "missing Authorization: Token"},
	} {
		a := influxPost(t, f.srv.URL, tc.auth, "?org=o&bucket=b", body, false)
		if a.code != 401 || a.err.Code != "unauthorized" || !strings.Contains(a.err.Message, tc.want) ||
			!strings.Contains(a.err.Message, "agent add") || !strings.HasPrefix(a.header.Get("Content-Type"), "application/json") {
			t.Errorf("%s: %d %v %s", tc.name, a.code, a.header, a.raw)
		}
	}
	// Bearer works as Token does.
	if a := influxPost(t, f.srv.URL, "Bearer "+f.cred, "", body, false); a.code != 204 {
		t.Fatalf("bearer: %d %s", a.code, a.raw)
	}
	if err := f.st.RevokeAgent(context.Background(), f.agent(t).ID); err != nil {
		t.Fatal(err)
	}
	if a := influxPost(t, f.srv.URL, "Token "+f.cred, "", []byte("auth v=2 1764844800000000000\n"), false); a.code != 401 || a.err.Code != "unauthorized" {
		t.Errorf("revoked: %d %s", a.code, a.raw)
	}
	if n := len(f.points(t, "auth")); n != 1 {
		t.Errorf("%d points stored, want only the one with a good credential", n)
	}
	if m := f.metrics(t); !strings.Contains(m, `probity_ingest_rejected_total{reason="unauthorized"} 4`) {
		t.Errorf("unauthorized writes not counted:\n%s", m)
	}
}

func TestInfluxWriteTooLarge(t *testing.T) {
	f := newFixture(t, 64<<10)
	big := bytes.Repeat([]byte("big v=1 1764844800000000000\n"), 5000) // 140 kB, 3 kB gzipped
	for _, gz := range []bool{false, true} {
		a := influxPost(t, f.srv.URL, "Token "+f.cred, "", big, gz)
		if a.code != 413 || a.err.Code != "request too large" || a.err.MaxLength != 64<<10 || !strings.Contains(a.err.Message, "split the batch") {
			t.Errorf("gzip %v: %d %s", gz, a.code, a.raw)
		}
	}
	if n := len(f.points(t, "big")); n != 0 {
		t.Errorf("an oversized body stored %d points", n)
	}
	// Each half of what Telegraf splits is taken.
	half := big[:len(big)/3]
	if a := influxPost(t, f.srv.URL, "Token "+f.cred, "", half, true); a.code != 204 {
		t.Errorf("a third: %d %s", a.code, a.raw)
	}
}

func TestInfluxWritePartial(t *testing.T) {
	f := newFixture(t, 0)
	body := []byte("part,n=1 v=1 1764844800000000000\n" +
		"part,n=2 v= 1764844800000000000\n" +
		"part,n=3 v=3 1764844800000000000\n" +
		"no fields here\n")
	for try := 1; try <= 2; try++ {
		a := influxPost(t, f.srv.URL, "Token "+f.cred, "", body, true)
		if a.code != 400 || a.err.Code != "invalid" || a.err.Line != 2 {
			t.Fatalf("try %d: %d %s", try, a.code, a.raw)
		}
		for _, s := range []string{"partial write: 2 points stored", "2 bad lines dropped", "line 2: ", "line 4: "} {
			if !strings.Contains(a.err.Message, s) {
				t.Errorf("try %d: message lacks %q: %s", try, s, a.err.Message)
			}
		}
		// The good lines are kept, once however often the body comes.
		pts := f.points(t, "part")
		if len(pts) != 2 || pts[0].Tags["n"] == "2" || pts[1].Tags["n"] == "2" {
			t.Fatalf("try %d: stored %v", try, pts)
		}
	}
	// Nothing good: nothing stored, the same shape of answer.
	a := influxPost(t, f.srv.URL, "Token "+f.cred, "", []byte(strings.Repeat("bad\n", 9)), false)
	if a.code != 400 || a.err.Line != 1 || !strings.Contains(a.err.Message, "nothing stored, 9 bad lines dropped") ||
		!strings.Contains(a.err.Message, "line 5: ") || strings.Contains(a.err.Message, "line 6: ") || !strings.Contains(a.err.Message, "and 4 more") {
		t.Errorf("all bad: %d %s", a.code, a.raw)
	}
	if a := influxPost(t, f.srv.URL, "Token "+f.cred, "", []byte("\n# only a comment\n"), false); a.code != 400 || a.err.Code != "invalid" {
		t.Errorf("no points: %d %s", a.code, a.raw)
	}
	m := f.metrics(t)
	for _, s := range []string{`probity_ingest_rejected_total{reason="partial_write"} 2`, `probity_ingest_batches_total{result="rejected"} 1`, "probity_ingest_points_total 2"} {
		if !strings.Contains(m, s) {
			t.Errorf("metrics lack %q", s)
		}
	}
}

func TestInfluxWriteStoredOnce(t *testing.T) {
	f := newFixture(t, 0)
	var told int
	s := &Server{Store: f.st, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), OnWrite: func(pts []point.Point) { told += len(pts) }}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	body := []byte("once v=1 1764844800000000000\nonce v=2 1764844801000000000\n")
	for i := 0; i < 3; i++ {
		if a := influxPost(t, srv.URL, "Token "+f.cred, "?org=oak-trust&bucket=probity", body, i == 1); a.code != 204 {
			t.Fatalf("write %d: %d %s", i, a.code, a.raw)
		}
	}
	if n := len(f.points(t, "once")); n != 2 || told != 2 {
		t.Fatalf("an identical body three times (once gzipped): %d points stored, OnWrite told of %d; want 2 and 2", n, told)
	}
	// The same body at another precision means other times: new data.
	if a := influxPost(t, srv.URL, "Token "+f.cred, "?precision=ns", []byte("once v=1 1764844800000000000\n"), false); a.code != 204 {
		t.Fatal(a.raw)
	}
	if a := influxPost(t, srv.URL, "Token "+f.cred, "?precision=s", []byte("once v=1 1764844800\n"), false); a.code != 204 {
		t.Fatal(a.raw)
	}
	if n := len(f.points(t, "once")); n != 4 {
		t.Errorf("%d points, want 4", n)
	}
	// Lines without timestamps are stamped on arrival: each send is new.
	for i := 0; i < 2; i++ {
		if a := influxPost(t, srv.URL, "Token "+f.cred, "", []byte("untimed v=1\n"), false); a.code != 204 {
			t.Fatal(a.raw)
		}
	}
	if n := len(f.points(t, "untimed")); n != 2 {
		t.Errorf("untimed body twice: %d points, want 2", n)
	}
}

func TestInfluxWriteIgnoresOrgAndBucket(t *testing.T) {
	f := newFixture(t, 0)
	ctx := context.Background()
	if _, err := f.st.CreateSite(ctx, store.Site{ID: "elm", TrustID: f.site.TrustID, Name: "Elm", Phase: "primary"}); err != nil {
		t.Fatal(err)
	}
	for i, q := range []string{"", "?org=elm&bucket=elm", "?org=someone-else&bucket=db%2Fautogen&orgID=0123456789abcdef"} {
		body := fmt.Sprintf("ob,site=elm,agent=forged,i=%d v=1 1764844800000000000\n", i)
		if a := influxPost(t, f.srv.URL, "Token "+f.cred, q, []byte(body), false); a.code != 204 {
			t.Fatalf("%q: %d %s", q, a.code, a.raw)
		}
	}
	pts := f.points(t, "ob")
	if len(pts) != 3 {
		t.Fatalf("%d points under oak, want 3", len(pts))
	}
	for _, p := range pts {
		if p.Tags["site"] != "oak" || p.Tags["agent"] != f.agent(t).ID {
			t.Errorf("tags %v: site and agent must come from the credential", p.Tags)
		}
	}
	elm, _ := f.st.Points(ctx, store.PointQuery{Site: "elm", Measurement: "ob", From: time.Unix(0, 0), To: time.Now().Add(time.Hour)})
	if len(elm) != 0 {
		t.Errorf("%d points were filed under the school the query or body named", len(elm))
	}
}

// TestInfluxWriteStoreDown makes SQLite refuse every batch (a trigger,
// added on a second connection) while credentials still resolve.
func TestInfluxWriteStoreDown(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "p.db")
	st, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tr, _ := st.CreateTrust(ctx, "T")
	if _, err := st.CreateSite(ctx, store.Site{ID: "oak", TrustID: tr.ID, Name: "Oak", Phase: "primary"}); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateEnrolToken(ctx, "oak", store.HashSecret("tok"), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := st.ConsumeEnrolToken(ctx, store.HashSecret("tok"), store.Agent{Hostname: "tg"}, store.HashSecret("cred"), time.Now()); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TRIGGER down BEFORE INSERT ON batches BEGIN SELECT RAISE(ABORT, 'disk on fire'); END`); err != nil {
		t.Fatal(err)
	}
	s := &Server{Store: st, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	a := influxPost(t, srv.URL, "Token cred", "", []byte("m v=1 1764844800000000000\n"), false)
	if a.code != 503 || a.err.Code != "unavailable" || a.header.Get("Retry-After") == "" {
		t.Fatalf("store down: %d %v %s", a.code, a.header, a.raw)
	}
	if _, err := db.Exec(`DROP TRIGGER down`); err != nil {
		t.Fatal(err)
	}
	// Telegraf retries the same body; now it is stored.
	if a := influxPost(t, srv.URL, "Token cred", "", []byte("m v=1 1764844800000000000\n"), false); a.code != 204 {
		t.Fatalf("after recovery: %d %s", a.code, a.raw)
	}
}

func TestInfluxPing(t *testing.T) {
	f := newFixture(t, 0)
	for _, method := range []string{"GET", "HEAD"} {
		req, _ := http.NewRequest(method, f.srv.URL+InfluxPingPath, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 204 || !strings.HasPrefix(resp.Header.Get("X-Influxdb-Version"), "probity-") {
			t.Errorf("%s /ping: %d %v", method, resp.StatusCode, resp.Header)
		}
	}
}
