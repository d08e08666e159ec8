// Package throughput measures broadband download and upload speed the way
// a lab instrument would: several TCP streams and one, the rate sampled
// every 100 ms with the ramp-up discarded and a robust estimate of the
// steady state, idle and loaded latency, TCP_INFO per stream, and a flag
// when the agent's own host was the bottleneck. The method and its
// reasoning are in docs/throughput.md.
package throughput

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"strconv"
	"sync"
	"time"

	"github.com/probity-edu/probity/agent/probe"
	"github.com/probity-edu/probity/agent/snmp"
	"github.com/probity-edu/probity/internal/point"
)

// Measurement is the name of the points this probe writes.
const Measurement = "throughput"

// Prober runs throughput tests. It keeps the day's byte count between runs.
type Prober struct {
	cfg   Config
	deps  probe.Deps
	log   *slog.Logger
	sysfs string

	mu       sync.Mutex
	day      string             // local date the byte count is for
	used     int64              // bytes moved today
	lastMbps map[string]float64 // by direction, to foresee a test's bytes
	wan      WANCounters        // the internet link's counters; nil: none
}

// New builds a Prober. Without a server in the config it tests against the
// collector, which must then be known.
func New(c Config, d probe.Deps) (*Prober, error) {
	d = d.WithDefaults()
	if c.Server == "" && c.Method == "http" && d.Collector == nil {
		d.Log.Warn("throughput: no server configured and the agent is not enrolled; tests will fail until it is")
	}
	if c.Method == "iperf3" {
		if _, err := exec.LookPath("iperf3"); err != nil {
			return nil, errors.New("throughput: method iperf3 needs the iperf3 program (apt-get install iperf3)")
		}
	}
	p := &Prober{cfg: c, deps: d, log: d.Log, sysfs: "/sys", lastMbps: map[string]float64{}}
	switch {
	case c.WAN.SNMP != nil:
		t := c.WAN.SNMP.WithDefaults()
		if t.Name == "" {
			t.Name = "wan-router"
		}
		client, err := snmp.NewClient(t)
		if err != nil {
			return nil, fmt.Errorf("throughput: wan.snmp: %w", err)
		}
		p.wan = &SNMPInterface{Client: client, Name: c.WAN.Interface}
	case c.WAN.Interface != "":
		p.wan = LocalInterface{Name: c.WAN.Interface}
	}
	return p, nil
}

// Tests is how many transfers one run makes: the run's deadline must fit
// them (see the agent's kinds.go).
func (c Config) Tests() int {
	n := len(c.Directions)
	if c.SingleStream && c.Streams > 1 {
		n *= 2
	}
	return n
}

// target is where a run's tests go.
type target struct {
	name    string // the `server` tag
	rttAddr string // host:port for handshake RTT
	http    *httpTest
	iperf   *iperf3Test
}

func (p *Prober) target() (target, error) {
	c := p.cfg
	if c.Method == "iperf3" {
		host, port, err := hostPort(c.Server, 5201)
		if err != nil {
			return target{}, err
		}
		bin, err := exec.LookPath("iperf3")
		if err != nil {
			return target{}, errors.New("the iperf3 program is not installed")
		}
		addr := net.JoinHostPort(host, strconv.Itoa(port))
		return target{name: nameOr(c.Name, addr), rttAddr: addr, iperf: &iperf3Test{bin: bin, host: host, port: port, every: c.SampleEvery}}, nil
	}
	base, token := c.Server, ""
	var tlsConf *tls.Config
	if p.deps.Collector != nil {
		token = p.deps.Collector.Token
		if tr, ok := p.deps.Collector.Client.Transport.(*http.Transport); ok && tr.TLSClientConfig != nil {
			tlsConf = tr.TLSClientConfig.Clone()
		}
		if base == "" {
			base = p.deps.Collector.URL
		}
	}
	if base == "" {
		return target{}, errors.New("no speed-test server: set throughput.server or enrol the agent with a collector")
	}
	u, err := url.Parse(base)
	if err != nil {
		return target{}, err
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	addr := net.JoinHostPort(u.Hostname(), port)
	return target{name: nameOr(c.Name, u.Host), rttAddr: addr,
		http: &httpTest{base: trimSlash(base), token: token, tls: tlsConf, every: c.SampleEvery, grace: c.Grace}}, nil
}

func nameOr(name, def string) string {
	if name != "" {
		return name
	}
	return def
}

func trimSlash(s string) string {
	for len(s) > 0 && s[len(s)-1] == '/' {
		s = s[:len(s)-1]
	}
	return s
}

// Run makes every configured test, one after the other, and returns one
// point per test. A failed test is a point with ok=false and its reason.
func (p *Prober) Run(ctx context.Context) ([]point.Point, error) {
	c := p.cfg
	now := p.deps.Now()
	tg, err := p.target()
	if err != nil {
		return nil, fmt.Errorf("throughput: %w", err)
	}
	if c.LatencyTarget != "" {
		tg.rttAddr = c.LatencyTarget
	}
	probeRTT := rtt{addr: tg.rttAddr, timeout: 2 * time.Second}
	idle, idleOK := probeRTT.idle(ctx, 5, 100*time.Millisecond)
	h := findHost(c.Interface, tg.rttAddr, p.sysfs)

	modes := []int{c.Streams}
	if c.SingleStream && c.Streams > 1 {
		modes = append(modes, 1)
	}
	var pts []point.Point
	for _, dir := range c.Directions {
		for _, streams := range modes {
			if ctx.Err() != nil {
				return pts, nil
			}
			pt := p.test(ctx, tg, probeRTT, h, dir, streams)
			if idleOK {
				pt.Fields["idle_rtt_ms"] = probe.Ms(idle)
				if l, ok := pt.Fields["loaded_rtt_ms"].(float64); ok {
					pt.Fields["bufferbloat_ms"] = l - probe.Ms(idle)
				}
			}
			if pt.Time.IsZero() {
				pt.Time = now
			}
			pts = append(pts, pt)
		}
	}
	return pts, nil
}

// test runs one transfer and makes its point.
func (p *Prober) test(ctx context.Context, tg target, probeRTT rtt, h host, dir string, streams int) point.Point {
	c := p.cfg
	mode := "multi"
	if streams == 1 && c.Streams > 1 {
		mode = "single"
	}
	tags := map[string]string{"server": tg.name, "direction": dir, "method": c.Method,
		"streams": strconv.Itoa(streams), "mode": mode, "probe_limited": "false"}
	fields := map[string]any{}
	pt := point.New(Measurement, tags, fields, p.deps.Now())
	if c.DailyBudget > 0 {
		if need, used, ok := p.reserve(dir, pt.Time); !ok {
			fields["ok"], fields["result"] = false, "budget"
			fields["error"] = fmt.Sprintf("skipped: about %s more would pass the daily budget of %s (%s used today)",
				human(need), human(int64(c.DailyBudget)), human(used))
			fields["bytes_today"] = used
			return pt
		}
	}

	wanBefore, wanOK := p.wanCounters(ctx)
	busy := cpuBusy()
	loaded := probeRTT.start(ctx, c.LatencyEvery, c.Grace)
	var tr transfer
	var rep iperf3Report
	if tg.iperf != nil {
		tr, rep = tg.iperf.run(ctx, dir, streams, c.Duration)
	} else {
		tr = tg.http.run(ctx, dir, streams, c.Duration)
	}
	rtts, rttFail := loaded.finish()
	cpuPct, cpuOK := busy()
	wanAfter, wanAfterOK := p.wanCounters(ctx)
	used := p.account(dir, tr.Bytes, pt.Time)

	fields["bytes"] = tr.Bytes
	fields["bytes_today"] = used
	fields["duration_s"] = tr.Elapsed.Seconds()
	fields["samples"] = int64(len(tr.Samples))
	if cpuOK {
		fields["cpu_pct"] = cpuPct
	}
	if h.nicMbps > 0 {
		fields["nic_mbps"] = h.nicMbps
	}
	if len(rtts) > 0 {
		fields["loaded_rtt_ms"] = median(rtts) / 1e6
		fields["loaded_rtt_p90_ms"] = quantile(rtts, 0.9) / 1e6
	}
	if rttFail > 0 {
		fields["loaded_rtt_failures"] = int64(rttFail)
	}
	if tr.Err != nil {
		fields["ok"], fields["result"] = false, string(probe.Classify(tr.Err))
		fields["error"] = errorText(tr, c.Duration)
		return pt
	}
	est := EstimateRate(tr.Samples, c.Grace, tr.Bytes, tr.Elapsed)
	if est.Steady == 0 {
		fields["ok"], fields["result"] = false, string(probe.Error)
		fields["error"] = "no steady-state samples: the test was too short for its grace period"
		return pt
	}
	fields["ok"], fields["result"] = true, string(probe.OK)
	fields["mbps"] = est.Mbps
	fields["mbps_p90"] = est.P90
	fields["mbps_mean"] = est.Mean
	fields["ramp_s"] = est.Ramp.Seconds()
	fields["stable"] = !est.Unstable
	if tr.ServerBytes >= 0 {
		fields["server_bytes"] = tr.ServerBytes
	}

	infos := tr.Infos
	if tg.iperf != nil {
		fields["retrans"] = rep.End.SumSent.Retransmits
		if rep.End.SumSent.Bytes > 0 {
			var rttSum float64
			for _, s := range rep.End.Streams {
				rttSum += s.Sender.MeanRTT
			}
			if n := len(rep.End.Streams); n > 0 && rttSum > 0 {
				fields["tcp_rtt_ms"] = rttSum / float64(n) / 1000
			}
		}
	} else if len(infos) > 0 {
		var retrans, segs uint32
		var rttSum float64
		for _, in := range infos {
			retrans += in.TotalRetrans
			segs += in.SegsOut
			if dir == "upload" {
				rttSum += float64(in.RTTus)
			} else {
				rttSum += float64(in.RcvRTTus)
			}
		}
		if dir == "upload" {
			fields["retrans"] = int64(retrans)
			if segs > 0 {
				fields["retrans_pct"] = 100 * float64(retrans) / float64(segs)
			}
		}
		if rttSum > 0 {
			fields["tcp_rtt_ms"] = rttSum / float64(len(infos)) / 1000
		}
	}
	lim := judge(est.Mbps, h, cpuPct, cpuOK, dir, infos)
	fields["limit_reason"] = lim.reason
	if lim.haveTCP {
		fields["rwnd_limited_pct"] = lim.rwndPct
		fields["sndbuf_limited_pct"] = lim.sndbufPct
	}
	if lim.probeLimited {
		tags["probe_limited"] = "true"
	}
	if wanOK && wanAfterOK && tr.Elapsed > 0 {
		// The WAN interface's receive side carries downloads, transmit uploads.
		moved := int64(wanAfter.rx - wanBefore.rx)
		if dir == "upload" {
			moved = int64(wanAfter.tx - wanBefore.tx)
		}
		// Interface counters count whole frames; the test's bytes are TCP
		// payload. Its own frames carry about 66 bytes of Ethernet, IP and
		// TCP headers (timestamps on) per 1448-byte segment.
		onWire := int64(float64(tr.Bytes) * (1 + 66.0/1448))
		other := max(moved-onWire, 0)
		fields["wan_mbps"] = float64(moved) * 8 / tr.Elapsed.Seconds() / 1e6
		fields["cross_mbps"] = float64(other) * 8 / tr.Elapsed.Seconds() / 1e6
	}
	p.mu.Lock()
	p.lastMbps[dir] = est.Mbps
	p.mu.Unlock()
	return pt
}

// errorText says why a test failed, and how far it got.
func errorText(tr transfer, dur time.Duration) string {
	if tr.Elapsed > 0 && tr.Bytes > 0 {
		return fmt.Sprintf("cut after %.1fs of %s, %s moved: %v", tr.Elapsed.Seconds(), dur, human(tr.Bytes), tr.Err)
	}
	return tr.Err.Error()
}

// reserve checks that a test in dir fits in today's budget, judging its
// size from the last rate in that direction (a first test always runs).
func (p *Prober) reserve(dir string, now time.Time) (need, used int64, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rollDay(now)
	need = int64(p.lastMbps[dir] * 1e6 / 8 * p.cfg.Duration.Seconds())
	return need, p.used, p.used+need <= int64(p.cfg.DailyBudget)
}

// account adds a test's bytes to today's count and returns the total.
func (p *Prober) account(_ string, b int64, now time.Time) int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rollDay(now)
	p.used += b
	return p.used
}

func (p *Prober) rollDay(now time.Time) {
	if d := now.Local().Format(time.DateOnly); d != p.day {
		p.day, p.used = d, 0
	}
}

// human writes a byte count the way people read it.
func human(b int64) string {
	switch {
	case b >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(b)/(1<<30))
	case b >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
	default:
		return fmt.Sprintf("%d bytes", b)
	}
}
