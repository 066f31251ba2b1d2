package api

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"hybridctl.dev/service/internal/httpx"
	"hybridctl.dev/service/internal/metrics"
	"hybridctl.dev/service/internal/store"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *fakeClock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

var t0 = time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)

type fixture struct {
	h       http.Handler
	clock   *fakeClock
	store   *store.Store
	metrics *metrics.Metrics
	ready   atomic.Bool
}

// newFixture is the whole handler stack with a one-minute window and a fake clock.
func newFixture(tb testing.TB, logs io.Writer) *fixture {
	tb.Helper()
	f := &fixture{clock: &fakeClock{t: t0}}
	f.ready.Store(true)
	f.store = store.New(time.Minute, 100, f.clock.Now)
	f.metrics = metrics.New(metrics.Options{MetricNames: store.Metrics, RejectReasons: Reasons,
		SeriesTracked: func() float64 { return float64(f.store.SeriesCount()) }})
	a := New(Options{Site: "onprem", Node: "node-1", MaxBodyBytes: 65536, Store: f.store, Metrics: f.metrics, Ready: f.ready.Load, Now: f.clock.Now})
	log := slog.New(slog.NewJSONHandler(logs, nil)).With("site", "onprem", "node", "node-1")
	f.h = a.Handler(&httpx.Stack{Log: log, Metrics: f.metrics, IDs: httpx.NewIDs(), Site: "onprem", Node: "node-1"})
	return f
}

func (f *fixture) do(method, path, contentType, body string) *httptest.ResponseRecorder {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, r)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	return rec
}

func (f *fixture) post(body string) *httptest.ResponseRecorder {
	return f.do("POST", "/api/readings", "application/json", body)
}

func decode[T any](tb testing.TB, rec *httptest.ResponseRecorder) T {
	tb.Helper()
	var v T
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		tb.Fatalf("body %q: %v", rec.Body, err)
	}
	return v
}

type errorResponse struct {
	Error     string `json:"error"`
	RequestID string `json:"requestId"`
}

type acceptedResponse struct {
	Accepted  int    `json:"accepted"`
	Dropped   int    `json:"dropped"`
	Site      string `json:"site"`
	Node      string `json:"node"`
	RequestID string `json:"requestId"`
}

type summaryResponse struct {
	Site          string  `json:"site"`
	Node          string  `json:"node"`
	WindowSeconds float64 `json:"windowSeconds"`
	Series        []struct {
		Sensor    string    `json:"sensor"`
		Metric    string    `json:"metric"`
		Unit      string    `json:"unit"`
		Count     int       `json:"count"`
		Min       float64   `json:"min"`
		Max       float64   `json:"max"`
		Mean      float64   `json:"mean"`
		LastValue float64   `json:"lastValue"`
		LastTime  time.Time `json:"lastTime"`
	} `json:"series"`
	Totals struct {
		Series             int `json:"series"`
		Sensors            int `json:"sensors"`
		Readings           int `json:"readings"`
		AcceptedSinceStart int `json:"acceptedSinceStart"`
	} `json:"totals"`
}

func reading(sensor, metric string, value float64) string {
	b, _ := json.Marshal(map[string]any{"sensor": sensor, "metric": metric, "value": value})
	return string(b)
}

func batch(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = reading("s-1", "power", float64(i))
	}
	return "[" + strings.Join(parts, ",") + "]"
}
