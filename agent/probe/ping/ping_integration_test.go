package ping

import (
	"context"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/probity-edu/probity/agent/probe"
	"github.com/probity-edu/probity/internal/point"
	"github.com/probity-edu/probity/internal/testenv"
)

// runOnce builds a Prober for targets and runs it once.
func runOnce(t *testing.T, c Config) ([]point.Point, error) {
	t.Helper()
	p, err := New(c, probe.Deps{})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return p.Run(ctx)
}

// runPoint runs c once and returns its only point.
func runPoint(t *testing.T, c Config) point.Point {
	t.Helper()
	pts, err := runOnce(t, c)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if len(pts) != 1 {
		t.Fatalf("got %d points, want 1", len(pts))
	}
	if err := pts[0].Validate(); err != nil {
		t.Fatalf("invalid point: %v", err)
	}
	return pts[0]
}

func num(t *testing.T, p point.Point, field string) float64 {
	t.Helper()
	v, ok := p.Float(field)
	if !ok {
		t.Fatalf("field %s missing or not numeric in %v", field, p.Fields)
	}
	return v
}

func TestIntegrationPingLoopbackPrivileged(t *testing.T) {
	testenv.RequireIntegration(t, "raw ICMP on loopback")
	testenv.RequireRoot(t)
	c := Defaults
	c.Targets = []Target{{Host: "127.0.0.1", Role: "gateway"}}
	c.Count, c.Interval, c.Mode = 5, 20*time.Millisecond, ModePrivileged
	pt := runPoint(t, c)
	if pt.Measurement != "ping" || pt.Tags["target"] != "127.0.0.1" || pt.Tags["role"] != "gateway" {
		t.Errorf("identity: %s %v", pt.Measurement, pt.Tags)
	}
	if pt.Fields["ok"] != true || pt.Fields["result"] != "ok" || pt.Fields["icmp_mode"] != ModePrivileged {
		t.Errorf("fields %v: want ok, result ok, icmp_mode privileged", pt.Fields)
	}
	if pt.Fields["sent"] != int64(5) || pt.Fields["received"] != int64(5) || num(t, pt, "loss_pct") != 0 {
		t.Errorf("sent/received/loss = %v/%v/%v, want 5/5/0", pt.Fields["sent"], pt.Fields["received"], pt.Fields["loss_pct"])
	}
	lo, avg, p95, hi := num(t, pt, "rtt_min_ms"), num(t, pt, "rtt_avg_ms"), num(t, pt, "rtt_p95_ms"), num(t, pt, "rtt_max_ms")
	if !(0 < lo && lo <= avg && avg <= hi && lo <= p95 && p95 <= hi) {
		t.Errorf("RTTs out of order: min %v avg %v p95 %v max %v", lo, avg, p95, hi)
	}
	if j := num(t, pt, "jitter_ms"); j < 0 || j > hi-lo {
		t.Errorf("jitter %v outside [0, max-min=%v]", j, hi-lo)
	}
}

func TestIntegrationPingLossThroughNetns(t *testing.T) {
	testenv.RequireIntegration(t, "netns, veth, iptables")
	ns := testenv.NewNetns(t)
	veth := ns.AddVeth(t)
	c := Defaults
	c.Targets = []Target{{Host: veth.NSAddr.Addr().String(), Role: "isp"}}
	c.Count, c.Interval, c.Mode = 100, 5*time.Millisecond, ModePrivileged
	waitAnswers(t, c)

	pt := runPoint(t, c)
	if pt.Fields["received"] != int64(100) || num(t, pt, "loss_pct") != 0 || pt.Fields["result"] != "ok" {
		t.Fatalf("clean path: received %v loss %v result %v, want 100, 0, ok", pt.Fields["received"], pt.Fields["loss_pct"], pt.Fields["result"])
	}

	// Replies leave the namespace with a 20% chance of being dropped.
	remove := ns.DropOutput(t, veth.HostAddr.Addr(), 0.2)
	pt = runPoint(t, c)
	loss := num(t, pt, "loss_pct")
	t.Logf("20%% drop rule: loss_pct=%.0f received=%v rtt_avg_ms=%.3f jitter_ms=%.3f", loss, pt.Fields["received"], num(t, pt, "rtt_avg_ms"), num(t, pt, "jitter_ms"))
	// Binomial(100, 0.2): below 3 or above 60 is vanishingly unlikely.
	if loss < 3 || loss > 60 {
		t.Errorf("loss_pct = %v with a 20%% drop rule, want between 3 and 60", loss)
	}
	if pt.Fields["ok"] != true || pt.Fields["sent"] != int64(100) {
		t.Errorf("lossy path: ok %v sent %v, want true, 100", pt.Fields["ok"], pt.Fields["sent"])
	}
	remove()

	// Nothing comes back at all: a timeout, with 100% loss and no RTTs.
	ns.DropOutput(t, veth.HostAddr.Addr(), 1)
	c.Count, c.Timeout = 5, time.Second
	pt = runPoint(t, c)
	if pt.Fields["ok"] != false || pt.Fields["result"] != "timeout" || num(t, pt, "loss_pct") != 100 {
		t.Errorf("black hole: %v, want ok=false result=timeout loss_pct=100", pt.Fields)
	}
	if _, has := pt.Fields["rtt_avg_ms"]; has {
		t.Errorf("black hole reported an RTT: %v", pt.Fields)
	}
}

// A target that answers within promptRTT, at an interval of at least
// perEchoMinInterval, is pinged one Pinger per echo, so
// that pro-bing polls only while an echo is in flight; one that does not
// answer gets one Pinger for the rest of the run, and for the whole of the
// next run, until it answers promptly again.
func TestIntegrationPingPingerPerEcho(t *testing.T) {
	testenv.RequireIntegration(t, "netns, veth, iptables")
	ns := testenv.NewNetns(t)
	veth := ns.AddVeth(t)
	c := Defaults
	c.Targets = []Target{{Host: veth.NSAddr.Addr().String()}}
	// A CI machine running other suites beside this one can stall a
	// process for a good part of a second: the timeout leaves room for it.
	c.Count, c.Interval, c.Timeout, c.Mode = 5, perEchoMinInterval, 2*time.Second, ModePrivileged
	waitAnswers(t, c)
	p, err := New(c, probe.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	// A veth's round trip is well under promptRTT, but not always on a busy
	// machine: what is tested here is the switching, not the threshold.
	p.promptRTT = perEchoMinInterval / 2
	run := func(wantReceived int64, wantPingers int64) {
		t.Helper()
		before := p.pingers.Load()
		pts, err := p.Run(context.Background())
		if err != nil || len(pts) != 1 {
			t.Fatalf("Run: %d points, %v", len(pts), err)
		}
		f := pts[0].Fields
		if f["sent"] != int64(5) || f["received"] != wantReceived {
			t.Errorf("sent %v received %v, want 5 and %d", f["sent"], f["received"], wantReceived)
		}
		if n := p.pingers.Load() - before; n != wantPingers {
			t.Errorf("%d Pingers, want %d (fields %v)", n, wantPingers, f)
		}
	}
	run(5, 5)
	remove := ns.DropOutput(t, veth.HostAddr.Addr(), 1)
	run(0, 2) // the first echo alone, then the other four in one Pinger
	run(0, 1) // the last run was not prompt: one Pinger
	remove()
	run(5, 1) // prompt again: the next run is one Pinger per echo
	run(5, 5)

	// At a shorter interval, always one Pinger.
	c.Interval = perEchoMinInterval / 2
	if p, err = New(c, probe.Deps{}); err != nil {
		t.Fatal(err)
	}
	run(5, 1)
}

// waitAnswers pings c's first target until it answers, for up to ten
// seconds, so that a test of what happens to echoes starts on a path known
// to carry them (a new veth's neighbour entry, a busy machine).
func waitAnswers(t *testing.T, c Config) {
	t.Helper()
	c.Count, c.Interval, c.Timeout = 1, perEchoMinInterval, time.Second
	p, err := New(c, probe.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	for range 10 {
		pts, err := p.Run(context.Background())
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		if len(pts) == 1 && pts[0].Fields["received"] == int64(1) {
			return
		}
	}
	t.Fatalf("%s did not answer a ping in ten seconds", c.Targets[0].Host)
}

func TestIntegrationPingUnresolvable(t *testing.T) {
	testenv.RequireIntegration(t, "raw ICMP")
	testenv.RequireRoot(t)
	c := Defaults
	c.Targets = []Target{{Host: "no-such-host.invalid"}, {Host: "127.0.0.1"}}
	c.Count, c.Interval, c.Mode = 2, 10*time.Millisecond, ModePrivileged
	p, err := New(c, probe.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	// The only name server is a closed loopback port: no query leaves the
	// machine, and the lookup fails at once.
	closed, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := closed.LocalAddr().String()
	closed.Close()
	p.resolver = &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}}
	pts, err := p.Run(context.Background())
	if err != nil || len(pts) != 2 {
		t.Fatalf("Run: %d points, %v", len(pts), err)
	}
	if f := pts[0].Fields; f["ok"] != false || f["result"] != "dns_error" || f["sent"] != int64(0) {
		t.Errorf("unresolvable target: %v, want ok=false result=dns_error sent=0", f)
	}
	if pts[1].Fields["ok"] != true {
		t.Errorf("the other target still measured: %v", pts[1].Fields)
	}
}

// helperResult is what the helper process reports back.
type helperResult struct {
	Fields map[string]map[string]any // by mode
	Errors map[string]string         // by mode, when Run failed
	Range  string                    // net.ipv4.ping_group_range as the helper saw it
}

// TestHelperPingModes runs inside a test namespace (see below): it pings the
// namespace's loopback in the modes given by PROBITY_PING_MODES.
func TestHelperPingModes(t *testing.T) {
	if !testenv.IsHelper(t) {
		t.Skip("helper process only")
	}
	res := helperResult{Fields: map[string]map[string]any{}, Errors: map[string]string{}}
	b, _ := os.ReadFile(groupRangeFile)
	res.Range = strings.Join(strings.Fields(string(b)), " ")
	for _, mode := range strings.Split(os.Getenv("PROBITY_PING_MODES"), ",") {
		c := Defaults
		c.Targets = []Target{{Host: "127.0.0.1"}}
		c.Count, c.Interval, c.Mode = 3, 10*time.Millisecond, mode
		pts, err := runOnce(t, c)
		if err != nil {
			res.Errors[mode] = err.Error()
			continue
		}
		res.Fields[mode] = pts[0].Fields
	}
	testenv.WriteHelperResult(t, res)
}

func TestIntegrationPingUnprivilegedInNetns(t *testing.T) {
	testenv.RequireIntegration(t, "netns with ping_group_range")
	ns := testenv.NewNetns(t)
	ns.Sysctl(t, "net.ipv4.ping_group_range", "0 2147483647")
	var res helperResult
	ns.RunHelper(t, "TestHelperPingModes", &res, "PROBITY_PING_MODES=unprivileged,auto")
	if res.Range != "0 2147483647" {
		t.Fatalf("helper saw ping_group_range %q: not running in the namespace?", res.Range)
	}
	for _, mode := range []string{"unprivileged", "auto"} {
		f := res.Fields[mode]
		if f == nil {
			t.Errorf("mode %s: Run failed: %s", mode, res.Errors[mode])
			continue
		}
		if f["icmp_mode"] != ModeUnprivileged || f["ok"] != true || f["received"] != float64(3) {
			t.Errorf("mode %s: %v, want icmp_mode=unprivileged ok=true received=3", mode, f)
		}
	}
}

// The kernel's default range, "1 0", admits nobody: unprivileged must fail
// clearly and auto must fall back to raw sockets. A fresh namespace has that
// default whatever the host says; the host itself is checked too when it
// still has it.
func TestIntegrationPingDefaultRangeFallsBack(t *testing.T) {
	testenv.RequireIntegration(t, "netns, raw ICMP")
	check := func(t *testing.T, res helperResult) {
		if msg := res.Errors["unprivileged"]; !strings.Contains(msg, "ping_group_range") || !strings.Contains(msg, "mode unprivileged") {
			t.Errorf("mode unprivileged: error %q, want one that names the mode and ping_group_range", msg)
		}
		if f := res.Fields["auto"]; f["icmp_mode"] != ModePrivileged || f["ok"] != true {
			t.Errorf("mode auto: %v (error %q), want icmp_mode=privileged ok=true", f, res.Errors["auto"])
		}
	}
	t.Run("netns", func(t *testing.T) {
		ns := testenv.NewNetns(t)
		var res helperResult
		ns.RunHelper(t, "TestHelperPingModes", &res, "PROBITY_PING_MODES=unprivileged,auto")
		if res.Range != "1 0" {
			t.Fatalf("a new namespace has ping_group_range %q, expected the kernel default 1 0", res.Range)
		}
		check(t, res)
	})
	t.Run("host", func(t *testing.T) {
		testenv.RequireRoot(t)
		b, err := os.ReadFile(groupRangeFile)
		if err != nil {
			testenv.Unavailable(t, "reading %s: %v", groupRangeFile, err)
		}
		if g, err := parseGroupRange(string(b)); err != nil || g.covers(ourGroups()) {
			t.Skipf("the host's ping_group_range %q admits us; the netns case covers the default", strings.TrimSpace(string(b)))
		}
		res := helperResult{Fields: map[string]map[string]any{}, Errors: map[string]string{}}
		for _, mode := range []string{"unprivileged", "auto"} {
			c := Defaults
			c.Targets = []Target{{Host: "127.0.0.1"}}
			c.Count, c.Interval, c.Mode = 3, 10*time.Millisecond, mode
			pts, err := runOnce(t, c)
			if err != nil {
				res.Errors[mode] = err.Error()
				continue
			}
			res.Fields[mode] = pts[0].Fields
		}
		t.Logf("host, mode unprivileged: %s", res.Errors["unprivileged"])
		check(t, res)
	})
}
