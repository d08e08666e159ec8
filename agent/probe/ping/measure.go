package ping

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"syscall"
	"time"

	probing "github.com/prometheus-community/pro-bing"

	"github.com/probity-edu/probity/agent/probe"
	"github.com/probity-edu/probity/internal/point"
)

// promptRTT is the round-trip time below which a target is pinged one echo
// per pro-bing Pinger. A Pinger polls its socket with read deadlines (50 µs
// growing to about 100 ms) for as long as it runs, so one Pinger for a whole
// run of count echoes wakes the agent some 25 times a second per target even
// on a LAN. A Pinger per echo listens only while its echo is in flight: a
// handful of wake-ups when the reply is back within a millisecond or two,
// more than one long Pinger for slower paths, where the run falls back to it.
const promptRTT = 2 * time.Millisecond

// perEchoMinInterval is the shortest interval between echoes at which a
// Pinger per echo pays: below it a long Pinger has few idle polls between
// echoes, and opening a socket per echo costs more (measured on loopback,
// CPU per run against one long Pinger: about half at 200 ms, the same at
// 100 ms, 1.5 times at 20 ms).
const perEchoMinInterval = 100 * time.Millisecond

// measure pings one target, the i-th of the configuration. A target that
// does not answer is a point with ok=false; the error is only for a socket
// that could not be opened.
func (p *Prober) measure(ctx context.Context, i int, t Target, privileged bool) (point.Point, error) {
	start := p.now()
	tags := map[string]string{"target": t.Host}
	if t.Role != "" {
		tags["role"] = t.Role
	}
	fields := map[string]any{"icmp_mode": modeName(privileged), "sent": int64(0), "received": int64(0)}
	pt := point.New("ping", tags, fields, start)
	log := p.log.With("target", t.Host)

	ip, err := resolve(ctx, p.resolver, t.Host)
	if err != nil {
		log.Debug("ping: resolving target", "err", err)
		setResult(fields, probe.DNSError)
		return pt, nil
	}

	// Every echo's reply may arrive until the target's deadline, however
	// the echoes are spread over Pingers: count × interval + 2 s by default,
	// as with one Pinger for the run.
	began := time.Now()
	deadline := began.Add(p.cfg.TargetTimeout())
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	if !deadline.After(began) || ctx.Err() != nil {
		setResult(fields, probe.Timeout)
		return pt, nil
	}
	r := &pingRun{p: p, ip: ip, privileged: privileged, deadline: deadline, log: log}
	if p.slow[i].Load() || p.cfg.Interval < perEchoMinInterval {
		r.pinger(ctx, p.cfg.Count)
	} else {
		r.echoes(ctx, began)
	}
	p.slow[i].Store(!r.prompt())

	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.opened && r.openErr != nil {
		if privileged && errors.Is(r.openErr, syscall.EPERM) {
			return pt, fmt.Errorf("ping %s: opening a raw ICMP socket: %w: the agent needs CAP_NET_RAW (the package grants it where net.ipv4.ping_group_range leaves its group out: reinstall or see docs/install.md), or widen ping_group_range", t.Host, r.openErr)
		}
		return pt, fmt.Errorf("ping %s: opening %s ICMP socket: %w", t.Host, modeName(privileged), r.openErr)
	}
	if r.sendErr != nil || r.runErr != nil {
		// The counts still hold what was measured before the failure.
		log.Debug("ping: run ended early", "send_err", r.sendErr, "err", r.runErr)
	}

	fields["sent"] = int64(r.sent)
	fields["received"] = int64(r.recv)
	if r.sent > 0 {
		fields["loss_pct"] = float64(r.sent-r.recv) / float64(r.sent) * 100
	}
	if s, ok := summarize(r.rtts); ok {
		fields["rtt_min_ms"] = probe.Ms(s.Min)
		fields["rtt_avg_ms"] = probe.Ms(s.Avg)
		fields["rtt_max_ms"] = probe.Ms(s.Max)
		fields["rtt_p95_ms"] = probe.Ms(s.P95)
		if s.HasJitter {
			fields["jitter_ms"] = probe.Ms(s.Jitter)
		}
	}
	setResult(fields, outcome(r.recv, r.sendErr))
	return pt, nil
}

// pingRun is one target's run, possibly over several Pingers: what they
// sent and received, and the replies' RTTs in the order they arrived.
type pingRun struct {
	p          *Prober
	ip         *net.IPAddr
	privileged bool
	deadline   time.Time
	log        *slog.Logger

	mu         sync.Mutex
	sent, recv int
	rtts       []time.Duration
	opened     bool  // some Pinger opened its socket
	openErr    error // why a Pinger could not
	sendErr    error // the first one: why nothing may have come back
	runErr     error
}

// echoes sends the run's echoes one Pinger each, at the configured
// interval from began, while replies come back within promptRTT. At the
// first echo that is not answered that soon (slow, lost, or not back when
// the next is due), the rest of the run goes to one Pinger, and the
// unanswered echo's Pinger keeps listening until the deadline, so a late
// reply still counts as it would with one Pinger.
func (r *pingRun) echoes(ctx context.Context, began time.Time) {
	var wg sync.WaitGroup
	defer wg.Wait()
	interval := r.p.cfg.Interval
	for i := range r.p.cfg.Count {
		due := began.Add(time.Duration(i) * interval)
		if !due.Before(r.deadline) || !sleepUntil(ctx, due) {
			return
		}
		prompt := make(chan bool, 1)
		wg.Go(func() { prompt <- r.pinger(ctx, 1) })
		next := due.Add(interval)
		wait := time.NewTimer(time.Until(next))
		select {
		case ok := <-prompt:
			wait.Stop()
			if ok {
				continue
			}
		case <-wait.C:
		case <-ctx.Done():
			wait.Stop()
			return
		}
		r.mu.Lock()
		failed := !r.opened && r.openErr != nil
		r.mu.Unlock()
		if rest := r.p.cfg.Count - i - 1; rest > 0 && !failed && next.Before(r.deadline) && sleepUntil(ctx, next) {
			r.pinger(ctx, rest)
		}
		return
	}
}

// pinger runs one pro-bing Pinger for count echoes until they are answered
// or the deadline passes, adding what it measured to the run. It reports
// whether every echo was answered within promptRTT.
func (r *pingRun) pinger(ctx context.Context, count int) bool {
	timeout := time.Until(r.deadline)
	if timeout <= 0 {
		return false
	}
	r.p.pingers.Add(1)
	pg := probing.New(r.ip.String())
	pg.SetIPAddr(r.ip)
	pg.SetPrivileged(r.privileged)
	pg.SetLogger(slogAdapter{r.log})
	pg.Count = count
	pg.Interval = r.p.cfg.Interval
	pg.Size = r.p.cfg.Size
	pg.Timeout = timeout
	// OnSetup and OnRecv run before RunWithContext returns, in one goroutine
	// (the Pinger's receive loop); OnSendError may run in another.
	var (
		opened bool
		prompt = true
		got    int
	)
	pg.OnSetup = func() { opened = true }
	pg.OnRecv = func(pkt *probing.Packet) {
		got++
		if pkt.Rtt >= r.p.promptRTT {
			prompt = false
		}
		r.mu.Lock()
		r.rtts = append(r.rtts, pkt.Rtt)
		r.mu.Unlock()
	}
	pg.OnSendError = func(_ *probing.Packet, err error) {
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.sendErr == nil {
			r.sendErr = err
		}
	}
	err := pg.RunWithContext(ctx)
	st := pg.Statistics()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent += st.PacketsSent
	r.recv += st.PacketsRecv
	r.opened = r.opened || opened
	if err != nil {
		if !opened && r.openErr == nil {
			r.openErr = err
		}
		if r.runErr == nil {
			r.runErr = err
		}
	}
	return opened && got == count && prompt
}

// prompt reports whether every echo of the run was answered within
// promptRTT: the next run then starts one Pinger per echo again, and
// otherwise with one Pinger for the whole run.
func (r *pingRun) prompt() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return isPrompt(r.p.cfg.Count, r.recv, r.rtts, r.p.promptRTT)
}

// isPrompt is prompt's rule: all count echoes answered, each within limit.
func isPrompt(count, received int, rtts []time.Duration, limit time.Duration) bool {
	if received < count {
		return false
	}
	for _, rtt := range rtts {
		if rtt >= limit {
			return false
		}
	}
	return true
}

// sleepUntil waits until t or until ctx is done, reporting which came
// first (true: t).
func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// outcome classifies a target's run: any reply is ok; otherwise the send
// error says why (unreachable, error), and silence is a timeout.
func outcome(received int, sendErr error) probe.Outcome {
	if received > 0 {
		return probe.OK
	}
	if sendErr != nil {
		if o := probe.Classify(sendErr); o != probe.OK {
			return o
		}
	}
	return probe.Timeout
}

func setResult(fields map[string]any, o probe.Outcome) {
	fields["ok"] = o == probe.OK
	fields["result"] = string(o)
}

// resolve returns host as an address, looking it up only when it is not an
// IP literal. IPv4 is preferred: many school networks have no IPv6 route.
func resolve(ctx context.Context, r *net.Resolver, host string) (*net.IPAddr, error) {
	if ip := net.ParseIP(host); ip != nil {
		return &net.IPAddr{IP: ip}, nil
	}
	addrs, err := r.LookupIPAddr(ctx, host)
	if err != nil {
		return nil, err
	}
	if len(addrs) == 0 {
		return nil, &net.DNSError{Err: "no addresses", Name: host, IsNotFound: true}
	}
	for _, a := range addrs {
		if a.IP.To4() != nil {
			return &a, nil
		}
	}
	return &addrs[0], nil
}

// slogAdapter sends pro-bing's log lines to slog at debug level: it logs a
// failed send at every interval, which is too loud for anything higher.
type slogAdapter struct{ l *slog.Logger }

func (a slogAdapter) Fatalf(f string, v ...any) { a.l.Debug("pro-bing: " + fmt.Sprintf(f, v...)) }
func (a slogAdapter) Errorf(f string, v ...any) { a.l.Debug("pro-bing: " + fmt.Sprintf(f, v...)) }
func (a slogAdapter) Warnf(f string, v ...any)  { a.l.Debug("pro-bing: " + fmt.Sprintf(f, v...)) }
func (a slogAdapter) Infof(f string, v ...any)  { a.l.Debug("pro-bing: " + fmt.Sprintf(f, v...)) }
func (a slogAdapter) Debugf(f string, v ...any) { a.l.Debug("pro-bing: " + fmt.Sprintf(f, v...)) }
