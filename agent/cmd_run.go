package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/probity-edu/probity/agent/enrol"
	"github.com/probity-edu/probity/agent/health"
	"github.com/probity-edu/probity/agent/probe"
	"github.com/probity-edu/probity/agent/schedule"
	"github.com/probity-edu/probity/agent/settings"
	"github.com/probity-edu/probity/agent/ship"
	"github.com/probity-edu/probity/agent/spool"
	"github.com/probity-edu/probity/internal/logging"
	"github.com/probity-edu/probity/internal/point"
	"github.com/probity-edu/probity/internal/version"
)

func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := newCommon("run")
	if done, err := c.load(args, stdout); done || err != nil {
		return err
	}
	cfg := c.config
	log := logging.New(cfg.Log, stderr).With("agent", hostname())
	cred, err := enrol.Load(cfg.CredentialPath())
	if err != nil {
		return err
	}
	url := cred.CollectorURL
	if cfg.Collector.URL != "" {
		url = cfg.Collector.URL
	}
	client, err := httpClient(cfg.Collector)
	if err != nil {
		return err
	}
	q, err := spool.Open(cfg.SpoolDir(), spool.Options{MaxBytes: int64(cfg.Spool.MaxBytes), MaxAge: cfg.Spool.MaxAge, Log: log.With("component", "spool")})
	if err != nil {
		return err
	}
	defer q.Close()
	sh, err := ship.New(ship.Options{URL: url, Token: cred.Secret, Queue: q, Client: client, Version: version.Version,
		MinBackoff: cfg.Ship.MinBackoff, MaxBackoff: cfg.Ship.MaxBackoff, Idle: cfg.Ship.BatchEvery, Log: log.With("component", "ship")})
	if err != nil {
		return err
	}
	jobs, err := buildJobs(cfg, log, &probe.Collector{URL: strings.TrimRight(url, "/"), Token: cred.Secret, Client: client})
	if err != nil {
		return err
	}
	var sched *schedule.Scheduler
	var produced atomic.Int64 // points handed to the spool: the delivery test counts them
	// Results gather for ship.batch_every and are spooled and shipped
	// together.
	gather := spool.NewGather(q, cfg.Ship.BatchEvery, sh.Wake, log.With("component", "spool"))
	put := func(pts []point.Point) {
		produced.Add(int64(len(pts)))
		gather.Add(pts)
	}
	sched, err = schedule.New(jobs, func(_ schedule.Job, pts []point.Point) { put(pts) },
		schedule.Options{Concurrency: cfg.Schedule.Concurrency, Log: log.With("component", "schedule")})
	if err != nil {
		return err
	}
	log.Info("agent started", "version", version.Version, "site", cred.Site, "collector", url, "probes", len(jobs), "state_dir", cfg.StateDir)

	var wg sync.WaitGroup
	wg.Add(3)
	go func() { defer wg.Done(); _ = sched.Run(ctx) }()
	go func() { defer wg.Done(); _ = sh.Run(ctx) }()
	go func() {
		defer wg.Done()
		t := time.NewTicker(cfg.Schedule.StatsInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-t.C:
				put([]point.Point{health.Point(now, version.Version, q.Stats(), sh.Stats(), sched.Stats())})
			}
		}
	}()
	<-ctx.Done()
	log.Info("agent stopping: finishing running probes")
	wg.Wait()
	// One last record of our own state, so the spool's counters are never lost.
	put([]point.Point{health.Point(time.Now(), version.Version, q.Stats(), sh.Stats(), sched.Stats())})
	gather.Close()
	log.Info("agent stopped", "produced_points", produced.Load(), "queued_batches", q.Stats().Batches)
	return nil
}

func buildJobs(cfg settings.Agent, log *slog.Logger, coll *probe.Collector) ([]schedule.Job, error) {
	jobs := make([]schedule.Job, 0, len(cfg.Probes))
	for _, p := range cfg.Probes {
		j, err := build(p, probe.Deps{Log: log, Collector: coll})
		if err != nil {
			return nil, err
		}
		jobs = append(jobs, j)
	}
	return jobs, nil
}

func httpClient(c settings.Collector) (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: c.InsecureSkipVerify} //nolint:gosec // only when the operator asks for it
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("collector.ca_file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("collector.ca_file: no PEM certificates in %s", c.CAFile)
		}
		tr.TLSClientConfig.RootCAs = pool
	}
	return &http.Client{Transport: tr, Timeout: c.Timeout}, nil
}

func hostname() string {
	h, err := os.Hostname()
	if err != nil {
		return "unknown"
	}
	return h
}
