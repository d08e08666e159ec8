package wan

import (
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/probity-edu/probity/agent/probe"
	"github.com/probity-edu/probity/internal/testenv"
)

// The failover rig: the agent runs in a namespace joined to the host by two
// veth links, the primary and the backup connection. The collector runs in
// this test process on the host, bound to link 1's host address only; the
// agent reaches it over link 1 until the test takes that link down and,
// about 3 s later, routes the same address over link 2, as a router's
// failover would. The collector then sees the agent come from link 2's
// address: a new public address, after a measured gap.
//
// Timeline, from the helper's first connect (t0), in seconds:
//
//	run A   0 .. 3.5    whoami at 1: first address (link 1)
//	run B   3.5 .. 9    whoami at 6.5 (still link 1); link 1 down at 7.6
//	run C   9 .. 15.5   route over link 2 at 10.6; whoami at 13: link 2
//
// so the outage starts in run B, is still going when B ends, and ends in C.
const (
	cutAt     = 7600 * time.Millisecond
	restoreAt = 10600 * time.Millisecond
)

var helperRuns = []time.Duration{5 * time.Second, 7 * time.Second, 8 * time.Second}

type helperPoint struct {
	Measurement string
	Tags        map[string]string
	Fields      map[string]any
}

type failoverResult struct {
	Runs [][]helperPoint
	Err  string
}

// TestHelperFailover runs inside the agent namespace (see
// TestIntegrationFailover): three consecutive runs of one Prober against
// the collector at PROBITY_WAN_COLLECTOR.
func TestHelperFailover(t *testing.T) {
	if !testenv.IsHelper(t) {
		t.Skip("helper process only")
	}
	c := Defaults
	c.Every, c.ConnectTimeout = 250*time.Millisecond, 500*time.Millisecond
	p, err := New(c, probe.Deps{Collector: &probe.Collector{URL: os.Getenv("PROBITY_WAN_COLLECTOR"), Token: testToken, Client: &http.Client{}}})
	if err != nil {
		t.Fatal(err)
	}
	var res failoverResult
	for _, d := range helperRuns {
		ctx, cancel := context.WithTimeout(context.Background(), d)
		pts, err := p.Run(ctx)
		cancel()
		if err != nil {
			res.Err = err.Error()
			break
		}
		var run []helperPoint
		for _, pt := range pts {
			run = append(run, helperPoint{pt.Measurement, pt.Tags, pt.Fields})
		}
		res.Runs = append(res.Runs, run)
	}
	testenv.WriteHelperResult(t, res)
}

func TestIntegrationFailover(t *testing.T) {
	testenv.RequireIntegration(t, "a namespace with two links to the host, one taken down mid-run")
	ns := testenv.NewNetns(t)
	link1, link2 := ns.AddVeth(t), ns.AddVeth(t)
	ln, err := net.Listen("tcp", net.JoinHostPort(link1.HostAddr.Addr().String(), "0"))
	if err != nil {
		t.Fatal(err)
	}
	srv := startCollector(t, ln)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var cut, restored time.Duration // when the changes were made, from t0
	switched := make(chan struct{})
	go func() {
		defer close(switched)
		select {
		case <-srv.first:
		case <-ctx.Done():
			return
		}
		t0 := time.Now()
		ip := func(args ...string) {
			if out, err := exec.CommandContext(ctx, "ip", append([]string{"-n", ns.Name}, args...)...).CombinedOutput(); err != nil {
				t.Errorf("ip -n %s %s: %v: %s", ns.Name, strings.Join(args, " "), err, out)
			}
		}
		time.Sleep(time.Until(t0.Add(cutAt)))
		ip("link", "set", link1.NSIf, "down")
		cut = time.Since(t0)
		time.Sleep(time.Until(t0.Add(restoreAt)))
		ip("route", "add", link1.HostAddr.Addr().String()+"/32", "via", link2.HostAddr.Addr().String(), "dev", link2.NSIf)
		restored = time.Since(t0)
	}()

	var res failoverResult
	ns.RunHelper(t, "TestHelperFailover", &res, "PROBITY_WAN_COLLECTOR="+srv.URL)
	cancel()
	<-switched
	if res.Err != "" {
		t.Fatalf("helper: Run failed: %s", res.Err)
	}
	if len(res.Runs) != len(helperRuns) {
		t.Fatalf("helper returned %d runs, want %d", len(res.Runs), len(helperRuns))
	}
	t.Logf("link 1 down at t0+%s, route over link 2 at t0+%s: a gap of %s", cut, restored, restored-cut)
	reach := make([]map[string]any, len(res.Runs))
	paths := make([][]map[string]any, len(res.Runs))
	for i, run := range res.Runs {
		for _, p := range run {
			switch p.Measurement {
			case "reachability":
				reach[i] = p.Fields
			case "wan_path":
				paths[i] = append(paths[i], p.Fields)
			}
		}
		t.Logf("run %c: reachability %v; wan_path %v", 'A'+i, reach[i], paths[i])
		if reach[i] == nil {
			t.Fatalf("run %c has no reachability point", 'A'+i)
		}
	}
	addr1, addr2 := link1.NSAddr.Addr().String(), link2.NSAddr.Addr().String()

	// Run A: a healthy primary, first seen.
	if len(paths[0]) != 1 || paths[0][0]["address"] != addr1 || paths[0][0]["changed"] != false || paths[0][0]["previous"] != "" {
		t.Errorf("run A wan_path %v, want the first observation of %s", paths[0], addr1)
	}
	if reach[0]["failures"] != 0.0 {
		t.Errorf("run A: %v failures before anything was cut", reach[0]["failures"])
	}
	// Run B: the outage begins and is still going when the run ends.
	if reach[1]["outage_ongoing"] != true || reach[1]["outages"] != 0.0 {
		t.Errorf("run B: outage_ongoing=%v outages=%v, want an outage still going and none ended",
			reach[1]["outage_ongoing"], reach[1]["outages"])
	}
	if reach[1]["result"] != string(probe.Unreachable) {
		t.Errorf("run B result %v, want unreachable (link 1 is down: no route)", reach[1]["result"])
	}
	if len(paths[1]) != 0 {
		t.Errorf("run B wan_path %v, want none (asked before the cut)", paths[1])
	}
	// Run C: the outage ends, measured whole across the run boundary, and
	// the collector sees the backup link's address.
	if reach[2]["outages"] != 1.0 {
		t.Fatalf("run C outages = %v, want 1", reach[2]["outages"])
	}
	gap := reach[2]["longest_outage_s"].(float64)
	if gap < 2 || gap >= 6 {
		t.Errorf("measured outage %.2fs, want about the %s the route was missing (2s to 6s)", gap, restored-cut)
	}
	if len(paths[2]) != 1 {
		t.Fatalf("run C wan_path %v, want one change", paths[2])
	}
	w := paths[2][0]
	if w["changed"] != true || w["previous"] != addr1 || w["address"] != addr2 {
		t.Errorf("run C wan_path %v, want changed from %s to %s", w, addr1, addr2)
	}
	if g, _ := w["gap_s"].(float64); g <= 0 || g != gap {
		t.Errorf("wan_path gap_s = %v, want the outage just measured (%.3fs)", w["gap_s"], gap)
	}
}
