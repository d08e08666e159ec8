package api

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/influxdata/line-protocol/v2/lineprotocol"

	"github.com/probity-edu/probity/collector/ingest"
	"github.com/probity-edu/probity/collector/store"
	"github.com/probity-edu/probity/internal/point"
	"github.com/probity-edu/probity/internal/version"
	"github.com/probity-edu/probity/internal/wire"
)

// InfluxDB v2 compatibility: a school that already runs Telegraf points
// its outputs.influxdb_v2 at the collector, with an agent credential
// from `probity-collector agent add` as the token (docs/telegraf.md).
const (
	InfluxWritePath = "/api/v2/write"
	InfluxPingPath  = "/ping"
	// influxShowErrors is how many bad lines a 400 names.
	influxShowErrors = 5
)

// InfluxDB's error codes, the "code" of its JSON errors.
const (
	influxInvalid      = "invalid"
	influxUnauthorized = "unauthorized"
	influxTooLarge     = "request too large"
	influxUnavailable  = "unavailable"
)

// influxError is InfluxDB v2's error body; Telegraf logs code, message,
// line and maxLength.
type influxError struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	Line      int    `json:"line,omitempty"`
	MaxLength int64  `json:"maxLength,omitempty"`
}

// influxRoutes adds the InfluxDB v2 write and ping routes; GET patterns
// match HEAD too.
func (s *Server) influxRoutes(route func(string, http.HandlerFunc)) {
	route("POST "+InfluxWritePath, s.influxWrite)
	route("GET "+InfluxPingPath, s.influxPing)
}

func influxVersion(w http.ResponseWriter) {
	w.Header().Set("X-Influxdb-Version", "probity-"+version.Version)
}

// influxPing answers InfluxDB's health check, which some clients make
// before they write.
func (s *Server) influxPing(w http.ResponseWriter, r *http.Request) {
	influxVersion(w)
	w.WriteHeader(http.StatusNoContent)
}

// influxWrite takes line protocol as InfluxDB v2's write does, for
// Telegraf's influxdb_v2 output: 204 when stored, InfluxDB's error codes
// otherwise, and a partial write when some lines are bad (the good ones
// are stored, the answer is 400 naming the bad). org and bucket are
// accepted and ignored: the credential says which school the points are
// filed under.
func (s *Server) influxWrite(w http.ResponseWriter, r *http.Request) {
	influxVersion(w)
	fail := func(code int, reason string, e influxError) {
		s.m.rejected.WithLabelValues(reason).Inc()
		writeJSON(w, code, e)
	}
	if _, err := wire.BearerToken(r); err != nil {
		fail(http.StatusUnauthorized, "unauthorized", influxError{Code: influxUnauthorized,
			Message: "missing Authorization: Token <agent credential>; create one with `probity-collector agent add --site S --hostname H`"})
		return
	}
	a, msg := s.agentOf(r)
	if msg != "" {
		fail(http.StatusUnauthorized, "unauthorized", influxError{Code: influxUnauthorized,
			Message: "unknown or revoked agent credential; create one with `probity-collector agent add --site S --hostname H`"})
		return
	}
	if ua := r.Header.Get("User-Agent"); ua != "" {
		// Recorded as the agent's version, for `agent list`: e.g.
		// "Telegraf/1.37.2 Go/1.25.5".
		a.Version = ua[:min(len(ua), 64)]
	}
	precName := r.URL.Query().Get("precision")
	prec, err := ingest.Precision(precName)
	if err != nil {
		fail(http.StatusBadRequest, "bad_body", influxError{Code: influxInvalid, Message: err.Error()})
		return
	}
	// As on /api/v1/write: refused before the body is read (admission.go).
	// Telegraf keeps the metrics and retries after Retry-After.
	admitted, ok := s.adm.acquire(r.Context())
	if !ok {
		writeJSON(w, http.StatusServiceUnavailable, influxError{Code: influxUnavailable, Message: s.busy(w)})
		return
	}
	defer s.adm.release(admitted)
	body, err := ingest.ReadBody(http.MaxBytesReader(w, r.Body, s.MaxBody), r.Header.Get("Content-Encoding"), s.MaxBody)
	if errors.Is(err, ingest.ErrTooLarge) {
		// Telegraf splits the batch in two and sends each half.
		fail(http.StatusRequestEntityTooLarge, "too_large", influxError{Code: influxTooLarge,
			Message: fmt.Sprintf("body over %d bytes (after decompression): split the batch", s.MaxBody), MaxLength: s.MaxBody})
		return
	}
	if err != nil {
		fail(http.StatusBadRequest, "bad_body", influxError{Code: influxInvalid, Message: err.Error()})
		return
	}
	now := s.Now()
	dec := point.DecodeLenient(body, prec, now, influxShowErrors)
	if len(dec.Points) == 0 && dec.Bad == 0 {
		fail(http.StatusBadRequest, "bad_body", influxError{Code: influxInvalid, Message: "writing requires points: the body has none"})
		return
	}
	for i := range dec.Points {
		dec.Points[i].Tags[store.TagSite] = a.SiteID
		dec.Points[i].Tags[store.TagAgent] = a.ID
	}
	if len(dec.Points) > 0 {
		b := store.Batch{ID: influxBatchID(a.ID, prec, body), Agent: a, Points: dec.Points}
		if dec.Untimed > 0 {
			// Lines without timestamps are stamped with the time of
			// arrival, so the same body sent again is new data.
			b.ID = wire.NewBatchID()
		}
		if addr := s.clientAddr(r); addr.IsValid() {
			b.Address = addr.String()
		}
		dup, err := s.Store.WriteBatch(r.Context(), b, now)
		if err != nil {
			s.Log.Error("storing an InfluxDB write", "agent", a.ID, "batch", b.ID, "err", err)
			w.Header().Set("Retry-After", "5")
			writeJSON(w, http.StatusServiceUnavailable, influxError{Code: influxUnavailable, Message: "store unavailable; retry later"})
			return
		}
		if dup {
			// Telegraf sent this body before and we stored it; answer as
			// then, so a retry after a lost answer is not an error.
			s.m.batches.WithLabelValues("duplicate").Inc()
		} else {
			s.m.batches.WithLabelValues("stored").Inc()
			s.m.points.Add(float64(len(dec.Points)))
			s.forward(b)
		}
	}
	if dec.Bad == 0 {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	reason, stored := "partial_write", fmt.Sprintf("partial write: %d points stored", len(dec.Points))
	if len(dec.Points) == 0 {
		reason, stored = "bad_body", "nothing stored"
		s.m.batches.WithLabelValues("rejected").Inc()
	}
	e := influxError{Code: influxInvalid, Line: dec.Errors[0].Line,
		Message: fmt.Sprintf("%s, %d bad lines dropped: %s", stored, dec.Bad, describeBad(dec))}
	s.Log.Warn("InfluxDB write had bad lines", "agent", a.ID, "site", a.SiteID, "stored", len(dec.Points), "bad", dec.Bad, "first", dec.Errors[0].Error())
	fail(http.StatusBadRequest, reason, e)
}

// describeBad names the first bad lines and why.
func describeBad(dec point.Lenient) string {
	parts := make([]string, 0, len(dec.Errors)+1)
	for _, e := range dec.Errors {
		parts = append(parts, e.Error())
	}
	if more := dec.Bad - len(dec.Errors); more > 0 {
		parts = append(parts, fmt.Sprintf("and %d more", more))
	}
	return strings.Join(parts, "; ")
}

// influxBatchID names a write by its content: Telegraf has no batch id,
// and a body it sends again (after a timeout, say) must be stored once.
// The agent is in the hash so two senders of the same bytes are two
// batches; the precision because it changes what the bytes mean.
func influxBatchID(agentID string, prec lineprotocol.Precision, body []byte) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00", agentID, prec)
	h.Write(body)
	return "influx-" + hex.EncodeToString(h.Sum(nil))[:56]
}
