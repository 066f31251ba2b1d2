package api

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"hybridctl.dev/service/internal/store"
)

// discardWriter is a ResponseWriter that costs nothing, so benchmarks time the handler.
type discardWriter struct {
	h    http.Header
	code int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(code int)        { w.code = code }

// loaded is a fixture holding 50 series, as in the load runs.
func loaded(b *testing.B) (*fixture, *API) {
	f := newFixture(b, io.Discard)
	for i := range 50 {
		f.post(reading(fmt.Sprintf("sensor-%d", i), "temperature", float64(i)))
	}
	a := New(Options{Site: "onprem", Node: "node-1", MaxBodyBytes: 65536, Store: f.store, Metrics: f.metrics, Now: f.clock.Now})
	return f, a
}

var reading1 = reading("sensor-1", "temperature", 21.5)

// ingestRequest is one POST to reuse, so the benchmark times the handler rather than
// building requests; each round gives it a fresh body.
func ingestRequest() (*http.Request, *strings.Reader) {
	body := strings.NewReader(reading1)
	req := httptest.NewRequest("POST", "/api/readings", body)
	req.Header.Set("Content-Type", "application/json")
	return req, body
}

func BenchmarkSummaryHandler(b *testing.B) {
	_, a := loaded(b)
	req := httptest.NewRequest("GET", "/api/readings/summary", nil)
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		a.getSummary(w, req)
	}
}

func BenchmarkIngestHandler(b *testing.B) {
	_, a := loaded(b)
	req, body := ingestRequest()
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		body.Reset(reading1)
		req.Body = io.NopCloser(body)
		a.ingest(w, req)
	}
}

// BenchmarkFullChain is a summary request through routing, the request id, metrics, the JSON
// log line (formatted, then discarded) and recovery.
func BenchmarkFullChain(b *testing.B) {
	f, _ := loaded(b)
	req := httptest.NewRequest("GET", "/api/readings/summary", nil)
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		f.h.ServeHTTP(w, req)
	}
	if w.code != 0 && w.code != 200 {
		b.Fatal(w.code)
	}
}

func BenchmarkFullChainIngest(b *testing.B) {
	f, _ := loaded(b)
	req, body := ingestRequest()
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		body.Reset(reading1)
		req.Body = io.NopCloser(body)
		f.h.ServeHTTP(w, req)
	}
	if w.code != 202 {
		b.Fatal(w.code)
	}
}

// BenchmarkSummaryAfterWrite is the summary when every request follows a new reading, so the
// cached answer is rebuilt each time: the worst case under mixed load.
func BenchmarkSummaryAfterWrite(b *testing.B) {
	f, a := loaded(b)
	req := httptest.NewRequest("GET", "/api/readings/summary", nil)
	w := &discardWriter{h: http.Header{}}
	r := []store.Reading{{Sensor: "sensor-1", Metric: "temperature", Value: 1, Time: t0}}
	b.ReportAllocs()
	for b.Loop() {
		f.store.Add(r)
		clear(w.h)
		a.getSummary(w, req)
	}
}
