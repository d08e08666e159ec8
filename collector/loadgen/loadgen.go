// Package loadgen simulates many schools' agents writing to one or more
// collectors (issue 11): each school sends a real school's measurement mix
// (mix.go) at real intervals, or compressed by a speed-up, batched,
// gzipped and identified as probity-agent ships them, and the run is
// summed up as points/s, ingest latency percentiles and errors. It is the
// engine of `probity-collector loadgen` and of the load benchmark in
// test/e2e.
package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/influxdata/line-protocol/v2/lineprotocol"
	"github.com/klauspost/compress/gzip"

	"github.com/probity-edu/probity/internal/point"
	"github.com/probity-edu/probity/internal/wire"
)

// Agent is one simulated school's enrolled agent.
type Agent struct {
	Site       string `json:"site"`
	AgentID    string `json:"agent_id"`
	Credential string `json:"credential"`
}

// LoadAgents reads agents saved by SaveAgents; a missing file is none.
func LoadAgents(path string) ([]Agent, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var as []Agent
	if err := json.Unmarshal(b, &as); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return as, nil
}

// SaveAgents writes agents (credentials included) readable by the owner only.
func SaveAgents(path string, as []Agent) error {
	b, err := json.MarshalIndent(as, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}

// Enrol exchanges a one-time token for a credential as probity-agent does.
func Enrol(ctx context.Context, c *http.Client, collector, token, hostname string) (Agent, error) {
	body, _ := json.Marshal(wire.EnrolRequest{Token: token, Hostname: hostname, Version: "loadgen"})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(collector, "/")+wire.EnrolPath, bytes.NewReader(body))
	if err != nil {
		return Agent{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return Agent{}, fmt.Errorf("enrol at %s: %w", collector, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return Agent{}, fmt.Errorf("enrol at %s: status %d: %s", collector, resp.StatusCode, bytes.TrimSpace(raw))
	}
	var er wire.EnrolResponse
	if err := json.Unmarshal(raw, &er); err != nil || er.Credential == "" {
		return Agent{}, fmt.Errorf("enrol at %s: unreadable answer %q", collector, raw)
	}
	return Agent{Site: er.Site, AgentID: er.AgentID, Credential: er.Credential}, nil
}

// Options configure a run.
type Options struct {
	// Collectors are base URLs; each school sends its batches to them in
	// turn, as an agent behind a load balancer would land.
	Collectors []string
	Agents     []Agent // one per school
	// Speedup divides every interval (1 = real time).
	Speedup  float64
	Duration time.Duration
	// BatchEvery is how often a school ships what it has (the agent's
	// ship.batch_every, 10 s); not divided by Speedup.
	BatchEvery time.Duration
	// MaxBatch caps the points in one batch (default 5,000).
	MaxBatch int
	// Concurrency caps POSTs in flight over all schools; 0 is one per school.
	Concurrency int
	// Drain is how long after Duration queued batches may still be sent
	// (default BatchEvery and 10 s: each school sends its last batch at its
	// own next shipping time, up to BatchEvery after the end).
	Drain time.Duration
	// Progress, when set, gets a line every ProgressEvery.
	Progress      io.Writer
	ProgressEvery time.Duration
	Seed          uint64
	// Mix is what each school sends (default Mix()).
	Mix    []Source
	Client *http.Client
}

// Result sums a run up.
type Result struct {
	Schools        int              `json:"schools"`
	Collectors     int              `json:"collectors"`
	Speedup        float64          `json:"speedup"`
	Seconds        float64          `json:"seconds"`
	Batches        int64            `json:"batches"`
	BatchesOK      int64            `json:"batches_ok"`
	OfferedPoints  int64            `json:"offered_points"`
	AcceptedPoints int64            `json:"accepted_points"`
	OfferedPerSec  float64          `json:"offered_per_sec"`
	AcceptedPerSec float64          `json:"accepted_per_sec"`
	P50ms          float64          `json:"p50_ms"`
	P95ms          float64          `json:"p95_ms"`
	P99ms          float64          `json:"p99_ms"`
	Errors         map[string]int64 `json:"errors,omitempty"`
	// Backlog is the points still queued when the drain ended.
	Backlog int64 `json:"backlog_points"`
}

// KeptUp is the load benchmark's criterion: the collector accepted at
// least 95% of the points offered, with a p99 ingest latency under 1 s.
func (r Result) KeptUp() bool {
	return r.OfferedPoints > 0 && float64(r.AcceptedPoints) >= 0.95*float64(r.OfferedPoints) && r.P99ms < 1000
}

func (r Result) String() string {
	s := fmt.Sprintf("%d schools, %.0f s: %d batches (%d ok), %d of %d points accepted, %.0f points/s (offered %.0f/s); ingest latency p50 %.1f ms, p95 %.1f ms, p99 %.1f ms",
		r.Schools, r.Seconds, r.Batches, r.BatchesOK, r.AcceptedPoints, r.OfferedPoints, r.AcceptedPerSec, r.OfferedPerSec, r.P50ms, r.P95ms, r.P99ms)
	if len(r.Errors) > 0 {
		keys := make([]string, 0, len(r.Errors))
		for k := range r.Errors {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var es []string
		for _, k := range keys {
			es = append(es, fmt.Sprintf("%s: %d", k, r.Errors[k]))
		}
		s += "; errors " + strings.Join(es, ", ")
	} else {
		s += "; no errors"
	}
	if r.Backlog > 0 {
		s += fmt.Sprintf("; %d points never sent", r.Backlog)
	}
	return s
}

// Latencies collects durations and answers percentiles (nearest rank).
type Latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

// Add records one duration.
func (l *Latencies) Add(d time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, d)
	l.mu.Unlock()
}

// Take returns the durations recorded and forgets them.
func (l *Latencies) Take() []time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	d := l.d
	l.d = nil
	return d
}

// Percentile is the nearest-rank p-th percentile (0 < p <= 100) of ds,
// which it sorts; 0 for none.
func Percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	rank := int(math.Ceil(p / 100 * float64(len(ds))))
	return ds[min(max(rank, 1), len(ds))-1]
}

// School is one simulated agent's schedule: its sources, each due at its
// own phase.
type School struct {
	rng   *rand.Rand
	mix   []Source
	every []time.Duration
	due   []time.Time
}

// NewSchool starts the mix at start with random phases; intervals are
// divided by speedup.
func NewSchool(mix []Source, start time.Time, speedup float64, seed uint64) *School {
	s := &School{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), mix: mix}
	for _, src := range mix {
		e := time.Duration(float64(src.Every) / speedup)
		e = max(e, time.Millisecond)
		s.every = append(s.every, e)
		s.due = append(s.due, start.Add(time.Duration(s.rng.Int64N(int64(e)))))
	}
	return s
}

// AppendDue appends to lp the lines of every run due at or before now,
// stamped with the time each run was due, and returns how many it
// appended.
func (s *School) AppendDue(lp []byte, now time.Time) ([]byte, int) {
	n := 0
	for i, src := range s.mix {
		for !s.due[i].After(now) {
			var k int
			lp, k = src.Append(lp, s.rng, s.due[i])
			n += k
			s.due[i] = s.due[i].Add(s.every[i])
		}
	}
	return lp, n
}

// Due is AppendDue as points, decoded as the collector decodes them: for
// tests, and for benchmarks of what the collector does with them.
func (s *School) Due(now time.Time) ([]point.Point, error) {
	lp, _ := s.AppendDue(nil, now)
	return point.Decode(lp, lineprotocol.Nanosecond, now)
}

// gzipper is a compressor and its output buffer, reused from batch to
// batch: the generator's allocations are the collector's GC pressure too.
type gzipper struct {
	zw  *gzip.Writer
	buf bytes.Buffer
}

var gzippers = sync.Pool{New: func() any {
	// As the agent's shipper compresses (agent/ship): stateless, so that
	// the load generator spends its share of the cores on a few KiB a
	// batch rather than a new 0.8 MiB compressor.
	zw, err := gzip.NewWriterLevel(nil, gzip.StatelessCompression)
	if err != nil {
		panic(err) // a constant level
	}
	return &gzipper{zw: zw}
}}

// EncodeBatch is a batch body as an agent sends it: lp, line protocol,
// gzipped. The body is lp's own copy.
func EncodeBatch(lp []byte) ([]byte, error) {
	g := gzippers.Get().(*gzipper)
	defer gzippers.Put(g)
	g.buf.Reset()
	g.zw.Reset(&g.buf)
	if _, err := g.zw.Write(lp); err != nil {
		return nil, err
	}
	if err := g.zw.Close(); err != nil {
		return nil, err
	}
	return bytes.Clone(g.buf.Bytes()), nil
}

// lineBufs hold the lines of a school's round of probes until they are
// sealed into batches: shared, rather than one per school, as thousands
// of schools take turns on a few cores.
var lineBufs = sync.Pool{New: func() any { return new([]byte) }}

// cutLines splits lp, lines, into its first k lines and the rest.
func cutLines(lp []byte, k int) (head, rest []byte) {
	end := 0
	for range k {
		i := bytes.IndexByte(lp[end:], '\n')
		if i < 0 {
			return lp, nil
		}
		end += i + 1
	}
	return lp[:end], lp[end:]
}

// sealBatches appends to queue the n lines of lp as batches of at most
// maxPoints points each, in order.
func sealBatches(queue []batch, lp []byte, n, maxPoints int) ([]batch, error) {
	for n > 0 {
		k := min(n, maxPoints)
		var head []byte
		head, lp = cutLines(lp, k)
		body, err := EncodeBatch(head)
		if err != nil {
			return queue, err
		}
		queue = append(queue, batch{id: wire.NewBatchID(), body: body, points: k})
		n -= k
	}
	return queue, nil
}

type batch struct {
	id     string
	body   []byte
	points int
}

type counters struct {
	batches, batchesOK, offered, accepted atomic.Int64
	mu                                    sync.Mutex
	errors                                map[string]int64
	all, window                           Latencies
}

func (c *counters) fail(kind string) {
	c.mu.Lock()
	c.errors[kind]++
	c.mu.Unlock()
}

// Run drives the schools until Duration has passed (or ctx ends), drains
// what is queued for up to Drain, and sums up.
func Run(ctx context.Context, o Options) (Result, error) {
	if len(o.Collectors) == 0 || len(o.Agents) == 0 {
		return Result{}, errors.New("loadgen: no collectors or no agents")
	}
	if o.Speedup <= 0 {
		o.Speedup = 1
	}
	if o.BatchEvery <= 0 {
		o.BatchEvery = 10 * time.Second
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = 5000
	}
	if o.Drain <= 0 {
		o.Drain = o.BatchEvery + 10*time.Second
	}
	if o.ProgressEvery <= 0 {
		o.ProgressEvery = 5 * time.Second
	}
	if o.Client == nil {
		conns := len(o.Agents)
		if o.Concurrency > 0 {
			conns = min(conns, o.Concurrency)
		}
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConns, tr.MaxIdleConnsPerHost = conns+16, conns+16
		tr.DisableCompression = true
		o.Client = &http.Client{Transport: tr, Timeout: 60 * time.Second}
		defer tr.CloseIdleConnections()
	}
	urls := make([]string, len(o.Collectors))
	for i, c := range o.Collectors {
		urls[i] = strings.TrimRight(c, "/") + wire.WritePath
	}
	var sem chan struct{}
	if o.Concurrency > 0 {
		sem = make(chan struct{}, o.Concurrency)
	}
	c := &counters{errors: map[string]int64{}}
	mix := o.Mix
	if mix == nil {
		mix = Mix()
	}
	start := time.Now()
	end := start.Add(o.Duration)
	genCtx, stopGen := context.WithDeadline(ctx, end)
	defer stopGen()
	sendCtx, stopSend := context.WithDeadline(ctx, end.Add(o.Drain))
	defer stopSend()

	var backlog atomic.Int64
	var wg sync.WaitGroup
	for i, a := range o.Agents {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sch := NewSchool(mix, start, o.Speedup, o.Seed+uint64(i)*7919+1)
			left := runSchool(genCtx, sendCtx, o, c, sch, a, urls, i, sem, start)
			backlog.Add(int64(left))
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()

	tick := time.NewTicker(o.ProgressEvery)
	defer tick.Stop()
	lastAcc, lastAt := int64(0), start
	for running := true; running; {
		select {
		case <-done:
			running = false
		case now := <-tick.C:
			if o.Progress == nil {
				c.window.Take()
				continue
			}
			acc := c.accepted.Load()
			w := c.window.Take()
			fmt.Fprintf(o.Progress, "%5.0fs  batches %d  points %d of %d  %.0f points/s  p99 %.0f ms  errors %d\n",
				now.Sub(start).Seconds(), c.batches.Load(), acc, c.offered.Load(),
				float64(acc-lastAcc)/now.Sub(lastAt).Seconds(), ms(Percentile(w, 99)), errCount(c))
			lastAcc, lastAt = acc, now
		}
	}
	secs := o.Duration.Seconds()
	if el := time.Since(start); el < o.Duration { // ctx ended early
		secs = el.Seconds()
	}
	all := c.all.Take()
	r := Result{
		Schools: len(o.Agents), Collectors: len(o.Collectors), Speedup: o.Speedup, Seconds: secs,
		Batches: c.batches.Load(), BatchesOK: c.batchesOK.Load(), OfferedPoints: c.offered.Load(), AcceptedPoints: c.accepted.Load(),
		P50ms: ms(Percentile(all, 50)), P95ms: ms(Percentile(all, 95)), P99ms: ms(Percentile(all, 99)),
		Errors: c.errors, Backlog: backlog.Load(),
	}
	r.OfferedPerSec = float64(r.OfferedPoints) / secs
	r.AcceptedPerSec = float64(r.AcceptedPoints) / secs
	return r, nil
}

func errCount(c *counters) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	var n int64
	for _, v := range c.errors {
		n += v
	}
	return n
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// runSchool is one agent: every BatchEvery it seals what its probes
// produced into a batch and sends its queue in order, keeping a batch that
// failed to send it again later under the same id. It returns the points
// left unsent.
func runSchool(genCtx, sendCtx context.Context, o Options, c *counters, sch *School, a Agent, urls []string, idx int, sem chan struct{}, start time.Time) int {
	var queue []batch
	var notBefore time.Time // a collector's Retry-After, honoured as the agent does
	sent := idx             // round robin over collectors, starting apart
	flush := func(ctx context.Context) {
		if time.Now().Before(notBefore) {
			return // the batches wait in the spool, as an agent's do
		}
		for len(queue) > 0 && ctx.Err() == nil {
			ok, wait := post(ctx, o, c, a, urls[sent%len(urls)], queue[0], sem)
			sent++
			if !ok {
				notBefore = time.Now().Add(wait)
				return
			}
			queue = queue[1:]
		}
	}
	// Each agent ships on its own phase.
	phase := time.Duration(rand.Int64N(int64(o.BatchEvery)))
	timer := time.NewTimer(phase)
	defer timer.Stop()
	next := start.Add(phase)
	for {
		select {
		case <-genCtx.Done():
		case <-timer.C:
		}
		// Probes run whether or not shipping keeps up: what came due is
		// offered even when the last POST took past the end.
		now, final := time.Now(), genCtx.Err() != nil
		if end := start.Add(o.Duration); final && now.After(end) {
			now = end
		}
		lp := lineBufs.Get().(*[]byte)
		var n int
		*lp, n = sch.AppendDue((*lp)[:0], now)
		c.offered.Add(int64(n))
		var err error
		if queue, err = sealBatches(queue, *lp, n, o.MaxBatch); err != nil {
			c.fail("encode: " + err.Error())
		}
		lineBufs.Put(lp)
		if final {
			break
		}
		// Sending may run into the drain; a POST is never cut off at the
		// end of generation, only at the end of the drain.
		flush(sendCtx)
		next = next.Add(o.BatchEvery)
		if d := time.Until(next); d > 0 {
			timer.Reset(d)
		} else {
			next = time.Now()
			timer.Reset(0)
		}
	}
	// Send what is left at this school's own next shipping time, not all
	// schools at the same instant (a herd no steady state has), while the
	// drain lasts.
	if d := max(min(time.Until(next), o.BatchEvery), time.Until(notBefore)); d > 0 {
		select {
		case <-time.After(d):
		case <-sendCtx.Done():
		}
	}
	flush(sendCtx)
	left := 0
	for _, b := range queue {
		left += b.points
	}
	return left
}

// post sends one batch; ok when the collector took it (stored or
// duplicate). When not, wait is how long to leave the queue before the
// next attempt: the collector's Retry-After (a busy collector's 503) as
// probity-agent clamps it, or nothing, the next shipping time being wait
// enough.
func post(ctx context.Context, o Options, c *counters, a Agent, url string, b batch, sem chan struct{}) (ok bool, wait time.Duration) {
	if sem != nil {
		select {
		case sem <- struct{}{}:
			defer func() { <-sem }()
		case <-ctx.Done():
			return false, 0
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b.body))
	if err != nil {
		c.fail("request")
		return false, 0
	}
	req.Header.Set("Content-Type", wire.ContentType)
	req.Header.Set("Content-Encoding", "gzip")
	req.Header.Set("Authorization", "Bearer "+a.Credential)
	req.Header.Set(wire.HeaderBatchID, b.id)
	req.Header.Set(wire.HeaderAgentVersion, "loadgen")
	c.batches.Add(1)
	t0 := time.Now()
	resp, err := o.Client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			c.fail("unanswered at the end") // of the drain, or interrupted
		} else {
			c.fail("network")
		}
		return false, 0
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	d := time.Since(t0)
	if resp.StatusCode != http.StatusOK {
		c.fail(strconv.Itoa(resp.StatusCode))
		if resp.StatusCode == http.StatusBadRequest {
			return true, 0 // never accepted: an agent drops it too
		}
		return false, retryAfter(resp.Header.Get("Retry-After"))
	}
	c.all.Add(d)
	c.window.Add(d)
	c.batchesOK.Add(1)
	c.accepted.Add(int64(b.points))
	return true, 0
}

// retryAfter is a Retry-After in seconds clamped as probity-agent's
// defaults clamp it (1 s to 5 min); 0 when there is none.
func retryAfter(h string) time.Duration {
	s, err := strconv.Atoi(strings.TrimSpace(h))
	if err != nil || s < 0 {
		return 0
	}
	return min(max(time.Duration(s)*time.Second, time.Second), 5*time.Minute)
}
