package shipper

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// SelfMetrics are the shipper's own counters, served on /metrics.
type SelfMetrics struct {
	Registry    *prometheus.Registry
	Windows     prometheus.Counter
	Rows        *prometheus.CounterVec
	Errors      *prometheus.CounterVec
	LastSuccess *prometheus.GaugeVec
	TalosLines  prometheus.Counter
}

func NewSelfMetrics() *SelfMetrics {
	m := &SelfMetrics{
		Registry: prometheus.NewRegistry(),
		Windows:  prometheus.NewCounter(prometheus.CounterOpts{Name: "shipper_windows_shipped_total", Help: "Windows whose objects are all in the lake."}),
		Rows:     prometheus.NewCounterVec(prometheus.CounterOpts{Name: "shipper_rows_total", Help: "Rows written, by signal."}, []string{"signal"}),
		Errors:   prometheus.NewCounterVec(prometheus.CounterOpts{Name: "shipper_errors_total", Help: "Failed reads or writes, by signal (watermark: the watermark object)."}, []string{"signal"}),
		LastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "shipper_last_success_timestamp_seconds",
			Help: "When a signal's object was last written."}, []string{"signal"}),
		TalosLines: prometheus.NewCounter(prometheus.CounterOpts{Name: "shipper_talos_lines_received_total", Help: "Lines received from Talos and spooled."}),
	}
	m.Registry.MustRegister(m.Windows, m.Rows, m.Errors, m.LastSuccess, m.TalosLines)
	// Every error series exists from the start at 0, so a dashboard shows "no errors", not "no data".
	for _, signal := range []string{"metrics", "logs", "states", "watermark"} {
		m.Errors.WithLabelValues(signal)
	}
	return m
}

// Handler serves /metrics and /healthz.
func (m *SelfMetrics) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) })
	return mux
}
