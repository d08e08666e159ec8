package meta

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/probity-edu/probity/agent/health"
	"github.com/probity-edu/probity/agent/probe"
	"github.com/probity-edu/probity/agent/probe/dns"
	"github.com/probity-edu/probity/agent/probe/host"
	"github.com/probity-edu/probity/agent/probe/httpcheck"
	"github.com/probity-edu/probity/agent/probe/ping"
	"github.com/probity-edu/probity/agent/schedule"
	"github.com/probity-edu/probity/agent/ship"
	"github.com/probity-edu/probity/agent/spool"
	"github.com/probity-edu/probity/collector/standards"
	"github.com/probity-edu/probity/internal/point"
	"github.com/probity-edu/probity/internal/testenv"
)

// TestProbesKeepTheMeasurementContract runs every probe kind against real
// peers on loopback and checks that each point it emits uses only tags and
// fields declared in collector/standards/measurements.yaml, with the
// declared types: the table that scoring rules and docs are checked against
// must describe what the agent really sends.
func TestProbesKeepTheMeasurementContract(t *testing.T) {
	testenv.RequireIntegration(t, "runs every probe on loopback")
	table := standards.Measurements()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d := probe.Deps{}.WithDefaults()

	resolver := testenv.StartDNS(t, []string{
		"www.google.com. 300 IN CNAME forcesafesearch.google.com.",
		"forcesafesearch.google.com. 300 IN A 216.239.38.120",
	}, "use-application-dns.net.")
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok")) }))
	defer web.Close()

	var probes []probe.Probe
	dc := dns.Defaults
	dc.Resolvers = []string{resolver.Addr, "127.0.0.1:1"}
	dc.Queries = []dns.Query{{Name: "www.google.com", Type: "A"}, {Name: "use-application-dns.net", Type: "A"}}
	dc.Timeout = time.Second
	hc := httpcheck.Defaults
	hc.Targets = []httpcheck.Target{{URL: web.URL, Name: "web", Role: "cloud"}, {URL: "http://127.0.0.1:1/", Name: "closed"}}
	for _, build := range []func() (probe.Probe, error){
		func() (probe.Probe, error) { return dns.New(dc, d) },
		func() (probe.Probe, error) { return httpcheck.New(hc, d) },
		func() (probe.Probe, error) { return host.New(host.Defaults, d) },
	} {
		p, err := build()
		if err != nil {
			t.Fatal(err)
		}
		probes = append(probes, p)
	}
	if os.Geteuid() == 0 {
		pc := ping.Defaults
		pc.Targets = []ping.Target{{Host: "127.0.0.1", Role: "gateway"}}
		pc.Count = 2
		pc.Interval = 20 * time.Millisecond
		p, err := ping.New(pc, d)
		if err != nil {
			t.Fatal(err)
		}
		probes = append(probes, p)
	}

	seen := map[string]bool{}
	for _, p := range probes {
		pts, err := p.Run(ctx)
		if err != nil {
			t.Fatalf("%T: %v", p, err)
		}
		for _, pt := range pts {
			seen[pt.Measurement] = true
			checkPoint(t, table, pt)
		}
	}
	seen["agent"] = true
	checkPoint(t, table, health.Point(time.Now(), "dev", spool.Stats{}, ship.Stats{}, schedule.Stats{}))
	for _, m := range []string{"dns", "http", "host"} {
		if !seen[m] {
			t.Errorf("no %s points were produced", m)
		}
	}
}

func checkPoint(t *testing.T, table standards.Table, p point.Point) {
	t.Helper()
	m, ok := table.Lookup(p.Measurement)
	if !ok {
		t.Errorf("measurement %s is not in measurements.yaml", p.Measurement)
		return
	}
	for k := range p.Tags {
		if _, ok := table.Tag(m, k); !ok {
			t.Errorf("%s: tag %s is not declared", p.Measurement, k)
		}
	}
	for k, v := range p.Fields {
		f, ok := m.Field(k)
		if !ok {
			t.Errorf("%s: field %s is not declared", p.Measurement, k)
			continue
		}
		var got string
		switch v.(type) {
		case float64:
			got = standards.TypeFloat
		case int64:
			got = standards.TypeInt
		case bool:
			got = standards.TypeBool
		case string:
			got = standards.TypeString
		}
		if got != f.Type {
			t.Errorf("%s: field %s is %T, declared %s", p.Measurement, k, v, f.Type)
		}
	}
}
