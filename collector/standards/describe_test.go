package standards

import (
	"os"
	"slices"
	"testing"
	"time"
)

func TestDescribeCatalogueConditions(t *testing.T) {
	cat := Default()
	for _, c := range []struct{ id, cond, want string }{
		{"BB-2", "Download speed", "median of throughput.mbps where direction=download and mode=multi leaving out probe_limited=true, ok tests only, over 30 days, at least 5 samples, must be ≥ 100 Mbit/s for primary schools"},
		{"BB-2", "Upload speed", "median of throughput.mbps where direction=upload and mode=multi leaving out probe_limited=true, ok tests only, over 30 days, at least 5 samples, must be ≥ 30 Mbit/s for primary schools"},
		{"FM-16", "Education, health and help sites load", "share of filter checks where kind=must_allow whose pass is true, ok checks only, over 24 hours, at least 1 sample, must be ≥ 100% for every profile and target"},
		{"FM-15", "SafeSearch enforced", "share of safesearch checks whose enforced is true, ok checks only, over 24 hours, at least 1 sample, must be ≥ 100% for every profile and target"},
		{"CL-4", "Cloud service reachable", "share of http requests where role=cloud whose ok is true over 30 days, at least 1 sample, must be ≥ 99% for every target"},
	} {
		r, ok := cat.Requirement(c.id)
		if !ok || r.Rule == nil {
			t.Fatalf("%s has no rule", c.id)
		}
		i := slices.IndexFunc(r.Rule.Conditions, func(cd Condition) bool { return cd.Name == c.cond })
		if i < 0 {
			t.Fatalf("%s has no condition %q", c.id, c.cond)
		}
		if got := r.Rule.Conditions[i].DescribeFor(r.Phases); got != c.want {
			t.Errorf("%s %s:\n got: %s\nwant: %s", c.id, c.cond, got, c.want)
		}
	}
}

// Thresholds by phase are listed per phase; Describe covers every phase,
// DescribeFor only the requirement's.
func TestDescribePhaseThresholds(t *testing.T) {
	data, err := os.ReadFile("testdata/valid-thresholds.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c, err := Load(data, "valid-thresholds.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r := c.Requirements[0]
	cond := r.Rule.Conditions[0]
	const stem = "median of throughput.mbps where direction=download, ok tests only, over 7 days, at least 5 samples, must be "
	if got, want := cond.DescribeFor(r.Phases), stem+"≥ 100 Mbit/s for primary schools and ≥ 1000 Mbit/s for secondary schools"; got != want {
		t.Errorf("DescribeFor:\n got: %s\nwant: %s", got, want)
	}
	if got, want := cond.Describe(), stem+"≥ 100 Mbit/s for primary schools and ≥ 1000 Mbit/s for secondary schools, all-through schools, special schools and FE colleges"; got != want {
		t.Errorf("Describe:\n got: %s\nwant: %s", got, want)
	}
}

// Every statistic and match operator reads in words; windows in the unit
// people use.
func TestDescribeStatsAndMatches(t *testing.T) {
	base := Condition{Measurement: "ping", Field: "rtt_avg_ms", Window: 90 * time.Minute, MinSamples: 1, Unit: "ms", Compare: Compare{Op: OpLe, Value: 50}}
	for _, c := range []struct {
		change func(*Condition)
		want   string
	}{
		{func(c *Condition) { c.Stat = StatP90 }, "90th percentile of ping.rtt_avg_ms over 90 minutes, at least 1 sample, must be ≤ 50 ms"},
		{func(c *Condition) { c.Stat = StatP10; c.Compare.Op = OpGt }, "10th percentile of ping.rtt_avg_ms over 90 minutes, at least 1 sample, must be > 50 ms"},
		{func(c *Condition) { c.Stat = StatLast; c.Window = time.Hour; c.Compare.Op = OpLt }, "latest value of ping.rtt_avg_ms over 1 hour, at least 1 sample, must be < 50 ms"},
		{func(c *Condition) { c.Stat = StatMin; c.Window = 48 * time.Hour; c.MinSamples = 3 }, "minimum of ping.rtt_avg_ms over 2 days, at least 3 samples, must be ≤ 50 ms"},
		{func(c *Condition) { c.Stat = StatMax; c.Window = 30 * time.Second; c.Compare.Op = OpEq }, "maximum of ping.rtt_avg_ms over 30s, at least 1 sample, must be = 50 ms"},
		{func(c *Condition) { c.Stat = StatMean; c.Compare.Op = OpNe; c.OnlyOK = true }, "mean of ping.rtt_avg_ms, ok ping rounds only, over 90 minutes, at least 1 sample, must be ≠ 50 ms"},
		{func(c *Condition) {
			c.Stat, c.Field, c.Unit, c.Compare = StatShare, "loss_pct", "%", Compare{Op: OpGe, Value: 95}
			c.Match = &Match{Op: OpLt, Value: 5.0}
			c.Where = map[string]string{"role": "isp", "target": "10.0.0.1"}
		}, "share of ping rounds where role=isp and target=10.0.0.1 whose loss_pct < 5% over 90 minutes, at least 1 sample, must be ≥ 95%"},
		{func(c *Condition) {
			c.Stat, c.Field, c.Unit, c.Compare = StatShare, "result", "%", Compare{Op: OpLe, Value: 1}
			c.Match = &Match{Op: OpIn, Values: []string{"timeout", "unreachable"}}
		}, "share of ping rounds whose result is one of timeout, unreachable over 90 minutes, at least 1 sample, must be ≤ 1%"},
		{func(c *Condition) {
			c.Stat, c.Field, c.Unit, c.Compare = StatShare, "icmp_mode", "%", Compare{Op: OpGe, Value: 100}
			c.Match = &Match{Op: OpNe, Value: "raw"}
		}, "share of ping rounds whose icmp_mode is not raw over 90 minutes, at least 1 sample, must be ≥ 100%"},
		{func(c *Condition) {
			c.Stat = StatMedian
			c.Measurement = "agent"
			c.Field = "queued_batches"
			c.Unit = "count"
		}, "median of agent.queued_batches over 90 minutes, at least 1 sample, must be ≤ 50"},
	} {
		cond := base
		c.change(&cond)
		if got := cond.Describe(); got != c.want {
			t.Errorf("\n got: %s\nwant: %s", got, c.want)
		}
	}
}

func TestDescribeRule(t *testing.T) {
	fm8, _ := Default().Requirement("FM-8")
	got := fm8.DescribeRule()
	if len(got) != 3 || got[0] != "Met when this holds:" ||
		got[1] != "Must-block tests blocked on the guest network: share of filter checks where kind=must_block and profile=guest whose pass is true, ok checks only, over 24 hours, at least 1 sample, must be ≥ 100% for every target" ||
		got[2] != "Only part of the requirement is measured, so meeting the rule gives partly met: "+fm8.Rule.Note {
		t.Errorf("FM-8 rule:\n%q", got)
	}
	bb2, _ := Default().Requirement("BB-2")
	if got := bb2.DescribeRule(); len(got) != 4 || got[0] != "Met when all of these hold:" || got[3] != bb2.Rule.Note {
		t.Errorf("BB-2 rule: %q", got)
	}
	any := &Rule{Combine: CombineAny, Conditions: bb2.Rule.Conditions}
	if got := any.Describe(nil); got[0] != "Met when any of these holds:" {
		t.Errorf("any: %q", got)
	}
	fm1, _ := Default().Requirement("FM-1")
	if fm1.DescribeRule() != nil {
		t.Error("an attested row describes a rule")
	}
}

func TestPhaseWords(t *testing.T) {
	for _, c := range []struct {
		in   []string
		want string
	}{
		{nil, "every phase"},
		{[]string{"fe"}, "FE colleges"},
		{[]string{"secondary", "all-through", "fe"}, "secondary schools, all-through schools and FE colleges"},
		{slices.Clone(Phases), "every phase"},
	} {
		if got := PhaseWords(c.in); got != c.want {
			t.Errorf("PhaseWords(%v) = %q, want %q", c.in, got, c.want)
		}
	}
}
