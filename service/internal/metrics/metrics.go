// Package metrics holds the service's Prometheus registry and its HTTP and business metrics.
package metrics

import (
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// DurationBuckets suit a service that answers in well under a millisecond.
var DurationBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}

// Options name the label values to publish at zero from the start.
type Options struct {
	MetricNames   []string
	RejectReasons []string
	// SeriesTracked reports the readings_series_tracked gauge.
	SeriesTracked func() float64
}

// Metrics is one registry with everything the service exports.
type Metrics struct {
	Registry *prometheus.Registry
	InFlight prometheus.Gauge
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	accepted *prometheus.CounterVec
	rejected *prometheus.CounterVec
}

// New registers the metrics, the Go runtime collector and the process collector.
func New(o Options) *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		InFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "http_requests_in_flight", Help: "HTTP requests being served.",
		}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "http_requests_total", Help: "HTTP requests answered, by route template, method and status code.",
		}, []string{"route", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "http_request_duration_seconds", Help: "Time to answer HTTP requests, by route template and method.",
			Buckets: DurationBuckets,
		}, []string{"route", "method"}),
		accepted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "readings_accepted_total", Help: "Readings stored, by metric.",
		}, []string{"metric"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "readings_rejected_total", Help: "Readings refused, by reason; a body that could not be read counts as one.",
		}, []string{"reason"}),
	}
	series := o.SeriesTracked
	if series == nil {
		series = func() float64 { return 0 }
	}
	m.Registry.MustRegister(
		m.InFlight, m.requests, m.duration, m.accepted, m.rejected,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "readings_series_tracked", Help: "Sensor+metric series held in memory.",
		}, series),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	for _, n := range o.MetricNames {
		m.accepted.WithLabelValues(n)
	}
	for _, r := range o.RejectReasons {
		m.rejected.WithLabelValues(r)
	}
	return m
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
}

// Accepted counts n stored readings of a metric.
func (m *Metrics) Accepted(metric string, n int) {
	m.accepted.WithLabelValues(metric).Add(float64(n))
}

// Rejected counts n refused readings.
func (m *Metrics) Rejected(reason string, n int) {
	m.rejected.WithLabelValues(reason).Add(float64(n))
}

// Endpoint is one route and method's request metrics, resolved once so that recording a
// request does no label hashing.
type Endpoint struct {
	vec   *prometheus.CounterVec
	route string
	mtd   string
	obs   prometheus.Observer
	codes [600]atomic.Pointer[codeCounter]
}

type codeCounter struct{ c prometheus.Counter }

// Endpoint returns the metrics of route (a template, not a raw path) and method.
func (m *Metrics) Endpoint(route, method string) *Endpoint {
	return &Endpoint{vec: m.requests, route: route, mtd: method, obs: m.duration.WithLabelValues(route, method)}
}

// Observe records one answered request.
func (e *Endpoint) Observe(code int, d time.Duration) {
	e.obs.Observe(d.Seconds())
	e.counter(code).Inc()
}

func (e *Endpoint) counter(code int) prometheus.Counter {
	if code < 0 || code >= len(e.codes) {
		return e.vec.WithLabelValues(e.route, e.mtd, strconv.Itoa(code))
	}
	if c := e.codes[code].Load(); c != nil {
		return c.c
	}
	c := &codeCounter{e.vec.WithLabelValues(e.route, e.mtd, strconv.Itoa(code))}
	e.codes[code].CompareAndSwap(nil, c)
	return c.c
}
