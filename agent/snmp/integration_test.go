package snmp

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func v2Target(name, addr string) Target {
	return Target{Name: name, Address: addr, Community: testCommunity}
}

func v3Target(addr, user, auth, authPass, privPass string) Target {
	return Target{Name: "v3-" + user, Address: addr, Version: V3, User: user, AuthProtocol: auth,
		AuthPassphrase: authPass, PrivProtocol: "AES", PrivPassphrase: privPass}
}

func newClient(t *testing.T, tg Target) *Client {
	t.Helper()
	c, err := NewClient(tg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestIntegrationGetAndColumns reads the system group and the interface
// tables of a real snmpd over v2c and SNMPv3 authPriv (SHA/AES and
// SHA-256/AES).
func TestIntegrationGetAndColumns(t *testing.T) {
	addr := startSnmpd(t)
	for _, tg := range []Target{
		v2Target("v2c", addr),
		v3Target(addr, "u1", "SHA", u1Auth, u1Priv),
		v3Target(addr, "u2", "SHA-256", u2Auth, u2Priv),
	} {
		t.Run(tg.Name, func(t *testing.T) {
			c := newClient(t, tg)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			got, err := c.Get(ctx, []string{oidSysName, "." + oidSysUpTime, "1.3.6.1.2.1.1.99.0"})
			if err != nil {
				t.Fatal(err)
			}
			if s := got["."+oidSysName].String(); s != testSysName {
				t.Errorf("sysName = %q, want %q (%v)", s, testSysName, got)
			}
			if up := got["."+oidSysUpTime]; up.Kind != KindTimeTicks {
				t.Errorf("sysUpTime = %+v, want TimeTicks", up)
			}
			if v := got[".1.3.6.1.2.1.1.99.0"]; !v.Missing() {
				t.Errorf("a missing OID should come back as NoSuchObject, got %+v", v)
			}
			// 28 scalars: two GETs (20 + 8).
			var many []string
			for i := 1; i <= 7; i++ {
				many = append(many, "1.3.6.1.2.1.1."+strconv.Itoa(i)+".0")
			}
			for col := 1; col <= 21; col++ {
				many = append(many, "1.3.6.1.2.1.2.2.1."+strconv.Itoa(col)+".1")
			}
			before := c.Answers()
			all, err := c.Get(ctx, many)
			if err != nil {
				t.Fatal(err)
			}
			if len(all) != len(many) || c.Answers()-before != 2 {
				t.Errorf("Get of %d OIDs: %d values in %d requests, want all in 2", len(many), len(all), c.Answers()-before)
			}
			tab, err := c.Columns(ctx, []string{oidIfDescr, oidIfInOctets, oidIfName, oidIfHCInOct})
			if err != nil {
				t.Fatal(err)
			}
			descr := tab["."+oidIfDescr]
			var names []string
			for idx, v := range descr {
				names = append(names, v.String())
				if _, _, ok := tab["."+oidIfInOctets][idx].Counter(); !ok {
					t.Errorf("ifInOctets.%s = %+v, want a Counter32", idx, tab["."+oidIfInOctets][idx])
				}
				if n, bits, ok := tab["."+oidIfHCInOct][idx].Counter(); !ok || bits != 64 {
					t.Errorf("ifHCInOctets.%s = %d %d %v, want a Counter64", idx, n, bits, ok)
				}
				if tab["."+oidIfName][idx].String() == "" {
					t.Errorf("ifName.%s missing", idx)
				}
			}
			if !slices.Contains(names, "lo") {
				t.Errorf("interfaces %v: want the loopback among them", names)
			}
			n := 0
			if err := c.Walk(ctx, "1.3.6.1.2.1.2.2", func(oid string, v Value) error {
				if !strings.HasPrefix(oid, ".1.3.6.1.2.1.2.2.") {
					t.Errorf("walk left its root: %s", oid)
				}
				n++
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if n < 10*len(descr) {
				t.Errorf("ifTable walk gave %d values for %d interfaces", n, len(descr))
			}
			t.Logf("%d interfaces %v, ifTable %d values, malformed %d", len(descr), names, n, c.Malformed())
		})
	}
}

// TestIntegrationReasons checks what each kind of wrong setup looks like.
func TestIntegrationReasons(t *testing.T) {
	addr := startSnmpd(t)
	quick := func(tg Target) Target { tg.Timeout, tg.Retries = 300*time.Millisecond, -1; return tg }
	for _, tc := range []struct {
		name string
		tg   Target
		want string
	}{
		{"wrong auth passphrase", v3Target(addr, "u1", "SHA", "wrongpass1", u1Priv), ReasonAuth},
		{"wrong auth protocol", v3Target(addr, "u2", "SHA", u2Auth, u2Priv), ReasonAuth},
		{"unknown user", v3Target(addr, "nobody", "SHA", u1Auth, u1Priv), ReasonAuth},
		// The agent drops it without a reply, like a dead device.
		{"wrong community", Target{Name: "c", Address: addr, Community: "wrong"}, ReasonTimeout},
		{"closed port", v2Target("closed", "127.0.0.1:"+strconv.Itoa(freeUDPPort(t))), ReasonRefused},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(t, quick(tc.tg))
			_, err := c.Get(context.Background(), []string{oidSysName})
			if got := Reason(err); got != tc.want {
				t.Errorf("Reason = %q, want %q (%v)", got, tc.want, err)
			}
		})
	}
	// A wrong privacy passphrase is dropped silently by net-snmp; the
	// poller finds out by checking that the device answers authNoPriv.
	t.Run("wrong priv passphrase", func(t *testing.T) {
		var logs bytes.Buffer
		tg := quick(v3Target(addr, "u1", "SHA", u1Auth, "wrongpriv1"))
		tg.Budget = 2 * time.Second
		p, err := NewPoller([]Target{tg}, 1, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo})))
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		for cycle := range 2 {
			r := p.Poll(context.Background(), getSysName)[0]
			if r.Reachable || r.Reason != ReasonAuth || !errors.Is(r.Err, ErrPrivacy) {
				t.Errorf("cycle %d: reachable=%v reason=%q err=%v, want unreachable, auth, ErrPrivacy", cycle, r.Reachable, r.Reason, r.Err)
			}
		}
		if n := strings.Count(logs.String(), "snmp poll failed"); n != 1 {
			t.Errorf("failure logged %d times over 2 cycles, want once:\n%s", n, logs.String())
		}
	})
}

type sysInfo struct {
	name string
	rows int
}

func getSysName(ctx context.Context, c *Client) (any, error) {
	v, err := c.Get(ctx, []string{oidSysName, oidSysUpTime})
	if err != nil {
		return nil, err
	}
	return sysInfo{name: v["."+oidSysName].String()}, nil
}

func pollIfTable(ctx context.Context, c *Client) (any, error) {
	v, err := c.Get(ctx, []string{oidSysName, oidSysUpTime})
	if err != nil {
		return nil, err
	}
	tab, err := c.Columns(ctx, []string{oidIfDescr, oidIfInOctets, oidIfHCInOct})
	if err != nil {
		return nil, err
	}
	return sysInfo{name: v["."+oidSysName].String(), rows: len(tab["."+oidIfDescr])}, nil
}

// TestIntegrationPollerDeadAndSlow polls four healthy agents together with
// one that never answers and one behind a relay that delays every packet;
// with two workers and small budgets every healthy device still completes.
func TestIntegrationPollerDeadAndSlow(t *testing.T) {
	var healthy []string
	for range 4 {
		healthy = append(healthy, startSnmpd(t))
	}
	slow := startRelay(t, healthy[0], 300*time.Millisecond, 0)
	dead := blackhole(t)
	budget := func(tg Target) Target {
		tg.Timeout, tg.Retries, tg.Budget = 500*time.Millisecond, 1, 1500*time.Millisecond
		return tg
	}
	targets := []Target{budget(v2Target("dead", dead)), budget(v2Target("slow", slow.addr))}
	for i, a := range healthy {
		targets = append(targets, budget(v2Target("healthy-"+strconv.Itoa(i), a)))
	}
	var logs bytes.Buffer
	p, err := NewPoller(targets, 2, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo})))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for cycle := range 2 {
		results := p.Poll(context.Background(), pollIfTable)
		if len(results) != len(targets) {
			t.Fatalf("%d results for %d devices", len(results), len(targets))
		}
		completed := 0
		for _, r := range results {
			t.Logf("cycle %d %s: reachable=%v reason=%q poll=%s err=%v data=%+v", cycle, r.Device, r.Reachable, r.Reason, r.Duration.Round(time.Millisecond), r.Err, r.Data)
			if strings.HasPrefix(r.Device, "healthy-") && r.Err == nil && r.Reachable {
				if d, ok := r.Data.(sysInfo); ok && d.name == testSysName && d.rows > 0 {
					completed++
				}
			}
		}
		if completed != 4 {
			t.Errorf("cycle %d: %d of 4 healthy devices completed", cycle, completed)
		}
		if r := results[0]; r.Device != "dead" || r.Reachable || r.Reason != ReasonTimeout {
			t.Errorf("dead device: %+v, want reachable=false reason=timeout", r)
		}
	}
	if n := strings.Count(logs.String(), `msg="snmp poll failed" device=dead`); n != 1 {
		t.Errorf("dead device logged %d times in 2 cycles, want once:\n%s", n, logs.String())
	}
}

// TestIntegrationAdaptiveRepetitions walks through a relay that drops every
// response larger than a typical path MTU: with the configured 50
// repetitions nothing gets through, so the walk only completes because the
// client halves max-repetitions after each timeout.
func TestIntegrationAdaptiveRepetitions(t *testing.T) {
	addr := startSnmpd(t)
	ctx := context.Background()
	direct := newClient(t, v2Target("direct", addr))
	var want []string
	if err := direct.Walk(ctx, "1.3.6.1.2.1.2", func(oid string, _ Value) error { want = append(want, oid); return nil }); err != nil {
		t.Fatal(err)
	}
	r := startRelay(t, addr, 0, 500)
	tg := v2Target("lossy", r.addr)
	tg.Timeout, tg.Retries, tg.MaxRepetitions = 200*time.Millisecond, -1, 50
	c := newClient(t, tg)
	var got []string
	if err := c.Walk(ctx, "1.3.6.1.2.1.2", func(oid string, _ Value) error { got = append(got, oid); return nil }); err != nil {
		t.Fatalf("walk through the lossy relay: %v", err)
	}
	relayed, dropped, largest := r.counts()
	t.Logf("%d values; relay passed %d responses and dropped %d (largest %d bytes); repetitions now %d", len(got), relayed, dropped, largest, c.Repetitions())
	if !slices.Equal(got, want) {
		t.Errorf("walk through the relay gave %d values, direct %d", len(got), len(want))
	}
	if dropped == 0 {
		t.Fatalf("the relay dropped nothing (largest response %d bytes): the test does not exercise halving", largest)
	}
	// No check of the final value: after the walk's last, small responses
	// it may have grown back to 50. That the walk completed through a relay
	// that drops every 50-repetition answer is the proof of halving.
}
