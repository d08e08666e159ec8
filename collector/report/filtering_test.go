package report

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/probity-edu/probity/collector/standards"
	"github.com/probity-edu/probity/collector/store"
	"github.com/probity-edu/probity/internal/point"
)

// TestFilteringLog: the report lists the latest check of every profile and
// target that was not as expected, with how it was blocked or let
// through, the checks that could not tell, and SafeSearch not enforced;
// an older failing check later fixed, and checks older than a day, are
// not listed.
func TestFilteringLog(t *testing.T) {
	st := openStore(t)
	seed(t, st)
	ctx := context.Background()
	if err := st.CreateEnrolToken(ctx, "oak", "h", now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	agent, err := st.ConsumeEnrolToken(ctx, "h", store.Agent{Hostname: "pi-library"}, "c", now)
	if err != nil {
		t.Fatal(err)
	}
	filter := func(at time.Time, profile, kind, target string, ok, pass bool, outcome, mech, detail string) point.Point {
		expect := map[string]string{"must_block": "block", "must_allow": "allow", "circumvention": "block"}[kind]
		f := map[string]any{"ok": ok, "pass": pass, "outcome": outcome, "url": "https://" + target + ".example/", "duration_ms": 5.0}
		if mech != "" {
			f["mechanism"] = mech
		}
		if detail != "" {
			f["detail"] = detail
		}
		return point.New("filter", map[string]string{store.TagSite: "oak", store.TagAgent: agent.ID, "suite": "default",
			"category": kind + "-cat", "kind": kind, "expect": expect, "target": target, "profile": profile}, f, at)
	}
	h := now.Add(-time.Hour)
	pts := []point.Point{
		filter(h, "student", "must_allow", "brook", true, false, "blocked", "tls_intercept", "Smoothwall (issuer CN=School CA)"),
		filter(h, "staff", "must_allow", "brook", true, true, "allowed", "", ""),
		filter(h, "student", "must_block", "adult-test", true, false, "allowed", "", ""),
		// fixed since: only the latest check counts
		filter(now.Add(-3*time.Hour), "student", "circumvention", "doh-google", true, false, "allowed", "", ""),
		filter(h, "student", "circumvention", "doh-google", true, true, "blocked", "tcp_reset", ""),
		filter(h, "student", "circumvention", "doh-cloudflare", false, false, "error", "timeout", ""),
		// older than the report's day
		filter(now.Add(-30*time.Hour), "student", "must_block", "eicar", true, false, "allowed", "", ""),
		point.New("safesearch", map[string]string{store.TagSite: "oak", store.TagAgent: agent.ID, "suite": "default",
			"engine": "youtube", "target": "youtube", "host": "www.youtube.com", "profile": "guest"},
			map[string]any{"ok": true, "enforced": false, "method": "none", "detail": "dns: 142.250.180.14; verify page shows no restriction"}, h),
		point.New("safesearch", map[string]string{store.TagSite: "oak", store.TagAgent: agent.ID, "suite": "default",
			"engine": "google", "target": "google", "host": "www.google.com", "profile": "guest"},
			map[string]any{"ok": true, "enforced": true, "method": "dns"}, h),
	}
	if _, err := st.WriteBatch(ctx, store.Batch{ID: "f1", Agent: agent, Points: pts}, now); err != nil {
		t.Fatal(err)
	}
	r, err := Build(ctx, st, standards.Default(), "oak", now)
	if err != nil {
		t.Fatal(err)
	}
	f := r.Filtering
	if f == nil {
		t.Fatal("no filtering section")
	}
	if f.Checks != 8 || f.Targets != 5 || f.Engines != 2 || strings.Join(f.Profiles, ",") != "guest,staff,student" || strings.Join(f.Agents, ",") != "pi-library" {
		t.Errorf("summary: %+v", f)
	}
	var un []string
	for _, c := range f.Unexpected {
		un = append(un, c.Profile+"/"+c.Target+"/"+c.Outcome+"/"+c.Mechanism)
	}
	// Must-block failures first.
	if got := strings.Join(un, " "); got != "student/adult-test/allowed/ student/brook/blocked/tls_intercept" {
		t.Errorf("unexpected: %s", got)
	}
	if len(f.Errors) != 1 || f.Errors[0].Target != "doh-cloudflare" || len(f.SafeSearch) != 1 || f.SafeSearch[0].Host != "www.youtube.com" {
		t.Errorf("errors %+v safesearch %+v", f.Errors, f.SafeSearch)
	}
	var html bytes.Buffer
	if err := r.WriteHTML(&html); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{
		`<h2>Filtering checks</h2>`, "as guest, staff and student", "by pi-library",
		"<strong>2 of 5</strong> profile and target pairs were not as expected",
		"<td>student</td><td><strong>brook</strong>", "block page behind HTTPS inspection (Smoothwall (issuer CN=School CA))",
		"<strong>adult-test</strong>", "loaded normally",
		"Could not tell for 1", "student / doh-cloudflare (no answer in time)",
		"SafeSearch was not enforced for 1 of 2", "guest / www.youtube.com (youtube): dns: 142.250.180.14; verify page shows no restriction",
	} {
		if !strings.Contains(html.String(), s) {
			t.Errorf("page lacks %q", s)
		}
	}
	// A school without filtering checks gets no section.
	st2 := openStore(t)
	seed(t, st2)
	if r, err := Build(ctx, st2, standards.Default(), "oak", now); err != nil || r.Filtering != nil {
		t.Errorf("no checks: %+v %v", r.Filtering, err)
	}
}
