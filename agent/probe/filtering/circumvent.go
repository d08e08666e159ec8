package filtering

import (
	"context"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/probity-edu/probity/agent/probe"
	"github.com/probity-edu/probity/agent/probe/filtering/classify"
	"github.com/probity-edu/probity/internal/point"
)

// dnsOnly judges a canary name by its DNS answer alone: NXDOMAIN, or an
// answer without an address, is what makes Firefox turn automatic DoH off
// and Apple devices turn iCloud Private Relay off, so it is blocked.
func (p *Prober) dnsOnly(ctx context.Context, host string) classify.Result {
	ctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()
	ans, err := classify.Lookup(ctx, p.resolver, host)
	switch {
	case err != nil:
		return lookupError(err, p.cfg.TimeoutIsBlock)
	case ans.NXDomain:
		return classify.Result{Outcome: classify.Blocked, Mechanism: classify.DNSNXDomain, Detail: host}
	case len(ans.Addrs) == 0:
		return classify.Result{Outcome: classify.Blocked, Mechanism: classify.DNSNXDomain, Detail: "no address (NODATA)"}
	}
	if a, ok := classify.Sinkhole(ans.Addrs, classify.Options{SinkholeAddrs: p.sinkhole, AllowPrivate: p.cfg.AllowPrivate}); ok {
		return classify.Result{Outcome: classify.Blocked, Mechanism: classify.DNSSinkhole, Detail: a.String()}
	}
	return classify.Result{Outcome: classify.Allowed, Detail: strings.Join(ans.Chain(), ",")}
}

// lookupError is the Result of a lookup that got no answer: silence is
// judged like a silent server, anything else is an error.
func lookupError(err error, timeoutIsBlock bool) classify.Result {
	if probe.Classify(err) == probe.Timeout {
		if timeoutIsBlock {
			return classify.Result{Outcome: classify.Blocked, Mechanism: classify.Timeout, Detail: "dns", Error: "dns: " + err.Error()}
		}
		return classify.Result{Outcome: classify.Error, Mechanism: classify.Timeout, Detail: "dns", Error: "dns: " + err.Error()}
	}
	return classify.Result{Outcome: classify.Error, Error: "dns: " + err.Error()}
}

// ports tries a TCP connection to each VPN port of the school's test
// endpoint, directly (VPN clients do not use the web proxy): connected is
// allowed, refused or reset is blocked by tcp_reset, silence is an error
// unless timeout_is_block. One point per port, target "<id>:<port>".
func (p *Prober) ports(ctx context.Context, t task, tags map[string]string) []point.Point {
	host := t.target.Host
	var addr netip.Addr
	var lookupRes *classify.Result
	if a, err := netip.ParseAddr(host); err == nil {
		addr = a
	} else {
		lctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
		ans, err := classify.Lookup(lctx, p.resolver, host)
		cancel()
		switch {
		case err != nil:
			r := lookupError(err, p.cfg.TimeoutIsBlock)
			lookupRes = &r
		case ans.NXDomain || len(ans.Addrs) == 0:
			lookupRes = &classify.Result{Outcome: classify.Blocked, Mechanism: classify.DNSNXDomain, Detail: host}
		default:
			addr = ans.Addrs[0]
		}
	}
	var pts []point.Point
	for _, port := range t.target.Ports {
		tg := make(map[string]string, len(tags))
		for k, v := range tags {
			tg[k] = v
		}
		tg["target"] = t.target.ID + ":" + strconv.Itoa(port)
		target := net.JoinHostPort(host, strconv.Itoa(port))
		if lookupRes != nil {
			pts = append(pts, p.filterPoint(tg, t, target, *lookupRes))
			continue
		}
		began := time.Now()
		r := p.dialPort(ctx, netip.AddrPortFrom(addr, uint16(port)))
		r.DurationMs = probe.Ms(time.Since(began))
		pts = append(pts, p.filterPoint(tg, t, target, r))
	}
	return pts
}

func (p *Prober) dialPort(ctx context.Context, ap netip.AddrPort) classify.Result {
	ctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()
	c, err := (&net.Dialer{}).DialContext(ctx, "tcp", ap.String())
	if err == nil {
		c.Close()
		return classify.Result{Outcome: classify.Allowed, Detail: "connected to " + ap.String()}
	}
	switch probe.Classify(err) {
	case probe.Refused:
		return classify.Result{Outcome: classify.Blocked, Mechanism: classify.TCPReset, Error: err.Error()}
	case probe.Timeout:
		if p.cfg.TimeoutIsBlock {
			return classify.Result{Outcome: classify.Blocked, Mechanism: classify.Timeout, Error: err.Error()}
		}
		return classify.Result{Outcome: classify.Error, Mechanism: classify.Timeout, Error: err.Error()}
	}
	return classify.Result{Outcome: classify.Error, Error: err.Error()}
}
