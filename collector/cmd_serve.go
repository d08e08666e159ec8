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

	"github.com/probity-edu/probity/collector/api"
	"github.com/probity-edu/probity/collector/jobs"
	"github.com/probity-edu/probity/collector/report"
	"github.com/probity-edu/probity/internal/logging"
	"github.com/probity-edu/probity/internal/version"
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
	defer st.Close()
	cat, err := catalogueWithPolicy(cfg.Standards.Policy)
	if err != nil {
		return err
	}
	srv := &api.Server{Store: st, Reports: report.Renderer{Source: st, Catalogue: cat}, Catalogue: cat, MaxBody: int64(cfg.Ingest.MaxBody), Log: log.With("component", "api")}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 2 * time.Minute, IdleTimeout: 2 * time.Minute}
	runner := &jobs.Runner{Store: st, Catalogue: cat, Retention: cfg.Retention.Raw, HourlyRetention: cfg.Retention.Hourly, Log: log.With("component", "jobs")}

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
	} {
		wg.Add(1)
		go func() { defer wg.Done(); runner.Every(jobCtx, j.name, j.every, j.fn) }()
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	log.Info("collector listening", "version", version.Version, "url", "http://"+ln.Addr().String(), "store", cfg.DBPath(), "catalogue", cat.Version)
	select {
	case <-ctx.Done():
	case err := <-errc:
		stopJobs()
		wg.Wait()
		return fmt.Errorf("http server: %w", err)
	}
	log.Info("collector stopping")
	shutCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Warn("http shutdown", "err", err)
	}
	stopJobs()
	wg.Wait()
	log.Info("collector stopped")
	return nil
}
