package ship

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/influxdata/line-protocol/v2/lineprotocol"

	"github.com/probity-edu/probity/internal/point"
	"github.com/probity-edu/probity/internal/wire"
)

const (
	testToken   = "agent-secret-1"
	testVersion = "test-1.2.3"
)

// collector plays the collector's side of the write protocol on loopback:
// it checks every header, gunzips and decodes the body, stores each batch
// id once and counts every point by its "seq" field.
type collector struct {
	t *testing.T

	mu       sync.Mutex
	batches  map[string]int // batch id -> points stored
	seqs     map[int64]int  // seq field -> times stored
	ids      []string       // batch ids in arrival order, retries included
	statuses []int          // answers in order
	dups     int            // batches answered "duplicate"

	// Behaviour, set before use.
	maxPoints int // > 0: 413 when a body has more points
	maxBody   int // > 0: 413 when a decompressed body is longer
	// before may answer first (status != 0); stored says whether to store
	// the batch anyway, which is how a lost acknowledgement looks.
	before func(n int, id string, pts []point.Point) (status int, hdr http.Header, stored bool)
}

func newCollector(t *testing.T) *collector {
	return &collector{t: t, batches: map[string]int{}, seqs: map[int64]int{}}
}

func (c *collector) start() *httptest.Server {
	srv := httptest.NewServer(c)
	c.t.Cleanup(srv.Close)
	return srv
}

func (c *collector) answer(w http.ResponseWriter, status int, r wire.WriteResponse) {
	c.statuses = append(c.statuses, status)
	if r.Status == wire.StatusDuplicate {
		c.dups++
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(r)
}

func (c *collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	id := r.Header.Get(wire.HeaderBatchID)
	c.ids = append(c.ids, id)
	// Protocol violations are test failures; 418 keeps the data on the agent.
	protocol := func(format string, args ...any) {
		c.t.Errorf("collector: "+format, args...)
		c.answer(w, http.StatusTeapot, wire.WriteResponse{Error: fmt.Sprintf(format, args...)})
	}
	if r.Method != http.MethodPost || r.URL.Path != wire.WritePath {
		protocol("%s %s, want POST %s", r.Method, r.URL.Path, wire.WritePath)
		return
	}
	if tok, err := wire.BearerToken(r); err != nil || tok != testToken {
		c.answer(w, http.StatusUnauthorized, wire.WriteResponse{Error: "unknown agent credential"})
		return
	}
	if !wire.ValidBatchID(id) {
		protocol("bad batch id %q", id)
		return
	}
	if got := r.Header.Get(wire.HeaderAgentVersion); got != testVersion {
		protocol("agent version %q, want %q", got, testVersion)
		return
	}
	if got := r.Header.Get("Content-Type"); got != wire.ContentType {
		protocol("content type %q", got)
		return
	}
	if got := r.Header.Get("Content-Encoding"); got != "gzip" {
		protocol("content encoding %q, want gzip", got)
		return
	}
	zr, err := gzip.NewReader(r.Body)
	if err != nil {
		protocol("gzip: %v", err)
		return
	}
	body, err := io.ReadAll(zr)
	if err != nil {
		protocol("gunzip: %v", err)
		return
	}
	pts, err := point.Decode(body, lineprotocol.Nanosecond, time.Now())
	if err != nil {
		protocol("body is not valid line protocol: %v\n%s", err, body)
		return
	}
	if !bytes.HasSuffix(body, []byte("\n")) {
		protocol("body does not end at a line boundary")
		return
	}
	if c.before != nil {
		if status, hdr, stored := c.before(len(c.ids), id, pts); status != 0 {
			for k, v := range hdr {
				w.Header()[k] = v
			}
			if stored {
				c.store(id, pts)
			}
			c.answer(w, status, wire.WriteResponse{Error: http.StatusText(status)})
			return
		}
	}
	if (c.maxPoints > 0 && len(pts) > c.maxPoints) || (c.maxBody > 0 && len(body) > c.maxBody) {
		c.answer(w, http.StatusRequestEntityTooLarge, wire.WriteResponse{Error: "body too large"})
		return
	}
	for i, p := range pts {
		if p.Measurement == "bad" {
			c.answer(w, http.StatusBadRequest, wire.WriteResponse{Error: "measurement bad is not known", Line: i + 1})
			return
		}
	}
	if _, dup := c.batches[id]; dup {
		c.answer(w, http.StatusOK, wire.WriteResponse{Status: wire.StatusDuplicate, Batch: id})
		return
	}
	c.store(id, pts)
	c.answer(w, http.StatusOK, wire.WriteResponse{Status: wire.StatusStored, Batch: id, Points: len(pts)})
}

func (c *collector) store(id string, pts []point.Point) {
	if _, dup := c.batches[id]; dup {
		return
	}
	c.batches[id] = len(pts)
	for _, p := range pts {
		c.seqs[p.Fields["seq"].(int64)]++
	}
}

// received checks that exactly the seq values in want arrived, each once.
func (c *collector) received(t *testing.T, want []int64) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range want {
		if n := c.seqs[s]; n != 1 {
			t.Errorf("point seq=%d stored %d times, want once", s, n)
		}
	}
	if len(c.seqs) != len(want) {
		t.Errorf("collector holds %d distinct points, want %d", len(c.seqs), len(want))
	}
}

func (c *collector) snapshot() (ids []string, statuses []int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.ids...), append([]int(nil), c.statuses...)
}
