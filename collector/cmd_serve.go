package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/probity-edu/probity/collector/api"
	"github.com/probity-edu/probity/collector/auth"
	"github.com/probity-edu/probity/collector/influx"
	"github.com/probity-edu/probity/collector/jobs"
	"github.com/probity-edu/probity/collector/settings"
	"github.com/probity-edu/probity/collector/speedtest"
	"github.com/probity-edu/probity/collector/web"
	"github.com/probity-edu/probity/internal/logging"
	"github.com/probity-edu/probity/internal/version"
	"github.com/probity-edu/probity/internal/wire"
)

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := newCommon("serve")
	if done, err := c.load(args, stdout); done || err != nil {
		return err
	}
	cfg := c.config
	log := logging.New(cfg.Log, stderr)
	st, err := c.open(ctx, stderr)
	if err != nil {
		return err
	}
	// Each step of a stop is logged with how long it took, so a stop that
	// outlasts a service manager's timeout names the step that held it.
	var stopping time.Time // set when a stop begins; zero if serving failed first
	defer func() {
		began := time.Now()
		if err := st.Close(); err != nil {
			log.Error("closing store", "err", err)
		}
		attrs := []any{"took", time.Since(began).Round(time.Millisecond)}
		if !stopping.IsZero() {
			attrs = append(attrs, "stop_took", time.Since(stopping).Round(time.Millisecond))
		}
		log.Info("store closed", attrs...)
	}()
	cat, err := catalogueWithPolicy(cfg.Standards.Policy)
	if err != nil {
		return err
	}
	proxies, err := cfg.Server.Proxies()
	if err != nil {
		return err // Validate has already refused these
	}
	// One authenticator for pages and API, so a session and an admin
	// token mean the same to both.
	authn := &auth.Authenticator{Store: st, Idle: cfg.Web.SessionIdle, Max: cfg.Web.SessionMax, Log: log.With("component", "auth")}
	// 0 in the file is no limit; to the Server, 0 is its default.
	inflight := cfg.Ingest.MaxInflightWrites
	if inflight == 0 {
		inflight = -1
	}
	srv := &api.Server{Store: st, Auth: authn, Catalogue: cat, MaxBody: int64(cfg.Ingest.MaxBody), MaxInflightWrites: inflight,
		WriteLatencyTarget: cfg.Ingest.WriteLatencyTarget, TrustedProxies: proxies, Log: log.With("component", "api")}
	pages := &web.Server{Store: st, Catalogue: cat, Auth: authn, SecureCookies: cfg.Web.SecureCookies, Log: log.With("component", "web")}
	var speed *speedtest.Server
	if cfg.Speedtest.Enabled {
		speed = &speedtest.Server{Auth: speedtest.StoreAuth{Store: st}, MaxDuration: cfg.Speedtest.MaxDuration,
			MaxConcurrent: cfg.Speedtest.MaxConcurrent, Log: log.With("component", "speedtest")}
		srv.Collectors = append(srv.Collectors, speedtestMetrics{speed})
	}
	var sink *influx.Sink
	var exporter *influx.Exporter
	if ic := cfg.Influx; ic.Enabled() {
		tags := &influx.TagCache{Dir: st, Log: log.With("component", "influx")}
		sink = influx.New(influx.Config{URL: ic.URL, Token: ic.Token, Org: ic.Org, Bucket: ic.Bucket, QueueSize: ic.QueueSize,
			BatchSize: ic.BatchSize, FlushInterval: ic.FlushInterval, Timeout: ic.Timeout, MaxBackoff: ic.MaxBackoff},
			tags, log.With("component", "influx"))
		exporter = &influx.Exporter{Store: st, Catalogue: cat, Sink: sink}
		srv.OnWrite = sink.Enqueue
		srv.Collectors = append(srv.Collectors, sink.Collectors()...)
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	hs := &http.Server{Handler: withSpeedtest(pages.Handler(srv.Handler()), speed), ConnContext: speedtest.ConnContext, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 2 * time.Minute, IdleTimeout: 2 * time.Minute}
	runner := &jobs.Runner{Store: st, Catalogue: cat, Retention: cfg.Retention.Raw, HourlyRetention: cfg.Retention.Hourly, Log: log.With("component", "jobs")}
	// On a store several collectors share (PostgreSQL), each job runs on
	// one of them per round.
	if l, ok := st.(jobs.Leader); ok {
		runner.Leader = l
	}

	jobCtx, stopJobs := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, j := range []struct {
		name  string
		every time.Duration
		fn    func(context.Context) error
	}{
		{"rollup", cfg.Jobs.RollupEvery, runner.Rollup},
		{"score", cfg.Jobs.ScoreEvery, runner.ScoreAll},
		{"prune", cfg.Jobs.PruneEvery, runner.Prune},
		{"sessions", cfg.Jobs.PruneEvery, pages.Prune},
	} {
		wg.Add(1)
		go func() { defer wg.Done(); runner.Every(jobCtx, j.name, j.every, j.fn) }()
	}
	// The sink outlives the HTTP server so the points of the last requests
	// are still written.
	sinkCtx, stopSink := context.WithCancel(context.Background())
	sinkDone := make(chan struct{})
	if sink != nil {
		go func() { defer close(sinkDone); sink.Run(sinkCtx) }()
		wg.Add(1)
		go func() {
			defer wg.Done()
			runner.Every(jobCtx, "influx-status", cfg.Influx.StatusEvery, exporter.Export)
		}()
	} else {
		close(sinkDone)
	}
	defer func() { stopSink(); <-sinkDone }()
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	log.Info("collector listening", "version", version.Version, "url", "http://"+ln.Addr().String(), "store", storeName(cfg), "catalogue", cat.Version,
		"speedtest", cfg.Speedtest.Enabled, "trusted_proxies", len(proxies), "max_inflight_writes", cfg.Ingest.MaxInflightWrites,
		"write_latency_target", cfg.Ingest.WriteLatencyTarget, "influx", cfg.Influx.URL)
	select {
	case <-ctx.Done():
	case err := <-errc:
		stopJobs()
		wg.Wait()
		return fmt.Errorf("http server: %w", err)
	}
	stopping = time.Now()
	log.Info("collector stopping")
	shutCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Warn("http shutdown", "err", err)
	}
	log.Info("requests finished", "took", time.Since(stopping).Round(time.Millisecond))
	began := time.Now()
	stopJobs()
	wg.Wait()
	log.Info("jobs stopped", "took", time.Since(began).Round(time.Millisecond))
	return nil
}

// withSpeedtest serves the speed-test paths from sp (nil: not served) and
// everything else from the pages and the API. The speed test stays outside the API's
// instrumented mux, whose response wrapper would hide the connection's
// deadlines from it.
func withSpeedtest(apiHandler http.Handler, sp *speedtest.Server) http.Handler {
	if sp == nil {
		return apiHandler
	}
	mux := http.NewServeMux()
	mux.Handle(wire.SpeedtestDownloadPath, sp.Handler())
	mux.Handle(wire.SpeedtestUploadPath, sp.Handler())
	mux.Handle("/", apiHandler)
	return mux
}

// speedtestMetrics puts the speed-test server's counters on /metrics.
type speedtestMetrics struct{ sp *speedtest.Server }

var (
	speedBytesDesc = prometheus.NewDesc("probity_speedtest_bytes_total", "Speed-test bytes by direction (download: sent, upload: received).", []string{"direction"}, nil)
	speedTestsDesc = prometheus.NewDesc("probity_speedtest_transfers_total", "Speed-test transfers started, by direction.", []string{"direction"}, nil)
	speedRefDesc   = prometheus.NewDesc("probity_speedtest_refused_total", "Speed-test requests refused, by reason.", []string{"reason"}, nil)
	speedActDesc   = prometheus.NewDesc("probity_speedtest_active", "Speed-test transfers in progress.", nil, nil)
)

func (speedtestMetrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- speedBytesDesc
	ch <- speedTestsDesc
	ch <- speedRefDesc
	ch <- speedActDesc
}

func (m speedtestMetrics) Collect(ch chan<- prometheus.Metric) {
	st := m.sp.Stats()
	counter := func(d *prometheus.Desc, v int64, label string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), label)
	}
	counter(speedBytesDesc, st.BytesSent, "download")
	counter(speedBytesDesc, st.BytesReceived, "upload")
	counter(speedTestsDesc, st.Downloads, "download")
	counter(speedTestsDesc, st.Uploads, "upload")
	counter(speedRefDesc, st.RejectedBusy, "busy")
	counter(speedRefDesc, st.Unauthorized, "unauthorized")
	counter(speedRefDesc, st.AuthErrors, "auth_unavailable")
	counter(speedRefDesc, st.BadRequests, "bad_request")
	ch <- prometheus.MustNewConstMetric(speedActDesc, prometheus.GaugeValue, float64(st.Active))
}

// storeName says which store serve uses, for the log (no password).
func storeName(cfg settings.Collector) string {
	if cfg.Store.Driver == "postgres" {
		return "postgres"
	}
	return cfg.DBPath()
}
