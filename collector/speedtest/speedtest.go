// Package speedtest is the server side of Probity's broadband test: an
// authenticated HTTP download that streams incompressible bytes for a
// bounded time and an upload that counts what it receives. The collector
// mounts it on its own listener; `probity-collector speedtest` runs it alone
// at a trust's network edge, authenticating agents through a token file or
// by asking the collector.
//
// It is built to run at line rate on little CPU: one random payload per
// server is written over and over in slices (a request allocates no
// payload), uploads are read into pooled buffers, and nothing is logged per
// chunk. The agent measures the rate; the server only counts bytes.
package speedtest

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/probity-edu/probity/internal/wire"
)

// Defaults of Server's limits and of a download's length.
const (
	DefaultMaxDuration   = 60 * time.Second
	DefaultMaxConcurrent = 32
	DefaultSeconds       = 10
)

// HeaderSeconds on a download's answer says how many seconds the server
// will stream: what the client asked for, or less when capped.
const HeaderSeconds = "X-Probity-Speedtest-Seconds"

const (
	// payloadSize is the random block every download repeats. Its period
	// is far beyond gzip's 32 KiB window, so compression on the path gains
	// nothing; it is a multiple of writeChunk, so slices never wrap.
	payloadSize = 4 << 20
	// writeChunk is one Write: large enough for few syscalls, small enough
	// that even a 1 Mbit/s line finishes one within about a second of the
	// test's end.
	writeChunk = 512 << 10
	// readBufSize is one upload read.
	readBufSize = 256 << 10
	// deadlineGrace lets the last write drain, or an upload's answer be
	// written, after the test's time is up; past it a client that stopped
	// reading is cut off and its slot freed.
	deadlineGrace = 10 * time.Second
	// busyRetry is Retry-After for a full server: about one test's length.
	busyRetry = "10"
)

// connKey carries the accepted connection into a request's context.
type connKey struct{}

// ConnContext is for http.Server.ConnContext: it lets the download handler
// reach its TCP connection, to turn Nagle's algorithm back on for it.
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(ctx, connKey{}, c)
}

// bulk turns Nagle's algorithm back on for a bulk transfer. Go disables it
// on every TCP connection; a sender held back by a shaped line then sends
// each trickle of freed buffer space as a short segment, which doubles the
// packets, and the CPU, for the same bytes. iperf3 leaves Nagle on too.
func bulk(r *http.Request) {
	c, _ := r.Context().Value(connKey{}).(net.Conn)
	if tc, ok := c.(interface{ NetConn() net.Conn }); ok { // TLS
		c = tc.NetConn()
	}
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(false)
	}
}

// lowat asks the kernel to wake the upload's reader only once n bytes are
// queued (clamped to 16–256 KiB; below 16 KiB nothing changes): a reader
// woken for every packet costs more in the Go scheduler than in copying.
// Reads still return what is queued, so nothing is held back at the end.
func lowat(r *http.Request, n int) {
	if n < 16<<10 && n != 1 { // 1 is the kernel's default: "wake for any data"
		return
	}
	c, _ := r.Context().Value(connKey{}).(net.Conn)
	if tc, ok := c.(interface{ NetConn() net.Conn }); ok {
		c = tc.NetConn()
	}
	sc, ok := c.(syscall.Conn)
	if !ok {
		return
	}
	if rc, err := sc.SyscallConn(); err == nil {
		_ = rc.Control(func(fd uintptr) {
			_ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVLOWAT, min(n, 256<<10))
		})
	}
}

// readBufs are upload buffers, shared by every server in the process.
var readBufs = sync.Pool{New: func() any { b := make([]byte, readBufSize); return &b }}

// Server serves SpeedtestDownloadPath and SpeedtestUploadPath. Set the
// fields, then use Handler; the zero limits take their defaults.
type Server struct {
	// Auth checks the agent's bearer credential; required.
	Auth Authenticator
	// MaxDuration caps one transfer, whatever the client asks.
	MaxDuration time.Duration
	// MaxConcurrent bounds transfers in progress; more are refused with 503.
	MaxConcurrent int
	Log           *slog.Logger

	initOnce sync.Once
	payload  []byte
	slots    chan struct{}
	handler  http.Handler

	bytesSent, bytesReceived    atomic.Int64
	downloads, uploads          atomic.Int64
	rejectedBusy, unauthorized  atomic.Int64
	badRequests, authErrors     atomic.Int64
	active                      atomic.Int64
	clientGone, uploadsTimedOut atomic.Int64
}

// Stats are the server's counters since it started.
type Stats struct {
	BytesSent     int64 // download bytes written
	BytesReceived int64 // upload bytes read
	Downloads     int64 // downloads started
	Uploads       int64 // uploads started
	Active        int64 // transfers in progress now
	RejectedBusy  int64 // refused with 503: MaxConcurrent reached
	Unauthorized  int64 // refused with 401
	AuthErrors    int64 // refused with 503: the authenticator could not decide
	BadRequests   int64 // refused with 400
	ClientGone    int64 // transfers the client abandoned before the end
	UploadsCapped int64 // uploads cut off at MaxDuration
}

// Stats returns the counters.
func (s *Server) Stats() Stats {
	return Stats{
		BytesSent: s.bytesSent.Load(), BytesReceived: s.bytesReceived.Load(),
		Downloads: s.downloads.Load(), Uploads: s.uploads.Load(), Active: s.active.Load(),
		RejectedBusy: s.rejectedBusy.Load(), Unauthorized: s.unauthorized.Load(),
		AuthErrors: s.authErrors.Load(), BadRequests: s.badRequests.Load(),
		ClientGone: s.clientGone.Load(), UploadsCapped: s.uploadsTimedOut.Load(),
	}
}

func (s *Server) init() {
	s.initOnce.Do(func() {
		if s.MaxDuration <= 0 {
			s.MaxDuration = DefaultMaxDuration
		}
		if s.MaxConcurrent <= 0 {
			s.MaxConcurrent = DefaultMaxConcurrent
		}
		if s.Log == nil {
			s.Log = slog.Default()
		}
		s.payload = make([]byte, payloadSize)
		if _, err := rand.Read(s.payload); err != nil {
			panic(fmt.Sprintf("speedtest: no randomness: %v", err)) // crypto/rand never fails on Linux
		}
		s.slots = make(chan struct{}, s.MaxConcurrent)
		mux := http.NewServeMux()
		mux.HandleFunc("GET "+wire.SpeedtestDownloadPath, s.download)
		mux.HandleFunc("POST "+wire.SpeedtestUploadPath, s.upload)
		s.handler = mux
	})
}

// Handler serves the two paths (and 404/405 for anything else).
func (s *Server) Handler() http.Handler {
	s.init()
	return s.handler
}

type apiError struct {
	Error string `json:"error"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// authenticate resolves the bearer credential to an agent, or answers 401
// (or 503 when the authenticator cannot decide) and returns ok=false.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (agent string, ok bool) {
	tok, err := wire.BearerToken(r)
	if err == nil && tok == "" {
		err = wire.ErrNoToken
	}
	if err != nil {
		s.unauthorized.Add(1)
		w.Header().Set("WWW-Authenticate", `Bearer realm="probity-speedtest"`)
		writeJSON(w, http.StatusUnauthorized, apiError{"missing Authorization: Bearer <agent credential>"})
		return "", false
	}
	agent, err = s.Auth.Authenticate(r.Context(), tok)
	if errors.Is(err, ErrUnauthorized) {
		s.unauthorized.Add(1)
		w.Header().Set("WWW-Authenticate", `Bearer realm="probity-speedtest"`)
		writeJSON(w, http.StatusUnauthorized, apiError{"unknown or revoked agent credential"})
		return "", false
	}
	if err != nil {
		// Not the agent's fault: say so, so it retries rather than
		// reporting a bad credential.
		s.authErrors.Add(1)
		s.Log.Warn("speedtest: cannot check a credential", "err", err)
		w.Header().Set("Retry-After", "30")
		writeJSON(w, http.StatusServiceUnavailable, apiError{"cannot check credentials just now; retry later"})
		return "", false
	}
	return agent, true
}

// acquire takes a transfer slot, or answers 503 and returns ok=false. The
// caller calls release.
func (s *Server) acquire(w http.ResponseWriter, agent string) (release func(), ok bool) {
	select {
	case s.slots <- struct{}{}:
	default:
		s.rejectedBusy.Add(1)
		s.Log.Debug("speedtest: busy", "agent", agent, "max_concurrent", s.MaxConcurrent)
		w.Header().Set("Retry-After", busyRetry)
		writeJSON(w, http.StatusServiceUnavailable, apiError{fmt.Sprintf("speed-test server busy: %d transfers in progress; retry later", s.MaxConcurrent)})
		return nil, false
	}
	s.active.Add(1)
	return func() { s.active.Add(-1); <-s.slots }, true
}

// seconds parses ?seconds= (default DefaultSeconds, capped at MaxDuration).
func (s *Server) seconds(q string) (time.Duration, error) {
	if q == "" {
		return min(DefaultSeconds*time.Second, s.MaxDuration), nil
	}
	f, err := strconv.ParseFloat(q, 64)
	if err != nil || !(f > 0) {
		return 0, fmt.Errorf("seconds must be a positive number, not %q", q)
	}
	if f >= s.MaxDuration.Seconds() {
		return s.MaxDuration, nil
	}
	return time.Duration(f * float64(time.Second)), nil
}

func (s *Server) download(w http.ResponseWriter, r *http.Request) {
	agent, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	d, err := s.seconds(r.URL.Query().Get("seconds"))
	if err != nil {
		s.badRequests.Add(1)
		writeJSON(w, http.StatusBadRequest, apiError{err.Error()})
		return
	}
	release, ok := s.acquire(w, agent)
	if !ok {
		return
	}
	defer release()
	s.downloads.Add(1)
	start := time.Now()
	end := start.Add(d)
	// Without a deadline a client that stops reading would hold its slot
	// for as long as it likes; the grace lets a slow line take the last chunk.
	if err := http.NewResponseController(w).SetWriteDeadline(end.Add(deadlineGrace)); err != nil {
		s.Log.Debug("speedtest: no write deadline", "err", err)
	}
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	// no-store and no-transform ask caches and proxies to pass the bytes
	// through; an explicit Content-Encoding makes proxies such as nginx
	// leave the body alone rather than compress it.
	h.Set("Cache-Control", "no-store, no-transform")
	h.Set("Content-Encoding", "identity")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set(HeaderSeconds, strconv.FormatFloat(d.Seconds(), 'f', -1, 64))
	w.WriteHeader(http.StatusOK)
	bulk(r)

	var sent int64
	off := 0
	for time.Now().Before(end) {
		n, err := w.Write(s.payload[off : off+writeChunk])
		sent += int64(n)
		s.bytesSent.Add(int64(n))
		if err != nil {
			s.clientGone.Add(1)
			s.Log.Debug("speedtest: download ended by the client", "agent", agent, "bytes", sent, "seconds", time.Since(start).Seconds(), "err", err)
			return
		}
		if off += writeChunk; off == payloadSize {
			off = 0
		}
	}
	s.Log.Debug("speedtest: download done", "agent", agent, "bytes", sent, "seconds", time.Since(start).Seconds())
}

func (s *Server) upload(w http.ResponseWriter, r *http.Request) {
	agent, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	release, ok := s.acquire(w, agent)
	if !ok {
		return
	}
	defer release()
	s.uploads.Add(1)
	start := time.Now()
	rc := http.NewResponseController(w)
	// The read deadline both caps the test and overrides the http.Server's
	// ReadTimeout, which would otherwise cut a long upload short.
	if err := rc.SetReadDeadline(start.Add(s.MaxDuration)); err != nil {
		s.Log.Debug("speedtest: no read deadline", "err", err)
	}
	if err := rc.SetWriteDeadline(start.Add(s.MaxDuration + deadlineGrace)); err != nil {
		s.Log.Debug("speedtest: no write deadline", "err", err)
	}
	bp := readBufs.Get().(*[]byte)
	defer readBufs.Put(bp)
	buf := *bp
	var got int64
	var rerr error
	// A client that says how long it will send (?seconds=) has its reads
	// batched from the second second until shortly before its end: with
	// SO_RCVLOWAT set, the body's last few bytes would never wake us.
	tuned, d := true, time.Duration(0)
	if r.URL.Query().Has("seconds") {
		if v, err := s.seconds(r.URL.Query().Get("seconds")); err == nil && v > 3*time.Second {
			tuned, d = false, v
			t := time.AfterFunc(d-time.Second, func() { lowat(r, 1) })
			defer t.Stop()
		}
	}
	for {
		n, err := r.Body.Read(buf)
		got += int64(n)
		s.bytesReceived.Add(int64(n))
		if el := time.Since(start); !tuned && el > time.Second {
			tuned = true
			if el < d-1500*time.Millisecond { // never after the reset above
				lowat(r, int(float64(got)/el.Seconds()/40)) // about 25 ms of data per wake
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			rerr = err
			break
		}
	}
	secs := time.Since(start).Seconds()
	switch {
	case rerr == nil:
		s.Log.Debug("speedtest: upload done", "agent", agent, "bytes", got, "seconds", secs)
	case isTimeout(rerr):
		// The client sent for longer than allowed: answer with what
		// arrived in the time; the connection closes after the answer.
		s.uploadsTimedOut.Add(1)
		s.Log.Debug("speedtest: upload cut at max duration", "agent", agent, "bytes", got, "seconds", secs)
		w.Header().Set("Connection", "close")
	default:
		s.clientGone.Add(1)
		s.Log.Debug("speedtest: upload ended by the client", "agent", agent, "bytes", got, "seconds", secs, "err", rerr)
		return // nobody to answer
	}
	writeJSON(w, http.StatusOK, wire.SpeedtestUpload{Bytes: got, Seconds: secs})
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}
