package throughput

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/probity-edu/probity/internal/wire"
)

// transfer is one test in one direction: what was moved and how fast.
type transfer struct {
	Samples     []Sample
	Bytes       int64         // delivered: read by us, or acknowledged by the server
	Elapsed     time.Duration // from the first stream's start to the end
	Infos       []StreamInfo  // TCP_INFO per stream at the end (Linux)
	ServerBytes int64         // upload: what the server says it received; -1 unknown
	Err         error         // why the test failed; nil when it ran its course
}

// uploadPayload is written over and over by every upload: random, so no
// compression on the path can flatter the result; shared, so a test
// allocates nothing per stream but its read buffer. Made at the first
// upload, not at start: an agent without a throughput probe never holds
// its megabyte.
var uploadPayload = sync.OnceValue(func() []byte {
	b := make([]byte, 1<<20)
	_, _ = rand.Read(b)
	return b
})

// httpTest runs tests against a Probity speed-test server.
type httpTest struct {
	base  string // URL without a trailing slash
	token string
	tls   *tls.Config
	every time.Duration
	grace time.Duration
}

// counting remembers every connection a transport dials, so the sampler
// can read TCP_INFO from them.
type counting struct {
	mu    sync.Mutex
	conns []net.Conn
}

func (c *counting) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	conn, err := (&net.Dialer{Timeout: 10 * time.Second}).DialContext(ctx, network, addr)
	if tc, ok := conn.(*net.TCPConn); ok && err == nil {
		// Go turns Nagle off; for bulk data it only adds short segments
		// (and CPU) when a shaped line holds the sender back. iperf3 keeps it on.
		_ = tc.SetNoDelay(false)
	}
	if err == nil {
		c.mu.Lock()
		c.conns = append(c.conns, conn)
		c.mu.Unlock()
	}
	return conn, err
}

func (c *counting) snapshot() []net.Conn {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]net.Conn(nil), c.conns...)
}

// run moves data in direction dir over streams connections for dur.
func (h *httpTest) run(ctx context.Context, dir string, streams int, dur time.Duration) transfer {
	cc := &counting{}
	tr := &http.Transport{
		DialContext:        cc.dial,
		TLSClientConfig:    h.tls,
		TLSNextProto:       map[string]func(string, *tls.Conn) http.RoundTripper{}, // HTTP/1.1: one TCP connection per stream
		DisableCompression: true,
		DisableKeepAlives:  true,
		// The read buffer stays small on purpose: a chunked body is read in
		// pieces no longer than a chunk, and bufio reads straight into the
		// caller's buffer only when that is at least as long as its own, so
		// a large buffer here would copy every byte once more. The write
		// buffer stays small for the same reason (see payloadReader.WriteTo).
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}

	var (
		delivered atomic.Int64 // download: bytes read; upload: bytes written (fallback only)
		errOnce   sync.Once
		firstErr  error
		serverB   atomic.Int64 // upload: the server's counts, summed
		reported  atomic.Int64 // upload: streams whose count came back
		wg        sync.WaitGroup
	)
	fail := func(err error) { errOnce.Do(func() { firstErr = err }) }
	start := time.Now()
	deadline := start.Add(dur)
	// Downloads stop by cancelling their requests at the deadline; uploads
	// stop by ending their bodies, so the server's answer still arrives.
	reqCtx, cancelReqs := context.WithCancel(ctx)
	defer cancelReqs()

	for i := 0; i < streams; i++ {
		wg.Go(func() {
			var err error
			if dir == "download" {
				err = h.download(reqCtx, client, dur, &delivered)
			} else {
				var n int64
				n, err = h.upload(reqCtx, client, deadline, &delivered)
				if err == nil {
					serverB.Add(n)
					reported.Add(1)
				}
			}
			if err != nil && !(dir == "download" && reqCtx.Err() != nil && time.Now().After(deadline)) {
				fail(err)
			}
		})
	}

	// Sample until the deadline; the last sample also reads TCP_INFO while
	// the connections are still open.
	var out transfer
	out.ServerBytes = -1
	t := time.NewTicker(h.every)
	prevBytes, prevAt := int64(0), time.Duration(0)
	lowatSet := false
	// Upload bytes are what the server acknowledged. A stream whose body
	// ended and whose connection closed just before a sample keeps its last
	// reading; without TCP_INFO at all (not Linux), bytes written count.
	lastInfo := map[net.Conn]StreamInfo{}
	measure := func() (int64, []StreamInfo) {
		if dir == "download" {
			return delivered.Load(), nil
		}
		var acked int64
		infos := make([]StreamInfo, 0, streams)
		for _, c := range cc.snapshot() {
			in, ok := tcpInfo(c)
			if ok {
				lastInfo[c] = in
			} else if in, ok = lastInfo[c]; !ok {
				return delivered.Load(), nil
			}
			infos = append(infos, in)
			acked += int64(in.BytesAcked)
		}
		return acked, infos
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
loop:
	for {
		select {
		case <-ctx.Done():
			fail(fmt.Errorf("cut short: %w", ctx.Err()))
			break loop
		case <-done:
			if time.Now().Before(deadline.Add(-h.every)) {
				fail(errors.New("every stream ended before the test's time was up"))
			}
			break loop
		case now := <-t.C:
			at := now.Sub(start)
			b, infos := measure()
			if d := at - prevAt; d > 0 {
				out.Samples = append(out.Samples, Sample{At: at, Mbps: float64(b-prevBytes) * 8 / d.Seconds() / 1e6})
			}
			prevBytes, prevAt = b, at
			if dir == "download" && !lowatSet && at >= h.grace && b > 0 {
				// Past the ramp: let each stream's reader wake for about
				// 25 ms of data rather than for every packet.
				lowatSet = true
				perStream := float64(b) / at.Seconds() / float64(streams)
				setRcvLowat(cc.snapshot(), int(perStream/40))
			}
			if !now.Before(deadline) {
				out.Bytes, out.Elapsed = b, at
				out.Infos = infos
				if dir == "download" {
					out.Infos = downloadInfos(cc.snapshot())
				}
				break loop
			}
		}
	}
	t.Stop()
	if dir == "download" {
		cancelReqs()
	}
	<-done
	if out.Elapsed == 0 {
		out.Bytes, out.Elapsed = prevBytes, prevAt
	}
	if dir == "upload" && reported.Load() == int64(streams) {
		out.ServerBytes = serverB.Load()
	}
	if firstErr != nil {
		out.Err = firstErr
	}
	return out
}

func downloadInfos(conns []net.Conn) []StreamInfo {
	var infos []StreamInfo
	for _, c := range conns {
		if in, ok := tcpInfo(c); ok {
			infos = append(infos, in)
		}
	}
	return infos
}

// statusError reads a refusal's reason from the body.
func statusError(resp *http.Response) error {
	var e struct {
		Error string `json:"error"`
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	_ = json.Unmarshal(b, &e)
	msg := e.Error
	if msg == "" {
		msg = http.StatusText(resp.StatusCode)
	}
	if resp.StatusCode == http.StatusUnauthorized {
		return fmt.Errorf("server refused the agent's credential (401): %s", msg)
	}
	return fmt.Errorf("server answered %d: %s", resp.StatusCode, msg)
}

func (h *httpTest) download(ctx context.Context, client *http.Client, dur time.Duration, n *atomic.Int64) error {
	// Ask for a little more than we read, so the server never stops first.
	secs := int(math.Ceil(dur.Seconds())) + 2
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.base+wire.SpeedtestDownloadPath+"?seconds="+strconv.Itoa(secs), nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+h.token)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return statusError(resp)
	}
	buf := make([]byte, 256<<10)
	for {
		k, err := resp.Body.Read(buf)
		n.Add(int64(k))
		if err == io.EOF {
			return errors.New("server ended the download early")
		}
		if err != nil {
			return err
		}
	}
}

// payloadReader yields the upload payload until the deadline.
type payloadReader struct {
	deadline time.Time
	off      int
	n        *atomic.Int64
}

func (r *payloadReader) Read(p []byte) (int, error) {
	if !time.Now().Before(r.deadline) {
		return 0, io.EOF
	}
	payload := uploadPayload()
	k := copy(p, payload[r.off:])
	r.off = (r.off + k) % len(payload)
	r.n.Add(int64(k))
	return k, nil
}

// WriteTo hands the transport whole slices of the payload, so the bytes
// are not first copied through io.Copy's buffer (net/http uses WriteTo
// when the body has it).
func (r *payloadReader) WriteTo(w io.Writer) (int64, error) {
	const slice = 256 << 10
	var total int64
	payload := uploadPayload()
	for time.Now().Before(r.deadline) {
		end := min(r.off+slice, len(payload))
		k, err := w.Write(payload[r.off:end])
		total += int64(k)
		r.n.Add(int64(k))
		if r.off = end; r.off == len(payload) {
			r.off = 0
		}
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

func (h *httpTest) upload(ctx context.Context, client *http.Client, deadline time.Time, n *atomic.Int64) (int64, error) {
	// seconds tells the server when the body will end, so it can stop
	// batching its reads (SO_RCVLOWAT) before the last bytes arrive.
	secs := strconv.FormatFloat(time.Until(deadline).Seconds(), 'f', 3, 64)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.base+wire.SpeedtestUploadPath+"?seconds="+secs, &payloadReader{deadline: deadline, n: n})
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+h.token)
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, statusError(resp)
	}
	var got wire.SpeedtestUpload
	if err := json.NewDecoder(io.LimitReader(resp.Body, 4<<10)).Decode(&got); err != nil {
		return 0, fmt.Errorf("reading the server's upload count: %w", err)
	}
	return got.Bytes, nil
}
