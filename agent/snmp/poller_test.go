package snmp

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// The poll functions here never touch the network: NewClient only opens a
// socket, and these tests check the pool, budgets and logging.

func TestPollerStreakLogging(t *testing.T) {
	var logs bytes.Buffer
	targets := []Target{
		{Name: "a", Address: "127.0.0.1:9", Community: "x"},
		{Name: "b", Address: "127.0.0.1:9", Community: "x"},
	}
	p, err := NewPoller(targets, 4, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	// a fails in cycles 0, 1 and 3; b never fails.
	failing := map[int]bool{0: true, 1: true, 3: true}
	for cycle := range 5 {
		res := p.Poll(context.Background(), func(ctx context.Context, c *Client) (any, error) {
			if c.Target().Name == "a" && failing[cycle] {
				return nil, errors.New("agent returned genErr")
			}
			return cycle, nil
		})
		if res[0].Device != "a" || res[1].Device != "b" || res[1].Err != nil || res[1].Data != cycle {
			t.Fatalf("cycle %d: results %+v", cycle, res)
		}
		if failing[cycle] != (res[0].Err != nil) || (res[0].Err != nil && res[0].Reason != ReasonError) {
			t.Errorf("cycle %d: a = %+v", cycle, res[0])
		}
	}
	out := logs.String()
	if f, r := strings.Count(out, `msg="snmp poll failed" device=a`), strings.Count(out, `msg="snmp device recovered" device=a`); f != 2 || r != 2 {
		t.Errorf("logged %d failures and %d recoveries of a, want 2 and 2:\n%s", f, r, out)
	}
	if strings.Contains(out, "device=b") {
		t.Errorf("healthy device b was logged:\n%s", out)
	}
}

func TestPollerBudgetAndPanic(t *testing.T) {
	targets := []Target{
		{Name: "stuck", Address: "127.0.0.1:9", Community: "x", Budget: 50 * time.Millisecond, Timeout: 10 * time.Millisecond},
		{Name: "panics", Address: "127.0.0.1:9", Community: "x"},
	}
	for i := range 8 {
		targets = append(targets, Target{Name: "ok" + string(rune('0'+i)), Address: "127.0.0.1:9", Community: "x"})
	}
	p, err := NewPoller(targets, 2, slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var running, peak atomic.Int32
	res := p.Poll(context.Background(), func(ctx context.Context, c *Client) (any, error) {
		n := running.Add(1)
		defer running.Add(-1)
		for {
			if m := peak.Load(); n <= m || peak.CompareAndSwap(m, n) {
				break
			}
		}
		switch c.Target().Name {
		case "stuck":
			<-ctx.Done() // a device that never answers, until its budget ends
			return nil, ctx.Err()
		case "panics":
			panic("bug in a poll function")
		}
		return "done", nil
	})
	if peak.Load() > 2 {
		t.Errorf("%d polls ran at once with 2 workers", peak.Load())
	}
	done := 0
	for _, r := range res {
		switch r.Device {
		case "stuck":
			if r.Reason != ReasonTimeout || r.Reachable {
				t.Errorf("stuck: %+v", r)
			}
		case "panics":
			if r.Err == nil || !strings.Contains(r.Err.Error(), "panicked") {
				t.Errorf("panics: %+v", r)
			}
		default:
			if r.Err == nil && r.Data == "done" {
				done++
			}
		}
	}
	if done != 8 {
		t.Errorf("%d of 8 devices completed", done)
	}
	if _, err := NewPoller([]Target{targets[2], targets[2]}, 1, nil); err == nil {
		t.Error("duplicate names accepted")
	}
	if _, err := NewPoller([]Target{{Name: "bad"}}, 1, nil); err == nil {
		t.Error("invalid target accepted")
	}
}

func TestPollerSlowLoggedOnce(t *testing.T) {
	var logs bytes.Buffer
	p, err := NewPoller([]Target{{Name: "sluggish", Address: "127.0.0.1:9", Community: "x", Budget: 40 * time.Millisecond, Timeout: 10 * time.Millisecond}},
		1, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for _, slow := range []bool{true, true, false, true} {
		p.Poll(context.Background(), func(ctx context.Context, c *Client) (any, error) {
			if slow {
				// Use three quarters of the budget: certainly more than half.
				d, _ := ctx.Deadline()
				time.Sleep(time.Until(d) * 3 / 4)
			}
			return nil, nil
		})
	}
	out := logs.String()
	if s, f := strings.Count(out, `msg="snmp device slow" device=sluggish`), strings.Count(out, `msg="snmp device no longer slow"`); s != 2 || f != 1 {
		t.Errorf("logged slow %d and no longer slow %d times, want 2 and 1:\n%s", s, f, out)
	}
}
