package wan

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/probity-edu/probity/agent/probe"
	"github.com/probity-edu/probity/internal/point"
	"github.com/probity-edu/probity/internal/wire"
)

const testToken = "agent-secret"

// collector is a real HTTP server doing what the collector does at
// wire.WhoamiPath: it answers an agent holding the token with the address
// the request came from. Every accepted connection is noted, so tests can
// see the probe's connects and the time of the first.
type collector struct {
	URL string

	mu       sync.Mutex
	accepted int
	first    chan struct{} // closed at the first accepted connection
	whoamis  []string      // RemoteAddr (ip:port) of each whoami request
}

func startCollector(t *testing.T, ln net.Listener) *collector {
	t.Helper()
	c := &collector{URL: "http://" + ln.Addr().String(), first: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+wire.WhoamiPath, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+testToken {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		c.mu.Lock()
		c.whoamis = append(c.whoamis, r.RemoteAddr)
		c.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(wire.Whoami{AgentID: "agent-1", SiteID: "oak-primary", Address: host})
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(&noteListener{Listener: ln, c: c})
	t.Cleanup(func() { srv.Close() })
	return c
}

func (c *collector) whoamiAddrs() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.whoamis...)
}

type noteListener struct {
	net.Listener
	c *collector
}

func (l *noteListener) Accept() (net.Conn, error) {
	conn, err := l.Listener.Accept()
	if err == nil {
		l.c.mu.Lock()
		if l.c.accepted == 0 {
			close(l.c.first)
		}
		l.c.accepted++
		l.c.mu.Unlock()
	}
	return conn, err
}

func listenLoopback(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// quick is a configuration for short runs: many attempts in a 2.5s
// window, the whoami wait shortened to match.
func newQuick(t *testing.T, c Config, coll *probe.Collector) *Prober {
	t.Helper()
	c.Every, c.ConnectTimeout = 100*time.Millisecond, 300*time.Millisecond
	p, err := New(c, probe.Deps{Collector: coll})
	if err != nil {
		t.Fatal(err)
	}
	p.whoamiWait = 500 * time.Millisecond
	return p
}

func runFor(t *testing.T, p *Prober, d time.Duration) []point.Point {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	pts, err := p.Run(ctx)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	for _, pt := range pts {
		if err := pt.Validate(); err != nil {
			t.Errorf("invalid point: %v", err)
		}
	}
	return pts
}

func byName(pts []point.Point, m string) []point.Point {
	var out []point.Point
	for _, p := range pts {
		if p.Measurement == m {
			out = append(out, p)
		}
	}
	return out
}

// The default target is the collector itself; a healthy path gives a
// clean reachability point, and the first whoami a wan_path point with
// no previous address. The address does not change on the next run, so
// no second wan_path point.
func TestRunAgainstCollectorOnLoopback(t *testing.T) {
	srv := startCollector(t, listenLoopback(t))
	p := newQuick(t, Defaults, &probe.Collector{URL: srv.URL, Token: testToken, Client: &http.Client{}})
	if want := strings.TrimPrefix(srv.URL, "http://"); p.Target() != want {
		t.Fatalf("target %q, want the collector's %q", p.Target(), want)
	}

	pts := runFor(t, p, 2500*time.Millisecond)
	r := byName(pts, "reachability")
	if len(r) != 1 || len(pts) != 2 {
		t.Fatalf("points %v, want one reachability and one wan_path", pts)
	}
	if r[0].Tags["target"] != p.Target() {
		t.Errorf("target tag %q", r[0].Tags["target"])
	}
	f := r[0].Fields
	checkFields(t, f, map[string]any{"failures": int64(0), "loss_pct": 0.0, "outages": int64(0),
		"ok": true, "result": "ok", "outage_ongoing": false, "whoami_ok": true})
	if n, _ := f["attempts"].(int64); n < 5 {
		t.Errorf("attempts = %v, want several in a 1.2s window at 100ms", f["attempts"])
	}
	if avg, _ := f["rtt_avg_ms"].(float64); avg <= 0 || avg > f["rtt_max_ms"].(float64) {
		t.Errorf("rtt_avg_ms %v, rtt_max_ms %v", f["rtt_avg_ms"], f["rtt_max_ms"])
	}
	// Every successful attempt is a connection the server accepted, plus
	// the whoami request's own. The server may not have called Accept for
	// the last one yet: the kernel completes the handshake first.
	want := f["attempts"].(int64) + 1
	var accepted int64
	for range 100 {
		srv.mu.Lock()
		accepted = int64(srv.accepted)
		srv.mu.Unlock()
		if accepted >= want {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if accepted != want {
		t.Errorf("server accepted %d connections, probe made %v attempts and one whoami", accepted, f["attempts"])
	}
	w := byName(pts, "wan_path")[0]
	checkFields(t, w.Fields, map[string]any{"address": "127.0.0.1", "previous": "", "changed": false, "gap_s": 0.0})
	if len(w.Tags) != 1 || w.Tags["event"] != "first" {
		t.Errorf("wan_path tags %v, want only event=first (the collector adds site and agent)", w.Tags)
	}

	pts = runFor(t, p, 2500*time.Millisecond)
	if len(byName(pts, "wan_path")) != 0 || len(byName(pts, "reachability")) != 1 {
		t.Errorf("second run: %v, want reachability only (same address)", pts)
	}
	// Each whoami opens its own connection: a keep-alive one would still
	// run over the old path after a failover.
	if a := srv.whoamiAddrs(); len(a) != 2 || a[0] == a[1] {
		t.Errorf("whoami requests came from %v, want two different connections", a)
	}
}

func TestWhoamiRefusedToken(t *testing.T) {
	srv := startCollector(t, listenLoopback(t))
	p := newQuick(t, Defaults, &probe.Collector{URL: srv.URL, Token: "wrong", Client: &http.Client{}})
	pts := runFor(t, p, 2500*time.Millisecond)
	if len(pts) != 1 {
		t.Fatalf("points %v, want reachability only", pts)
	}
	f := pts[0].Fields
	if f["whoami_ok"] != false || !strings.Contains(f["whoami_error"].(string), "401") {
		t.Errorf("whoami_ok=%v whoami_error=%v, want false and HTTP 401", f["whoami_ok"], f["whoami_error"])
	}
	if f["ok"] != true {
		t.Errorf("reachability ok=%v: the connects succeeded", f["ok"])
	}
}

// A port nobody listens on: every connect is refused, the run is one
// outage still going at its end, and a whoami that is off adds nothing.
func TestRunRefusedTarget(t *testing.T) {
	ln := listenLoopback(t)
	addr := ln.Addr().String()
	ln.Close()
	c := Defaults
	c.Target, c.Whoami = addr, false
	p := newQuick(t, c, nil)
	pts := runFor(t, p, 2500*time.Millisecond)
	if len(pts) != 1 {
		t.Fatalf("points %v", pts)
	}
	f := pts[0].Fields
	checkFields(t, f, map[string]any{"loss_pct": 100.0, "ok": false, "result": "refused", "outage_ongoing": true, "outages": int64(0)})
	for _, k := range []string{"rtt_avg_ms", "whoami_ok", "whoami_error"} {
		if _, ok := f[k]; ok {
			t.Errorf("field %s present", k)
		}
	}
	if s, _ := f["ongoing_outage_s"].(float64); s <= 0 {
		t.Errorf("ongoing_outage_s = %v", f["ongoing_outage_s"])
	}

	// Now something listens there: the next run ends the outage, counted
	// whole from the first run's first failure.
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("port %s taken meanwhile: %v", addr, err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	pts = runFor(t, p, 2500*time.Millisecond)
	f2 := pts[0].Fields
	checkFields(t, f2, map[string]any{"outages": int64(1), "outage_ongoing": false, "ok": true})
	if f2["longest_outage_s"].(float64) <= f["ongoing_outage_s"].(float64) {
		t.Errorf("longest_outage_s %v not longer than the %v already seen in the first run",
			f2["longest_outage_s"], f["ongoing_outage_s"])
	}
}

// Whoami on, but no collector (not enrolled) and an explicit target: the
// reachability point says why there is no address.
func TestWhoamiWithoutCollector(t *testing.T) {
	srv := startCollector(t, listenLoopback(t))
	c := Defaults
	c.Target = strings.TrimPrefix(srv.URL, "http://")
	p := newQuick(t, c, nil)
	f := runFor(t, p, 2500*time.Millisecond)[0].Fields
	if f["whoami_ok"] != false || !strings.Contains(f["whoami_error"].(string), "not enrolled") {
		t.Errorf("whoami_ok=%v whoami_error=%v", f["whoami_ok"], f["whoami_error"])
	}
}
