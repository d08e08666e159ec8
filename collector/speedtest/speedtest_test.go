package speedtest

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/probity-edu/probity/collector/store"
	"github.com/probity-edu/probity/internal/wire"
)

// goodToken is the credential the test token file allows.
const goodToken = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// newTestServer serves a Server that allows goodToken through a real token
// file (by its hash) over loopback HTTP.
func newTestServer(t testing.TB, maxDuration time.Duration, maxConcurrent int) (*Server, *httptest.Server) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tokens")
	if err := os.WriteFile(path, []byte("sha256:"+store.HashSecret(goodToken)+" oak-pi\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	auth, err := LoadTokenFile(path, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Auth: auth, MaxDuration: maxDuration, MaxConcurrent: maxConcurrent, Log: quietLog()}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return s, srv
}

func request(t testing.TB, ctx context.Context, method, url, token string, body io.Reader) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func decodeError(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("error answer Content-Type %q, want application/json", ct)
	}
	var e apiError
	if err := json.NewDecoder(resp.Body).Decode(&e); err != nil || e.Error == "" {
		t.Errorf("error answer is not {\"error\": ...}: %v", err)
	}
	return e.Error
}

// waitFor polls cond until it holds; it fails the test after a generous
// bound, so it never asserts on timing.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(20 * time.Second); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("gave up waiting for %s", what)
}

func TestUnauthorized(t *testing.T) {
	s, srv := newTestServer(t, time.Second, 4)
	ctx := context.Background()
	for _, tc := range []struct{ method, path string }{
		{"GET", wire.SpeedtestDownloadPath + "?seconds=bad"}, // credentials are checked first
		{"POST", wire.SpeedtestUploadPath},
	} {
		for _, tok := range []string{"", "not-the-credential", store.HashSecret(goodToken)} {
			resp := request(t, ctx, tc.method, srv.URL+tc.path, tok, strings.NewReader("x"))
			if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") == "" {
				t.Errorf("%s %s with token %q: %d, want 401 with WWW-Authenticate", tc.method, tc.path, tok, resp.StatusCode)
			}
			decodeError(t, resp)
		}
	}
	if st := s.Stats(); st.Unauthorized != 6 || st.Downloads != 0 || st.Uploads != 0 || st.BytesSent != 0 {
		t.Errorf("stats after refusals = %+v, want 6 unauthorized and nothing else", st)
	}
}

func TestDownloadStreamsAndStops(t *testing.T) {
	s, srv := newTestServer(t, 60*time.Second, 4)
	resp := request(t, context.Background(), "GET", srv.URL+wire.SpeedtestDownloadPath+"?seconds=1", goodToken, nil)
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("download: %d", resp.StatusCode)
	}
	for h, want := range map[string]string{
		"Content-Type":     "application/octet-stream",
		"Content-Encoding": "identity",
		"Cache-Control":    "no-store, no-transform",
		HeaderSeconds:      "1",
	} {
		if got := resp.Header.Get(h); got != want {
			t.Errorf("header %s = %q, want %q", h, got, want)
		}
	}
	// The stream ends by itself, cleanly (io.Copy sees EOF, not an error).
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil {
		t.Fatalf("download body: %v after %d bytes", err, n)
	}
	if n < writeChunk {
		t.Fatalf("download streamed %d bytes, want at least one chunk", n)
	}
	waitFor(t, "the transfer to finish", func() bool { return s.Stats().Active == 0 })
	if st := s.Stats(); st.Downloads != 1 || st.BytesSent != n || st.ClientGone != 0 {
		t.Errorf("stats = %+v, want 1 download, %d bytes sent", st, n)
	}
}

func TestDownloadSecondsCapped(t *testing.T) {
	_, srv := newTestServer(t, time.Second, 4)
	for _, q := range []string{"?seconds=3600", "?seconds=1e300", ""} {
		resp := request(t, context.Background(), "GET", srv.URL+wire.SpeedtestDownloadPath+q, goodToken, nil)
		if resp.StatusCode != 200 || resp.Header.Get(HeaderSeconds) != "1" {
			t.Errorf("%q: %d, seconds granted %q, want 200 and the 1 s cap", q, resp.StatusCode, resp.Header.Get(HeaderSeconds))
		}
		if n, err := io.Copy(io.Discard, resp.Body); err != nil || n == 0 {
			t.Errorf("%q: body %d bytes, %v; want a stream that ends", q, n, err)
		}
		resp.Body.Close()
	}
	resp := request(t, context.Background(), "GET", srv.URL+wire.SpeedtestDownloadPath+"?seconds=0.25", goodToken, nil)
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if got := resp.Header.Get(HeaderSeconds); got != "0.25" {
		t.Errorf("seconds=0.25 granted %q", got)
	}
}

func TestDownloadBadSeconds(t *testing.T) {
	s, srv := newTestServer(t, time.Second, 4)
	for _, q := range []string{"abc", "0", "-1", "NaN"} {
		resp := request(t, context.Background(), "GET", srv.URL+wire.SpeedtestDownloadPath+"?seconds="+q, goodToken, nil)
		if resp.StatusCode != 400 {
			t.Errorf("seconds=%s: %d, want 400", q, resp.StatusCode)
		}
		if msg := decodeError(t, resp); !strings.Contains(msg, "seconds must be a positive number") {
			t.Errorf("seconds=%s: error %q", q, msg)
		}
	}
	if st := s.Stats(); st.BadRequests != 4 || st.Downloads != 0 {
		t.Errorf("stats = %+v", st)
	}
}

func upload(t *testing.T, url string, body io.Reader) wire.SpeedtestUpload {
	t.Helper()
	resp := request(t, context.Background(), "POST", url+wire.SpeedtestUploadPath, goodToken, body)
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("upload: %d", resp.StatusCode)
	}
	var u wire.SpeedtestUpload
	if err := json.NewDecoder(resp.Body).Decode(&u); err != nil {
		t.Fatalf("upload answer: %v", err)
	}
	return u
}

func TestUploadCountsExactBytes(t *testing.T) {
	s, srv := newTestServer(t, 60*time.Second, 4)
	data := make([]byte, 3<<20+17)
	rand.Read(data)
	// With a Content-Length, and chunked (the length unknown up front).
	got := upload(t, srv.URL, bytes.NewReader(data))
	if got.Bytes != int64(len(data)) || !(got.Seconds > 0) {
		t.Errorf("upload answer %+v, want %d bytes and a positive duration", got, len(data))
	}
	pr, pw := io.Pipe()
	go func() {
		for i := 0; i < 10; i++ {
			pw.Write(data[:100003])
		}
		pw.Close()
	}()
	if got := upload(t, srv.URL, pr); got.Bytes != 10*100003 {
		t.Errorf("chunked upload counted %d bytes, want %d", got.Bytes, 10*100003)
	}
	if st := s.Stats(); st.Uploads != 2 || st.BytesReceived != int64(len(data))+10*100003 || st.Active != 0 {
		t.Errorf("stats = %+v", st)
	}
}

// An upload that goes on past MaxDuration is answered with what arrived
// in the time.
func TestUploadCutAtMaxDuration(t *testing.T) {
	s, srv := newTestServer(t, time.Second, 4)
	pr, pw := io.Pipe()
	defer pw.Close()
	go func() {
		pw.Write(bytes.Repeat([]byte{0xa5}, 1000))
		// Then nothing more, until the test ends: the server must not wait.
	}()
	got := upload(t, srv.URL, pr)
	if got.Bytes != 1000 || got.Seconds < 0.9 {
		t.Errorf("capped upload answer %+v, want 1000 bytes over about the 1 s cap", got)
	}
	waitFor(t, "the slot to be freed", func() bool { return s.Stats().Active == 0 })
	if st := s.Stats(); st.UploadsCapped != 1 {
		t.Errorf("stats = %+v, want one capped upload", st)
	}
}

func TestConcurrencyLimit(t *testing.T) {
	s, srv := newTestServer(t, 60*time.Second, 2)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var held []*http.Response
	for range 2 {
		resp := request(t, ctx, "GET", srv.URL+wire.SpeedtestDownloadPath+"?seconds=60", goodToken, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("download within the limit: %d", resp.StatusCode)
		}
		held = append(held, resp)
	}
	for _, tc := range []struct{ method, path string }{
		{"GET", wire.SpeedtestDownloadPath},
		{"POST", wire.SpeedtestUploadPath},
	} {
		resp := request(t, context.Background(), tc.method, srv.URL+tc.path, goodToken, strings.NewReader("x"))
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
			t.Errorf("%s over the limit: %d, Retry-After %q; want 503 with Retry-After", tc.method, resp.StatusCode, resp.Header.Get("Retry-After"))
		}
		if msg := decodeError(t, resp); !strings.Contains(msg, "busy") {
			t.Errorf("busy error %q", msg)
		}
	}
	if st := s.Stats(); st.RejectedBusy != 2 || st.Active != 2 {
		t.Errorf("stats = %+v, want 2 rejected, 2 active", st)
	}
	// Freeing one slot admits one more.
	held[0].Body.Close()
	waitFor(t, "a slot to be freed", func() bool { return s.Stats().Active == 1 })
	resp := request(t, ctx, "GET", srv.URL+wire.SpeedtestDownloadPath+"?seconds=0.1", goodToken, nil)
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("download after a slot was freed: %d", resp.StatusCode)
	}
	held[1].Body.Close()
}

func TestClientDisconnectFreesSlot(t *testing.T) {
	s, srv := newTestServer(t, 60*time.Second, 1)
	ctx, cancel := context.WithCancel(context.Background())
	resp := request(t, ctx, "GET", srv.URL+wire.SpeedtestDownloadPath+"?seconds=60", goodToken, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("download: %d", resp.StatusCode)
	}
	if _, err := io.CopyN(io.Discard, resp.Body, 1<<20); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.Active != 1 {
		t.Fatalf("stats during the download = %+v, want 1 active", st)
	}
	cancel() // the client goes away mid-download
	resp.Body.Close()
	waitFor(t, "the slot to be freed", func() bool { return s.Stats().Active == 0 })
	if st := s.Stats(); st.ClientGone != 1 {
		t.Errorf("stats = %+v, want one transfer ended by the client", st)
	}
	resp = request(t, context.Background(), "GET", srv.URL+wire.SpeedtestDownloadPath+"?seconds=0.1", goodToken, nil)
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("download after the disconnect: %d, want 200 (the only slot free again)", resp.StatusCode)
	}
}

func TestPayloadIncompressible(t *testing.T) {
	_, srv := newTestServer(t, 60*time.Second, 4)
	resp := request(t, context.Background(), "GET", srv.URL+wire.SpeedtestDownloadPath+"?seconds=5", goodToken, nil)
	defer resp.Body.Close()
	// More than one payload period, so repetition would show too.
	chunk := make([]byte, payloadSize+1<<20)
	if _, err := io.ReadFull(resp.Body, chunk); err != nil {
		t.Fatal(err)
	}
	for _, part := range [][]byte{chunk[:64<<10], chunk} {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		zw.Write(part)
		zw.Close()
		if buf.Len() < len(part)*99/100 {
			t.Errorf("gzip shrank %d bytes of the stream to %d: the payload is compressible", len(part), buf.Len())
		}
	}
}

// A download allocates no payload: the bytes a whole request allocates, on
// both ends, stay far below one payload.
func TestDownloadAllocatesNoPayload(t *testing.T) {
	_, srv := newTestServer(t, 60*time.Second, 4)
	get := func() int64 {
		resp := request(t, context.Background(), "GET", srv.URL+wire.SpeedtestDownloadPath+"?seconds=0.05", goodToken, nil)
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return n
	}
	get() // the server's payload is made once, here
	var before, after runtime.MemStats
	const n = 10
	runtime.ReadMemStats(&before)
	var streamed int64
	for range n {
		streamed += get()
	}
	runtime.ReadMemStats(&after)
	perRequest := (after.TotalAlloc - before.TotalAlloc) / n
	if perRequest > payloadSize/8 {
		t.Errorf("a download allocates %d bytes (streaming %d on average); the payload is %d", perRequest, streamed/n, payloadSize)
	}
	t.Logf("%d bytes allocated per download of %d bytes", perRequest, streamed/n)
}
