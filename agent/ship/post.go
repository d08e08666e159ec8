package ship

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/probity-edu/probity/internal/wire"
)

// ErrUnauthorized is wrapped when the collector answers 401 or 403: the
// agent credential is unknown or was revoked. The data is kept.
var ErrUnauthorized = errors.New("ship: collector does not accept the agent credential (unknown or revoked)")

// outcome classifies one write exchange.
type outcome int

const (
	accepted  outcome = iota // 2xx: stored or duplicate
	tooLarge                 // 413: split and send again
	rejected                 // 400: can never be accepted
	retryable                // 401/403, 429, 5xx, network errors, anything else
)

// reply is what one POST came back with.
type reply struct {
	kind   outcome
	status int
	resp   wire.WriteResponse
	// wait is the server's Retry-After, when it sent one.
	wait    time.Duration
	hasWait bool
	err     error // set for retryable
}

// compress gzips a batch without keeping compressor state between calls.
// A standard gzip.Writer holds about 0.8 MiB of tables, which a sync.Pool
// drops at each GC, so the agent made a new one after most GCs: the
// largest share of its heap. The stateless writer allocates about 4 KiB a
// batch and is ten times faster, for bodies about 15% larger (1.1 KiB for
// 60 interface rows instead of 1.0).
func compress(body []byte) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(len(body)/4 + 64)
	zw, err := gzip.NewWriterLevel(&buf, gzip.StatelessCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(body); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// post sends one body under one batch id and classifies the answer.
func (s *Shipper) post(ctx context.Context, id string, body []byte) reply {
	gz, err := compress(body)
	if err != nil {
		return reply{kind: retryable, err: fmt.Errorf("ship: compress batch %s: %w", id, err)}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(gz))
	if err != nil {
		return reply{kind: retryable, err: fmt.Errorf("ship: build request for batch %s: %w", id, err)}
	}
	req.Header.Set("Content-Type", wire.ContentType)
	req.Header.Set("Content-Encoding", "gzip")
	req.Header.Set("Authorization", "Bearer "+s.o.Token)
	req.Header.Set(wire.HeaderBatchID, id)
	req.Header.Set(wire.HeaderAgentVersion, s.o.Version)
	res, err := s.o.Client.Do(req)
	if err != nil {
		return reply{kind: retryable, err: fmt.Errorf("ship: POST %s: %w", s.url, err)}
	}
	defer res.Body.Close()
	r := reply{status: res.StatusCode}
	raw, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 1<<20)) // let the connection be reused
	_ = json.Unmarshal(raw, &r.resp)                            // best effort: proxies answer in HTML
	r.wait, r.hasWait = retryAfter(res.Header.Get("Retry-After"), time.Now())
	reason := r.resp.Error
	if reason == "" {
		reason = http.StatusText(res.StatusCode)
	}
	switch {
	case res.StatusCode >= 200 && res.StatusCode < 300:
		r.kind = accepted
	case res.StatusCode == http.StatusRequestEntityTooLarge:
		r.kind = tooLarge
	case res.StatusCode == http.StatusBadRequest:
		r.kind = rejected
	case res.StatusCode == http.StatusUnauthorized || res.StatusCode == http.StatusForbidden:
		r.kind = retryable
		r.err = fmt.Errorf("%w: POST %s: status %d: %s", ErrUnauthorized, s.url, res.StatusCode, reason)
	default:
		// 429 and 5xx are the expected ones; anything else (a 404 from a
		// wrong URL, a proxy's 407) is a setup problem: keep the data too.
		r.kind = retryable
		r.err = fmt.Errorf("ship: POST %s: status %d: %s", s.url, res.StatusCode, reason)
	}
	return r
}
