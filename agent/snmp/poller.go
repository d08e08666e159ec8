package snmp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"
)

// DefaultWorkers is how many devices a Poller polls at once by default.
const DefaultWorkers = 16

// PollFunc reads what it needs from one device. ctx carries the device's
// budget; the Client's requests stop when it ends.
type PollFunc func(ctx context.Context, c *Client) (any, error)

// Result is the outcome of one device in one cycle.
type Result struct {
	Device    string
	Address   string
	Reachable bool          // the device answered at least one request this cycle
	Reason    string        // Reason(Err): timeout, auth, refused, error; "" on success
	Err       error         // what PollFunc returned
	Duration  time.Duration // wall time of the poll, for poll_ms
	Data      any           // what PollFunc returned, possibly partial when Err is set
	Malformed int64         // values skipped this cycle for a wrong type or content
}

// Poller polls many devices each cycle with a bounded number of workers.
// Every device gets its own context with its own budget, so a device that
// never answers costs one worker for at most its budget and the others go
// on. Clients are kept between cycles (SNMPv3 engine state, adaptive
// max-repetitions).
type Poller struct {
	workers int
	log     *slog.Logger
	devices []*device
}

type device struct {
	client  *Client
	log     *slog.Logger
	streak  int  // consecutive failed cycles
	privacy bool // this streak's timeouts were found to be ErrPrivacy
	slow    bool // the last successful poll used more than slowShare of the budget
}

// NewPoller builds a client for every target. Names must be unique.
// workers <= 0 means DefaultWorkers.
func NewPoller(targets []Target, workers int, log *slog.Logger) (*Poller, error) {
	if workers <= 0 {
		workers = DefaultWorkers
	}
	if log == nil {
		log = slog.Default()
	}
	p := &Poller{workers: workers, log: log}
	seen := map[string]bool{}
	var errs []error
	for i, t := range targets {
		if seen[t.Name] {
			errs = append(errs, fmt.Errorf("snmp target %d: duplicate name %q", i, t.Name))
			continue
		}
		seen[t.Name] = true
		c, err := NewClient(t)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		p.devices = append(p.devices, &device{client: c, log: log.With("device", t.Name, "address", t.Address)})
	}
	if err := errors.Join(errs...); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

// Close closes every client.
func (p *Poller) Close() {
	for _, d := range p.devices {
		_ = d.client.Close()
	}
}

// Clients returns the clients in target order.
func (p *Poller) Clients() []*Client {
	out := make([]*Client, len(p.devices))
	for i, d := range p.devices {
		out[i] = d.client
	}
	return out
}

// Poll runs fn against every device, at most `workers` at a time, and
// returns one Result per device in target order. It returns when every
// device is done or out of budget; ctx ending stops the devices not yet
// started (their Results say timeout).
func (p *Poller) Poll(ctx context.Context, fn PollFunc) []Result {
	results := make([]Result, len(p.devices))
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range min(p.workers, len(p.devices)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				results[i] = p.pollOne(ctx, p.devices[i], fn)
			}
		}()
	}
	for i := range p.devices {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	for i, d := range p.devices {
		p.record(d, results[i])
	}
	return results
}

func (p *Poller) pollOne(ctx context.Context, d *device, fn PollFunc) (r Result) {
	t := d.client.Target()
	r = Result{Device: t.Name, Address: t.Address}
	ctx, cancel := context.WithTimeout(ctx, t.Budget)
	defer cancel()
	before, malformed := d.client.Answers(), d.client.Malformed()
	start := time.Now()
	defer func() {
		if v := recover(); v != nil {
			d.log.Error("snmp poll panicked", "panic", v, "stack", string(debug.Stack()))
			r.Err = fmt.Errorf("snmp poll panicked: %v", v)
		}
		r.Duration = time.Since(start)
		r.Reachable = d.client.Answers() > before
		r.Malformed = d.client.Malformed() - malformed
		r.Reason = Reason(r.Err)
	}()
	if err := ctx.Err(); err != nil {
		r.Err = err
		return r
	}
	r.Data, r.Err = fn(ctx, d.client)
	if r.Err == nil && ctx.Err() != nil {
		// fn swallowed the end of the budget; the data may be partial.
		r.Err = fmt.Errorf("budget of %s used up: %w", t.Budget, ctx.Err())
	}
	if r.Err != nil && d.client.Answers() == before && Reason(r.Err) == ReasonTimeout {
		// A silent SNMPv3 device may be dropping what it cannot decrypt.
		// Checked on the first failure of a streak only, so a dead device
		// costs the extra request once, not every cycle.
		switch {
		case d.streak == 0:
			r.Err = d.client.explainTimeout(context.WithoutCancel(ctx), r.Err)
			d.privacy = errors.Is(r.Err, ErrPrivacy)
		case d.privacy:
			r.Err = fmt.Errorf("%w (%w)", ErrPrivacy, r.Err)
		}
	}
	return r
}

// slowShare is the part of its budget a successful poll may use before
// the device is logged as slow: it is close to losing data.
const slowShare = 0.5

// record logs a failure streak once: its first cycle and the recovery; and
// likewise a device turning slow and fast again.
func (p *Poller) record(d *device, r Result) {
	ms := r.Duration.Milliseconds()
	if r.Err == nil {
		if d.streak > 0 {
			d.log.Info("snmp device recovered", "failed_cycles", d.streak, "poll_ms", ms)
		}
		d.streak, d.privacy = 0, false
		budget := d.client.Target().Budget
		slow := r.Duration > time.Duration(float64(budget)*slowShare)
		if slow && !d.slow {
			d.log.Warn("snmp device slow", "poll_ms", ms, "budget_ms", budget.Milliseconds())
		} else if !slow && d.slow {
			d.log.Info("snmp device no longer slow", "poll_ms", ms)
		}
		d.slow = slow
		return
	}
	d.streak++
	if d.streak == 1 {
		d.log.Warn("snmp poll failed", "reason", r.Reason, "reachable", r.Reachable, "poll_ms", ms, "err", r.Err)
	} else {
		d.log.Debug("snmp poll still failing", "reason", r.Reason, "failed_cycles", d.streak, "err", r.Err)
	}
}
