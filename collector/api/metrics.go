package api

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/probity-edu/probity/collector/store"
)

// metrics are the collector's own health, on a registry of its own so tests
// and several servers in one process never share counters.
type metrics struct {
	reg        *prometheus.Registry
	batches    *prometheus.CounterVec
	points     prometheus.Counter
	rejected   *prometheus.CounterVec
	enrolments *prometheus.CounterVec
	duration   *prometheus.HistogramVec
}

func newMetrics(st store.Store, adm *admission) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		batches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "probity_ingest_batches_total", Help: "Write batches by result (stored, duplicate, rejected).",
		}, []string{"result"}),
		points: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "probity_ingest_points_total", Help: "Points stored.",
		}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "probity_ingest_rejected_total", Help: "Rejected write requests by reason (busy: refused with 503, the limit on writes in progress reached).",
		}, []string{"reason"}),
		enrolments: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "probity_enrolments_total", Help: "Enrolment attempts by result.",
		}, []string{"result"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "probity_http_request_duration_seconds", Help: "HTTP request duration by route.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 8),
		}, []string{"route", "code"}),
	}
	m.reg.MustRegister(m.batches, m.points, m.rejected, m.enrolments, m.duration,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		&storeCollector{st: st},
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "probity_ingest_writes_in_progress", Help: "Writes admitted and not yet answered by the store.",
		}, func() float64 { return float64(adm.inProgress()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "probity_ingest_max_inflight_writes", Help: "ingest.max_inflight_writes: the most the limit on writes in progress may be (0: no limit).",
		}, func() float64 { return float64(adm.max) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "probity_ingest_inflight_limit", Help: "The limit on writes in progress now, past which more are refused with 503: adapted up to max_inflight_writes to keep writes' mean latency near ingest.write_latency_target (0: no limit).",
		}, func() float64 { return float64(adm.limit()) }))
	return m
}

// storeCollector reads store counts at scrape time.
type storeCollector struct{ st store.Store }

var (
	descPoints  = prometheus.NewDesc("probity_store_points", "Raw points held in the store.", nil, nil)
	descBatches = prometheus.NewDesc("probity_store_batches", "Accepted batch ids held in the store.", nil, nil)
	descSites   = prometheus.NewDesc("probity_store_sites", "Sites (schools).", nil, nil)
	descAgents  = prometheus.NewDesc("probity_store_agents", "Enrolled agents.", nil, nil)
	descUp      = prometheus.NewDesc("probity_store_up", "1 if the store answered the scrape.", nil, nil)
)

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descPoints, descBatches, descSites, descAgents, descUp} {
		ch <- d
	}
}

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := c.st.Stats(ctx)
	if err != nil {
		ch <- prometheus.MustNewConstMetric(descUp, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(descUp, prometheus.GaugeValue, 1)
	ch <- prometheus.MustNewConstMetric(descPoints, prometheus.GaugeValue, float64(s.Points))
	ch <- prometheus.MustNewConstMetric(descBatches, prometheus.GaugeValue, float64(s.Batches))
	ch <- prometheus.MustNewConstMetric(descSites, prometheus.GaugeValue, float64(s.Sites))
	ch <- prometheus.MustNewConstMetric(descAgents, prometheus.GaugeValue, float64(s.Agents))
}
