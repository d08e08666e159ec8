package report

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/probity-edu/probity/collector/standards"
	"github.com/probity-edu/probity/collector/store"
)

var update = flag.Bool("update", false, "rewrite the summary sections of testdata/trust/*.txtar")

var goldenNow = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// A trust golden case is a txtar archive:
//
//	comment: what the case shows
//	-- catalogue --     "<id> <standard> <phases, comma-separated, or -> <title>"
//	-- sites --         "<id> <phase>"
//	-- verdicts --      "<site> <requirement> <state>"
//	-- summary.txt --   the table (rewritten by -update)
//	-- summary.json --  the JSON (rewritten by -update)
//
// The catalogue is built in Go rather than loaded, so these cases do not
// move with the catalogue's schema.
func TestTrustSummaryGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/trust/*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txtar"), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			a := parseTxtar(data)
			s := goldenSummary(t, a)
			var table, js bytes.Buffer
			if err := s.WriteTable(&table); err != nil {
				t.Fatal(err)
			}
			if err := s.WriteJSON(&js); err != nil {
				t.Fatal(err)
			}
			if *update {
				a.set("summary.txt", table.String())
				a.set("summary.json", js.String())
				if err := os.WriteFile(f, a.format(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if diff := cmp.Diff(a.get("summary.txt"), table.String()); diff != "" {
				t.Errorf("table differs (-want +got); run go test -update to accept:\n%s", diff)
			}
			if diff := cmp.Diff(a.get("summary.json"), js.String()); diff != "" {
				t.Errorf("JSON differs (-want +got); run go test -update to accept:\n%s", diff)
			}
		})
	}
}

func goldenSummary(t *testing.T, a *txtar) *Summary {
	t.Helper()
	cat := &standards.Catalogue{Version: "golden", Checked: "2026-03-01"}
	for _, line := range lines(a.get("catalogue")) {
		f := strings.SplitN(line, " ", 4)
		if len(f) != 4 {
			t.Fatalf("catalogue line %q: want <id> <standard> <phases|-> <title>", line)
		}
		r := standards.Requirement{ID: f[0], Standard: f[1], Title: f[3]}
		if f[2] != "-" {
			r.Phases = strings.Split(f[2], ",")
		}
		cat.Requirements = append(cat.Requirements, r)
	}
	trust := store.Trust{ID: 7, Name: "Golden Oak Trust"}
	var sites []store.Site
	for _, line := range lines(a.get("sites")) {
		f := strings.Fields(line)
		if len(f) != 2 {
			t.Fatalf("sites line %q: want <id> <phase>", line)
		}
		sites = append(sites, store.Site{ID: f[0], Name: "School " + f[0], Phase: f[1], TrustID: trust.ID})
	}
	vs := map[string][]store.Verdict{}
	for i, line := range lines(a.get("verdicts")) {
		f := strings.Fields(line)
		if len(f) != 3 {
			t.Fatalf("verdicts line %q: want <site> <requirement> <state>", line)
		}
		// Evaluated a minute apart so the latest per school is visible.
		vs[f[0]] = append(vs[f[0]], store.Verdict{Site: f[0], ReqID: f[1], State: f[2], Catalogue: "golden",
			EvaluatedAt: goldenNow.Add(time.Duration(i-100) * time.Minute)})
	}
	return TrustSummary(cat, trust, sites, vs, goldenNow)
}

func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}
