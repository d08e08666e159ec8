package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/probity-edu/probity/agent/probe"
	"github.com/probity-edu/probity/agent/probe/dns"
	"github.com/probity-edu/probity/collector/score"
	"github.com/probity-edu/probity/collector/standards"
	"github.com/probity-edu/probity/internal/point"
	"github.com/probity-edu/probity/internal/testenv"
)

// TestIntegrationSafeSearchVerdicts runs the real dns probe against a real
// DNS server on loopback, once configured like a school resolver that
// enforces SafeSearch and once like one that does not, and scores FM-15 and
// FM-13 from what the probe measured.
func TestIntegrationSafeSearchVerdicts(t *testing.T) {
	testenv.RequireIntegration(t, "dns probe against a loopback DNS server")
	enforced := []string{
		"www.google.com. 300 IN CNAME forcesafesearch.google.com.",
		"forcesafesearch.google.com. 300 IN A 216.239.38.120",
		"www.youtube.com. 300 IN CNAME restrictmoderate.youtube.com.",
		"restrictmoderate.youtube.com. 300 IN A 216.239.38.119",
		"www.bing.com. 300 IN CNAME strict.bing.com.",
		"strict.bing.com. 300 IN A 204.79.197.220",
	}
	open := []string{
		"www.google.com. 300 IN A 142.250.180.4",
		"www.youtube.com. 300 IN A 142.250.180.14",
		"www.bing.com. 300 IN A 13.107.21.200",
		"use-application-dns.net. 300 IN A 192.0.2.1",
	}
	cases := []struct {
		name       string
		records    []string
		nxdomain   []string
		attest     bool
		fm15, fm13 score.State
	}{
		{"enforced, no attestation", enforced, []string{"use-application-dns.net."}, false, score.PartlyMet, score.PartlyMet},
		{"enforced and browser lockdown attested", enforced, []string{"use-application-dns.net."}, true, score.Met, score.PartlyMet},
		{"not enforced", open, nil, true, score.NotMet, score.NotMet},
	}
	cat := standards.Default()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := testenv.StartDNS(t, tc.records, tc.nxdomain...)
			cfg := dns.Defaults
			cfg.Resolvers = []string{srv.Addr}
			cfg.Queries = []dns.Query{{Name: "www.google.com", Type: "A"}, {Name: "www.youtube.com", Type: "A"}, {Name: "www.bing.com", Type: "A"}, {Name: "use-application-dns.net", Type: "A"}}
			pr, err := dns.New(cfg, probe.Deps{})
			if err != nil {
				t.Fatal(err)
			}
			var pts []point.Point
			start := time.Now()
			for i := 0; i < 3; i++ {
				got, err := pr.Run(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				pts = append(pts, got...)
			}
			now := time.Now().Add(time.Second)
			var atts []score.Attestation
			if tc.attest {
				atts = append(atts, score.Attestation{ReqID: "FM-15", By: "IT lead", Note: "browsers locked by MDM", At: start.Add(-time.Hour)})
			}
			for id, want := range map[string]score.State{"FM-15": tc.fm15, "FM-13": tc.fm13} {
				req, ok := cat.Requirement(id)
				if !ok {
					t.Fatalf("catalogue lacks %s", id)
				}
				samples := map[int][]point.Point{}
				for i := range req.Rule.Conditions {
					samples[i] = pts
				}
				v := score.Evaluate(req, score.Input{Phase: "secondary", Now: now, Samples: samples, Attestations: atts})
				if v.State != want {
					t.Errorf("%s: %s (%s), want %s", id, v.State, v.Summary, want)
				}
			}
		})
	}
}
