// Package api serves the collector's HTTP interface: enrolment, ingest and whoami for
// agents; InfluxDB v2's write API for Telegraf (influxwrite.go); sites, verdicts (current and as they stood at a time),
// attestations and trust summaries as JSON; health and metrics. Reads
// need a signed-in session or an admin token and show only the schools
// the principal may see (collector/auth); writes people make
// (attestations) need an admin token. Pages are collector/web's.
package api

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/probity-edu/probity/collector/auth"
	"github.com/probity-edu/probity/collector/ingest"
	"github.com/probity-edu/probity/collector/report"
	"github.com/probity-edu/probity/collector/standards"
	"github.com/probity-edu/probity/collector/store"
	"github.com/probity-edu/probity/collector/store/rowcodec"
	"github.com/probity-edu/probity/internal/point"
	"github.com/probity-edu/probity/internal/wire"
)

// Server holds what the handlers need.
type Server struct {
	Store store.Store
	// Auth resolves who is reading; nil means admin tokens and sessions
	// in Store with the default limits.
	Auth *auth.Authenticator
	// Catalogue validates attestations and sums trusts up; nil means
	// standards.Default().
	Catalogue *standards.Catalogue
	MaxBody   int64
	// MaxInflightWrites bounds writes in progress on both write endpoints
	// (admitted and not yet answered by the store); past it a write is
	// refused with 503 and Retry-After before its body is read
	// (admission.go). The limit adapts below it to keep writes' latency
	// near WriteLatencyTarget. 0 means DefaultMaxInflightWrites, negative
	// no limit.
	MaxInflightWrites int
	// WriteLatencyTarget is the mean write latency, admission to the
	// store's answer, the limit adapts to keep; 0 means
	// DefaultWriteLatencyTarget.
	WriteLatencyTarget time.Duration
	Log                *slog.Logger
	Now                func() time.Time
	// OnWrite, when set, is told about every stored batch (the InfluxDB
	// sink); it must not block.
	OnWrite func(pts []point.Point)
	// TrustedProxies are the reverse proxies whose X-Forwarded-For is
	// believed when recording where an agent connects from (whoami and
	// writes); empty means the TCP peer is always the client.
	TrustedProxies []netip.Prefix
	// Collectors are extra metrics served on /metrics, such as the speed-test
	// server's counters.
	Collectors []prometheus.Collector

	m   *metrics
	adm *admission
}

// Handler returns the routed handler.
func (s *Server) Handler() http.Handler {
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.MaxBody <= 0 {
		s.MaxBody = wire.DefaultMaxBody
	}
	if s.Log == nil {
		s.Log = slog.Default()
	}
	if s.Auth == nil {
		s.Auth = &auth.Authenticator{Store: s.Store, Now: s.Now, Log: s.Log}
	}
	limit := s.MaxInflightWrites
	if limit == 0 {
		limit = DefaultMaxInflightWrites
	}
	target := s.WriteLatencyTarget
	if target <= 0 {
		target = DefaultWriteLatencyTarget
	}
	s.adm = newAdmission(limit, target, admissionWait, s.Log)
	s.m = newMetrics(s.Store, s.adm)
	s.m.reg.MustRegister(s.Collectors...)
	mux := http.NewServeMux()
	route := func(pattern string, h http.HandlerFunc) {
		mux.Handle(pattern, s.instrument(pattern, h))
	}
	route("POST "+wire.EnrolPath, s.enrol)
	route("POST "+wire.WritePath, s.write)
	route("GET "+wire.WhoamiPath, s.whoami)
	route("GET "+wire.SitesPath, s.sites)
	route("GET "+wire.SitesPath+"/{id}/verdicts", s.verdicts)
	route("GET "+wire.SitesPath+"/{id}/attestations", s.attestations)
	route("POST "+wire.SitesPath+"/{id}/attestations", s.addAttestation)
	route("GET "+TrustsPath, s.trusts)
	route("GET "+TrustsPath+"/{id}/summary", s.trustSummary)
	route("GET "+wire.HealthPath, s.health)
	s.influxRoutes(route) // POST /api/v2/write and GET|HEAD /ping, as InfluxDB v2 (influxwrite.go)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.m.reg, promhttp.HandlerOpts{}))
	return mux
}

// TrustsPath lists trusts; /{id}/summary sums one up per standard.
const TrustsPath = "/api/v1/trusts"

func (s *Server) catalogue() *standards.Catalogue {
	if s.Catalogue != nil {
		return s.Catalogue
	}
	return standards.Default()
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) { w.code = code; w.ResponseWriter.WriteHeader(code) }

func (s *Server) instrument(route string, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		h(sw, r)
		s.m.duration.WithLabelValues(route, strconv.Itoa(sw.code)).Observe(time.Since(start).Seconds())
	})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

type apiError struct {
	Error string `json:"error"`
}

// NewSecret returns 256 random bits as hex, for tokens and credentials.
func NewSecret() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("api: no randomness: %v", err))
	}
	return hex.EncodeToString(b[:])
}

func (s *Server) enrol(w http.ResponseWriter, r *http.Request) {
	var req wire.EnrolRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&req); err != nil || req.Token == "" {
		s.m.enrolments.WithLabelValues("bad_request").Inc()
		writeJSON(w, http.StatusBadRequest, apiError{"body must be JSON with a token"})
		return
	}
	cred := NewSecret()
	a, err := s.Store.ConsumeEnrolToken(r.Context(), store.HashSecret(req.Token),
		store.Agent{Hostname: req.Hostname, Version: req.Version}, store.HashSecret(cred), s.Now())
	if errors.Is(err, store.ErrTokenInvalid) {
		s.m.enrolments.WithLabelValues("invalid_token").Inc()
		writeJSON(w, http.StatusUnauthorized, apiError{"enrolment token is unknown, already used or expired: ask for a new one with `probity-collector agent token --site S`"})
		return
	}
	if err != nil {
		s.Log.Error("enrolment failed", "err", err)
		writeJSON(w, http.StatusInternalServerError, apiError{"enrolment failed; see the collector log"})
		return
	}
	site, err := s.Store.Site(r.Context(), a.SiteID)
	if err != nil {
		s.Log.Error("enrolment: site lookup", "site", a.SiteID, "err", err)
	}
	s.m.enrolments.WithLabelValues("ok").Inc()
	s.Log.Info("agent enrolled", "agent", a.ID, "site", a.SiteID, "hostname", a.Hostname)
	writeJSON(w, http.StatusOK, wire.EnrolResponse{AgentID: a.ID, Site: a.SiteID, SiteName: site.Name, Credential: cred})
}

// authAgent resolves the bearer credential to an agent, or answers 401.
func (s *Server) authAgent(w http.ResponseWriter, r *http.Request) (store.Agent, bool) {
	a, msg := s.agentOf(r)
	if msg != "" {
		s.m.rejected.WithLabelValues("unauthorized").Inc()
		writeJSON(w, http.StatusUnauthorized, wire.WriteResponse{Error: msg})
		return store.Agent{}, false
	}
	return a, true
}

// agentOf resolves the bearer credential to an agent not revoked; msg says
// why not.
func (s *Server) agentOf(r *http.Request) (a store.Agent, msg string) {
	tok, err := wire.BearerToken(r)
	if err != nil {
		return a, "missing Authorization: Bearer <agent credential>"
	}
	a, err = s.Store.AgentByCredential(r.Context(), store.HashSecret(tok))
	if err != nil || a.Revoked {
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			s.Log.Error("credential lookup", "err", err)
		}
		return store.Agent{}, "unknown or revoked agent credential: enrol the agent again"
	}
	return a, ""
}

func (s *Server) write(w http.ResponseWriter, r *http.Request) {
	a, ok := s.authAgent(w, r)
	if !ok {
		return
	}
	batch := r.Header.Get(wire.HeaderBatchID)
	if !wire.ValidBatchID(batch) {
		s.m.rejected.WithLabelValues("bad_batch_id").Inc()
		writeJSON(w, http.StatusBadRequest, wire.WriteResponse{Error: fmt.Sprintf("header %s must be 8 to 64 characters of [0-9A-Za-z_-]", wire.HeaderBatchID)})
		return
	}
	if v := r.Header.Get(wire.HeaderAgentVersion); v != "" {
		a.Version = v
	}
	prec, err := ingest.Precision(r.URL.Query().Get("precision"))
	if err != nil {
		s.m.rejected.WithLabelValues("bad_body").Inc()
		writeJSON(w, http.StatusBadRequest, wire.WriteResponse{Batch: batch, Error: err.Error()})
		return
	}
	// Admitted only now: a request that is wrong anyway is told so
	// whatever the load, and one refused costs no reading, gunzip or parse.
	admitted, ok := s.adm.acquire(r.Context())
	if !ok {
		writeJSON(w, http.StatusServiceUnavailable, wire.WriteResponse{Batch: batch, Error: s.busy(w)})
		return
	}
	defer s.adm.release(admitted)
	body, err := ingest.ReadBody(http.MaxBytesReader(w, r.Body, s.MaxBody), r.Header.Get("Content-Encoding"), s.MaxBody)
	if errors.Is(err, ingest.ErrTooLarge) {
		s.m.rejected.WithLabelValues("too_large").Inc()
		writeJSON(w, http.StatusRequestEntityTooLarge, wire.WriteResponse{Batch: batch, Error: fmt.Sprintf("body over %d bytes: split the batch", s.MaxBody)})
		return
	}
	if err != nil {
		s.m.rejected.WithLabelValues("bad_body").Inc()
		writeJSON(w, http.StatusBadRequest, wire.WriteResponse{Batch: batch, Error: err.Error()})
		return
	}
	now := s.Now()
	rows, err := ingest.Decode(body, prec, a, now)
	if err != nil {
		resp := wire.WriteResponse{Batch: batch, Error: err.Error()}
		var de *point.DecodeError
		if errors.As(err, &de) {
			resp.Line = de.Line
			resp.Error = fmt.Sprintf("line %d: %v; nothing from this batch was stored", de.Line, de.Err)
		}
		s.m.rejected.WithLabelValues("bad_body").Inc()
		s.m.batches.WithLabelValues("rejected").Inc()
		s.Log.Warn("batch rejected", "agent", a.ID, "site", a.SiteID, "batch", batch, "err", resp.Error)
		writeJSON(w, http.StatusBadRequest, resp)
		return
	}
	b := store.Batch{ID: batch, Agent: a, Rows: rows}
	if addr := s.clientAddr(r); addr.IsValid() {
		b.Address = addr.String()
	}
	dup, err := s.Store.WriteBatch(r.Context(), b, now)
	if err != nil {
		answer := "store unavailable; retry later"
		if r.Context().Err() != nil {
			// The agent hung up (or the server is stopping) before the batch
			// was stored: not a store failure. It still holds the batch and
			// sends it again.
			answer = "request ended before the batch was stored; retry"
			s.Log.Info("batch not stored: request ended first", "agent", a.ID, "batch", batch, "err", err)
		} else {
			s.Log.Error("storing batch", "agent", a.ID, "batch", batch, "err", err)
		}
		w.Header().Set("Retry-After", "5")
		writeJSON(w, http.StatusServiceUnavailable, wire.WriteResponse{Batch: batch, Error: answer})
		return
	}
	if dup {
		s.m.batches.WithLabelValues("duplicate").Inc()
		writeJSON(w, http.StatusOK, wire.WriteResponse{Status: wire.StatusDuplicate, Batch: batch, Points: 0})
		return
	}
	s.m.batches.WithLabelValues("stored").Inc()
	s.m.points.Add(float64(b.Len()))
	s.forward(b)
	writeJSON(w, http.StatusOK, wire.WriteResponse{Status: wire.StatusStored, Batch: batch, Points: b.Len()})
}

// forward hands a stored batch to OnWrite, as points: decoded from its
// rows when ingest made rows, which costs only when a sink is configured.
func (s *Server) forward(b store.Batch) {
	if s.OnWrite == nil {
		return
	}
	pts := b.Points
	if b.Rows != nil {
		var err error
		if pts, err = new(rowcodec.Decoder).Points(b.Rows); err != nil {
			// Rows are what the store just took; they cannot fail to decode
			// unless the codec is broken, and then the store has the data.
			s.Log.Error("forwarding a batch", "batch", b.ID, "err", err)
			return
		}
	}
	s.OnWrite(pts)
}

// SiteJSON is a site as the API shows it.
type SiteJSON struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	URN     string    `json:"urn,omitempty"`
	Phase   string    `json:"phase"`
	TrustID int64     `json:"trust_id"`
	Created time.Time `json:"created"`
	Report  string    `json:"report"`
}

func (s *Server) sites(w http.ResponseWriter, r *http.Request) {
	p, ok := s.reader(w, r)
	if !ok {
		return
	}
	sites, err := s.Store.Sites(r.Context())
	if err != nil {
		s.Log.Error("listing sites", "err", err)
		writeJSON(w, http.StatusInternalServerError, apiError{"store unavailable"})
		return
	}
	out := make([]SiteJSON, 0, len(sites))
	for _, st := range p.Visible(sites) {
		out = append(out, SiteJSON{ID: st.ID, Name: st.Name, URN: st.URN, Phase: st.Phase, TrustID: st.TrustID, Created: st.Created, Report: "/schools/" + st.ID + "/report"})
	}
	writeJSON(w, http.StatusOK, out)
}

// VerdictJSON is a stored verdict as the API shows it.
type VerdictJSON struct {
	ReqID       string          `json:"requirement"`
	State       string          `json:"state"`
	Summary     string          `json:"summary"`
	Evidence    json.RawMessage `json:"evidence,omitempty"`
	Catalogue   string          `json:"catalogue"`
	EvaluatedAt time.Time       `json:"evaluated_at"`
}

// readableSite answers 401 to nobody and 404 for a site that does not
// exist or that the principal may not read, alike, so a school viewer
// cannot probe which other schools exist.
func (s *Server) readableSite(w http.ResponseWriter, r *http.Request) (store.Site, bool) {
	p, ok := s.reader(w, r)
	if !ok {
		return store.Site{}, false
	}
	site, err := s.Store.Site(r.Context(), r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) || (err == nil && !p.CanRead(site)) {
		writeJSON(w, http.StatusNotFound, apiError{fmt.Sprintf("no site %q", r.PathValue("id"))})
		return store.Site{}, false
	}
	if err != nil {
		s.Log.Error("site lookup", "err", err)
		writeJSON(w, http.StatusInternalServerError, apiError{"store unavailable"})
		return store.Site{}, false
	}
	return site, true
}

// reader resolves who is reading, or answers 401 (nobody, or a bad
// admin token) or 500.
func (s *Server) reader(w http.ResponseWriter, r *http.Request) (auth.Principal, bool) {
	p, err := s.Auth.Principal(r)
	switch {
	case errors.Is(err, auth.ErrBadToken):
		w.Header().Set("WWW-Authenticate", `Bearer realm="probity-collector"`)
		writeJSON(w, http.StatusUnauthorized, apiError{"unknown or revoked admin token"})
		return p, false
	case err != nil:
		s.Log.Error("resolving the reader", "err", err)
		writeJSON(w, http.StatusInternalServerError, apiError{"store unavailable"})
		return p, false
	case !p.Authenticated():
		w.Header().Set("WWW-Authenticate", `Bearer realm="probity-collector"`)
		writeJSON(w, http.StatusUnauthorized, apiError{"sign in at /login, or send Authorization: Bearer <admin token> (see `probity-collector admin token`)"})
		return p, false
	}
	return p, true
}

func (s *Server) siteOr404(w http.ResponseWriter, r *http.Request) (store.Site, bool) {
	site, err := s.Store.Site(r.Context(), r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		writeJSON(w, http.StatusNotFound, apiError{fmt.Sprintf("no site %q", r.PathValue("id"))})
		return site, false
	}
	if err != nil {
		s.Log.Error("site lookup", "err", err)
		writeJSON(w, http.StatusInternalServerError, apiError{"store unavailable"})
		return site, false
	}
	return site, true
}

func (s *Server) verdicts(w http.ResponseWriter, r *http.Request) {
	site, ok := s.readableSite(w, r)
	if !ok {
		return
	}
	var vs []store.Verdict
	var err error
	if at := r.URL.Query().Get("at"); at != "" {
		t, perr := report.ParseTime(at)
		if perr != nil {
			writeJSON(w, http.StatusBadRequest, fieldErrorBody{Error: "at: " + perr.Error(), Fields: FieldErrors{{"at", perr.Error()}}})
			return
		}
		vs, err = s.Store.VerdictsAt(r.Context(), site.ID, t)
	} else {
		vs, err = s.Store.Verdicts(r.Context(), site.ID)
	}
	if err != nil {
		s.Log.Error("verdicts", "site", site.ID, "err", err)
		writeJSON(w, http.StatusInternalServerError, apiError{"store unavailable"})
		return
	}
	out := make([]VerdictJSON, 0, len(vs))
	for _, v := range vs {
		out = append(out, VerdictJSON{ReqID: v.ReqID, State: v.State, Summary: v.Summary, Evidence: json.RawMessage(v.Evidence), Catalogue: v.Catalogue, EvaluatedAt: v.EvaluatedAt})
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	if _, err := s.Store.Stats(r.Context()); err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "store unavailable", "error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}
