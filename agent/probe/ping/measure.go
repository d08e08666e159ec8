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

// measure pings one target. A target that does not answer is a point with
// ok=false; the error is only for a socket that could not be opened.
func (p *Prober) measure(ctx context.Context, t Target, privileged bool) (point.Point, error) {
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

	pg := probing.New(ip.String())
	pg.SetIPAddr(ip)
	pg.SetPrivileged(privileged)
	pg.SetLogger(slogAdapter{log})
	pg.Count = p.cfg.Count
	pg.Interval = p.cfg.Interval
	pg.Size = p.cfg.Size
	pg.Timeout = p.cfg.TargetTimeout()
	if dl, ok := ctx.Deadline(); ok {
		pg.Timeout = min(pg.Timeout, time.Until(dl))
	}
	if pg.Timeout <= 0 || ctx.Err() != nil {
		setResult(fields, probe.Timeout)
		return pt, nil
	}
	var (
		mu      sync.Mutex
		sendErr error // the first one: why nothing may have come back
		opened  bool
	)
	pg.OnSetup = func() { opened = true }
	pg.OnSendError = func(_ *probing.Packet, err error) {
		mu.Lock()
		defer mu.Unlock()
		if sendErr == nil {
			sendErr = err
		}
	}
	runErr := pg.RunWithContext(ctx)
	if !opened && runErr != nil {
		if privileged && errors.Is(runErr, syscall.EPERM) {
			return pt, fmt.Errorf("ping %s: opening a raw ICMP socket: %w: the agent needs CAP_NET_RAW (the package grants it where net.ipv4.ping_group_range leaves its group out: reinstall or see docs/install.md), or widen ping_group_range", t.Host, runErr)
		}
		return pt, fmt.Errorf("ping %s: opening %s ICMP socket: %w", t.Host, modeName(privileged), runErr)
	}
	st := pg.Statistics()
	mu.Lock()
	defer mu.Unlock()
	if sendErr != nil || runErr != nil {
		// The statistics still hold what was measured before the failure.
		log.Debug("ping: run ended early", "send_err", sendErr, "err", runErr)
	}

	fields["sent"] = int64(st.PacketsSent)
	fields["received"] = int64(st.PacketsRecv)
	if st.PacketsSent > 0 {
		fields["loss_pct"] = float64(st.PacketsSent-st.PacketsRecv) / float64(st.PacketsSent) * 100
	}
	if s, ok := summarize(st.Rtts); ok {
		fields["rtt_min_ms"] = probe.Ms(s.Min)
		fields["rtt_avg_ms"] = probe.Ms(s.Avg)
		fields["rtt_max_ms"] = probe.Ms(s.Max)
		fields["rtt_p95_ms"] = probe.Ms(s.P95)
		if s.HasJitter {
			fields["jitter_ms"] = probe.Ms(s.Jitter)
		}
	}
	setResult(fields, outcome(st.PacketsRecv, sendErr))
	return pt, nil
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
