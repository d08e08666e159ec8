package loadgen

import (
	"bytes"
	"compress/gzip"
	"io"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/influxdata/line-protocol/v2/lineprotocol"

	"github.com/probity-edu/probity/internal/point"
)

// specPerMinute is issue 11's school, points per minute per measurement:
// ping 4 targets every minute; DNS 4 names and HTTP 5 targets every 5
// minutes; throughput 4 times in an 8-hour school day (download and
// upload); 20 switches (a device point, 48 ports and a PoE group) and a
// controller of 40 APs every minute; the filtering suite (144 checks, and
// 8 SafeSearch checks) hourly; host, agent and reachability every minute;
// 20 cyber checks a day.
var specPerMinute = map[string]float64{
	"ping":         4,
	"dns":          0.8,
	"http":         1,
	"throughput":   2.0 / 120,
	"snmp_device":  20,
	"snmp_if":      20 * 48,
	"snmp_poe":     20,
	"wifi_ap":      40,
	"filter":       144.0 / 60,
	"safesearch":   8.0 / 60,
	"host":         1,
	"agent":        1,
	"reachability": 1,
	"cyber":        20.0 / 1440,
}

func TestMixPerMinute(t *testing.T) {
	pm := PerMinute(Mix())
	if len(pm) != len(specPerMinute) {
		t.Errorf("mix has %d measurements, spec %d: %v", len(pm), len(specPerMinute), pm)
	}
	var total float64
	for m, want := range specPerMinute {
		if got := pm[m]; math.Abs(got-want) > 1e-9 {
			t.Errorf("%s: %g points per school per minute, spec %g", m, got, want)
		}
		total += want
	}
	if got := TotalPerMinute(Mix()); math.Abs(got-total) > 1e-9 {
		t.Errorf("total %g, spec %g", got, total)
	}
	t.Logf("points per school per minute: %.2f\n%s", total, MixTable(Mix()))
}

// TestSourcesBuildWhatTheyCount runs each source for exactly two of its
// intervals from a random phase, so it must run twice whatever the phase,
// and checks that the points built are those Counts declares, valid, and
// stamped at the runs' due times.
func TestSourcesBuildWhatTheyCount(t *testing.T) {
	start := time.Date(2026, 12, 4, 8, 0, 0, 0, time.UTC)
	for i, src := range Mix() {
		sch := NewSchool([]Source{src}, start, 1, uint64(i)+1)
		pts, err := sch.Due(start.Add(2*src.Every - time.Nanosecond))
		if err != nil {
			t.Fatalf("%s: %v", src.Name, err)
		}
		got := map[string]int{}
		times := map[time.Time]bool{}
		for _, p := range pts {
			if err := p.Validate(); err != nil {
				t.Fatalf("%s: %v", src.Name, err)
			}
			got[p.Measurement]++
			times[p.Time] = true
		}
		for m, n := range src.Counts {
			if got[m] != 2*n {
				t.Errorf("%s: %d %s points in two runs, want %d", src.Name, got[m], m, 2*n)
			}
		}
		if len(got) != len(src.Counts) {
			t.Errorf("%s: built %v, declares %v", src.Name, got, src.Counts)
		}
		if len(times) != 2 {
			t.Errorf("%s: points at %d distinct times, want the 2 runs'", src.Name, len(times))
		}
		for tm := range times {
			if tm.Before(start) || !tm.Before(start.Add(2*src.Every)) {
				t.Errorf("%s: point at %s outside the window", src.Name, tm)
			}
		}
	}
}

func TestSpeedupDividesIntervals(t *testing.T) {
	start := time.Date(2026, 12, 4, 8, 0, 0, 0, time.UTC)
	sch := NewSchool(Mix(), start, 60, 7)
	// Two simulated hours are two real minutes at 60x: every hourly source
	// runs twice, every minutely one 120 times.
	pts, err := sch.Due(start.Add(2*time.Minute - time.Nanosecond))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, p := range pts {
		got[p.Measurement]++
	}
	for m, want := range map[string]int{"filter": 2 * 144, "ping": 120 * 4, "snmp_if": 120 * 960, "dns": 24 * 4} {
		if got[m] != want {
			t.Errorf("%s: %d points, want %d", m, got[m], want)
		}
	}
}

// TestEncodeBatchDecodes: one run of every source, gzipped, decodes as
// the collector decodes it into as many points as the sources said, and
// those points encode back to the very lines sent: the lines are
// point.Encode's.
func TestEncodeBatchDecodes(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var lp []byte
	var n int
	for i, src := range Mix() {
		var k int
		lp, k = src.Append(lp, r, time.Unix(1764835200+int64(i), 123456789))
		n += k
	}
	gz, err := EncodeBatch(lp)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	back, err := point.Decode(got, lineprotocol.Nanosecond, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(back) != n {
		t.Fatalf("decoded %d points of %d", len(back), n)
	}
	again, err := point.Encode(nil, back)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, lp) {
		t.Fatalf("decoded and encoded again:\n%s\nsent:\n%s", again, lp)
	}
	t.Logf("one run of every source: %d points, %d bytes gzipped (%.1f bytes a point)", n, len(gz), float64(len(gz))/float64(n))
}

func TestPercentile(t *testing.T) {
	var ds []time.Duration
	for i := 100; i >= 1; i-- { // unsorted on purpose
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	for _, c := range []struct {
		p    float64
		want time.Duration
	}{{50, 50 * time.Millisecond}, {95, 95 * time.Millisecond}, {99, 99 * time.Millisecond}, {100, 100 * time.Millisecond}, {0.1, time.Millisecond}} {
		if got := Percentile(ds, c.p); got != c.want {
			t.Errorf("p%g = %s, want %s", c.p, got, c.want)
		}
	}
	if got := Percentile(nil, 99); got != 0 {
		t.Errorf("p99 of none = %s", got)
	}
	if got := Percentile([]time.Duration{7}, 50); got != 7 {
		t.Errorf("p50 of one = %s", got)
	}
	var l Latencies
	l.Add(3)
	l.Add(1)
	if got := l.Take(); len(got) != 2 || len(l.Take()) != 0 {
		t.Errorf("Take: %v", got)
	}
}

func TestKeptUp(t *testing.T) {
	for _, c := range []struct {
		r    Result
		want bool
	}{
		{Result{OfferedPoints: 1000, AcceptedPoints: 1000, P99ms: 200}, true},
		{Result{OfferedPoints: 1000, AcceptedPoints: 950, P99ms: 999}, true},
		{Result{OfferedPoints: 1000, AcceptedPoints: 949, P99ms: 10}, false},
		{Result{OfferedPoints: 1000, AcceptedPoints: 1000, P99ms: 1000}, false},
		{Result{}, false},
	} {
		if got := c.r.KeptUp(); got != c.want {
			t.Errorf("%+v: KeptUp %v", c.r, got)
		}
	}
}

// MixOf scales a school by its switches, 50 points a minute each: five
// make the small school of about 300 points a minute.
func TestMixOfSwitches(t *testing.T) {
	full, small, none := TotalPerMinute(Mix()), TotalPerMinute(MixOf(5)), TotalPerMinute(MixOf(0))
	// Sums of rates over a map: equal to within rounding.
	if math.Abs(full-none-20*(PortsPerSw+2)) > 1e-6 || math.Abs(small-none-5*(PortsPerSw+2)) > 1e-6 {
		t.Errorf("points a minute: 20 switches %.1f, 5 %.1f, none %.1f; want 50 a switch", full, small, none)
	}
	if small < 290 || small > 310 {
		t.Errorf("a school of 5 switches sends %.1f points a minute, want about 300", small)
	}
	if PerMinute(MixOf(0))["snmp_if"] != 0 {
		t.Error("a school without switches sends snmp_if points")
	}
}
