package httpx

import (
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"hybridctl.dev/service/internal/metrics"
)

// methodLabels bound the method label; anything else counts as "other".
var methodLabels = [...]string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other"}

func methodIndex(m string) int {
	for i, l := range methodLabels[:len(methodLabels)-1] {
		if m == l {
			return i
		}
	}
	return len(methodLabels) - 1
}

// withObserve measures every request of one route: the in-flight gauge, the request counter
// and duration histogram, and the request log line.
func withObserve(route string, m *metrics.Metrics, log *requestLog, next http.Handler) http.Handler {
	var endpoints [len(methodLabels)]atomic.Pointer[metrics.Endpoint]
	endpoint := func(i int) *metrics.Endpoint {
		if e := endpoints[i].Load(); e != nil {
			return e
		}
		endpoints[i].CompareAndSwap(nil, m.Endpoint(route, methodLabels[i]))
		return endpoints[i].Load()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		m.InFlight.Inc()
		sw := &statusWriter{ResponseWriter: w}
		completed := false
		defer func() {
			// A handler that wrote nothing has answered 200; one aborted by panic has not.
			if sw.status == 0 && completed {
				sw.status = http.StatusOK
			} else if sw.status == 0 {
				sw.status = http.StatusInternalServerError
			}
			d := time.Since(start)
			m.InFlight.Dec()
			mi := methodIndex(r.Method)
			endpoint(mi).Observe(sw.status, d)
			log.write(r, route, sw, d)
		}()
		next.ServeHTTP(sw, r)
		completed = true
	})
}

// requestLog writes one line per request.
type requestLog struct{ log *slog.Logger }

func (l *requestLog) write(r *http.Request, route string, sw *statusWriter, d time.Duration) {
	level := slog.LevelInfo
	if sw.status >= 500 {
		level = slog.LevelError
	}
	ctx := r.Context()
	if !l.log.Enabled(ctx, level) {
		return
	}
	l.log.LogAttrs(ctx, level, "request",
		slog.String("method", truncate(r.Method, 16)),
		slog.String("route", route),
		slog.String("path", truncate(r.URL.Path, 256)),
		slog.Int("status", sw.status),
		slog.Float64("duration_ms", float64(d.Microseconds())/1000),
		slog.Int64("bytes", sw.bytes),
		slog.String("request_id", RequestID(sw)),
		slog.String("remote", r.RemoteAddr),
	)
}
