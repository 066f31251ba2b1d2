package api

import (
	"io"
	"strings"
	"testing"
	"time"
)

func TestSummaryContents(t *testing.T) {
	f := newFixture(t, io.Discard)
	f.post(`{"sensor":"b","metric":"power","value":100,"unit":"W"}`)
	f.post(`[{"sensor":"a","metric":"temperature","value":10,"unit":"C"},{"sensor":"a","metric":"temperature","value":20}]`)
	f.clock.Advance(2 * time.Second)
	f.post(`{"sensor":"a","metric":"temperature","value":60,"ts":"2026-11-28T10:00:01Z"}`)
	f.post(`{"sensor":"a","metric":"humidity","value":40.5}`)

	rec := f.do("GET", "/api/readings/summary", "", "")
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("%d %v", rec.Code, rec.Header())
	}
	s := decode[summaryResponse](t, rec)
	if s.Site != "onprem" || s.Node != "node-1" || s.WindowSeconds != 60 {
		t.Errorf("header fields: %+v", s)
	}
	if len(s.Series) != 3 {
		t.Fatalf("series: %+v", s.Series)
	}
	// Sorted by sensor, then metric.
	hum, temp, pow := s.Series[0], s.Series[1], s.Series[2]
	if hum.Sensor != "a" || hum.Metric != "humidity" || temp.Metric != "temperature" || pow.Sensor != "b" {
		t.Fatalf("order: %+v", s.Series)
	}
	if temp.Count != 3 || temp.Min != 10 || temp.Max != 60 || temp.Mean != 30 || temp.LastValue != 60 ||
		!temp.LastTime.Equal(t0.Add(time.Second)) || temp.Unit != "C" {
		t.Errorf("temperature: %+v", temp)
	}
	if pow.Count != 1 || pow.LastValue != 100 || !pow.LastTime.Equal(t0) || pow.Unit != "W" {
		t.Errorf("power: %+v", pow)
	}
	if s.Totals.Series != 3 || s.Totals.Sensors != 2 || s.Totals.Readings != 5 || s.Totals.AcceptedSinceStart != 5 {
		t.Errorf("totals: %+v", s.Totals)
	}
}

func TestSummaryWindowSlides(t *testing.T) {
	f := newFixture(t, io.Discard) // one-minute window, one-second buckets
	f.post(reading("a", "power", 1000))
	first := decode[summaryResponse](t, f.do("GET", "/api/readings/summary", "", ""))
	if len(first.Series) != 1 || first.Series[0].Max != 1000 {
		t.Fatalf("%+v", first)
	}
	f.clock.Advance(40 * time.Second)
	f.post(reading("a", "power", 1))

	f.clock.Advance(19 * time.Second) // the first reading is 59 s old
	if s := decode[summaryResponse](t, f.do("GET", "/api/readings/summary", "", "")); s.Series[0].Count != 2 {
		t.Fatalf("at 59 s: %+v", s.Series)
	}
	// No new readings: only the clock moves, so the cached answer must expire by itself.
	f.clock.Advance(time.Second)
	s := decode[summaryResponse](t, f.do("GET", "/api/readings/summary", "", ""))
	if s.Series[0].Count != 1 || s.Series[0].Max != 1 || s.Totals.Readings != 1 || s.Totals.AcceptedSinceStart != 2 {
		t.Fatalf("at 60 s: %+v", s)
	}
	f.clock.Advance(time.Minute)
	s = decode[summaryResponse](t, f.do("GET", "/api/readings/summary", "", ""))
	if len(s.Series) != 0 || s.Totals.Series != 0 || s.Series == nil {
		t.Fatalf("after the window: %+v (series must be [] not null)", s)
	}
	if !strings.Contains(f.do("GET", "/api/readings/summary", "", "").Body.String(), `"series":[]`) {
		t.Error("empty series is not []")
	}
}

func TestSummaryCacheSeesNewReadings(t *testing.T) {
	f := newFixture(t, io.Discard)
	for i := range 3 {
		f.post(reading("a", "power", float64(i)))
		if s := decode[summaryResponse](t, f.do("GET", "/api/readings/summary", "", "")); s.Totals.Readings != i+1 {
			t.Fatalf("after %d posts: %+v", i+1, s.Totals)
		}
	}
}

func TestSummarySensorFilter(t *testing.T) {
	f := newFixture(t, io.Discard)
	f.post("[" + reading("a", "power", 1) + "," + reading("b", "power", 2) + "," + reading("b", "humidity", 3) + "," + reading("c", "power", 4) + "]")
	s := decode[summaryResponse](t, f.do("GET", "/api/readings/summary?sensor=b", "", ""))
	if len(s.Series) != 2 || s.Series[0].Sensor != "b" || s.Series[1].Sensor != "b" || s.Totals.Series != 2 || s.Totals.Sensors != 1 || s.Totals.Readings != 2 {
		t.Errorf("%+v", s)
	}
	if s := decode[summaryResponse](t, f.do("GET", "/api/readings/summary?sensor=zzz", "", "")); len(s.Series) != 0 || s.Totals.Series != 0 {
		t.Errorf("unknown sensor: %+v", s)
	}
	for _, q := range []string{"?sensor=B%20B", "?sensor=", "?sensr=b"} {
		rec := f.do("GET", "/api/readings/summary"+q, "", "")
		e := decode[errorResponse](t, rec)
		if rec.Code != 400 || !strings.Contains(e.Error, "sens") {
			t.Errorf("%s: %d %+v", q, rec.Code, e)
		}
	}
}

func TestHealthAndReadiness(t *testing.T) {
	f := newFixture(t, io.Discard)
	if rec := f.do("GET", "/healthz", "", ""); rec.Code != 200 || rec.Body.String() != "ok\n" {
		t.Errorf("healthz: %d %q", rec.Code, rec.Body)
	}
	if rec := f.do("GET", "/readyz", "", ""); rec.Code != 200 {
		t.Errorf("readyz: %d", rec.Code)
	}
	f.ready.Store(false)
	if rec := f.do("GET", "/readyz", "", ""); rec.Code != 503 || rec.Body.String() != "draining\n" {
		t.Errorf("readyz while draining: %d %q", rec.Code, rec.Body)
	}
	if rec := f.do("GET", "/healthz", "", ""); rec.Code != 200 {
		t.Errorf("healthz while draining: %d", rec.Code)
	}
}

func TestEveryAnswerCarriesIDAndSite(t *testing.T) {
	f := newFixture(t, io.Discard)
	for _, path := range []string{"/api/readings/summary", "/healthz", "/readyz", "/metrics", "/nope"} {
		req := f.do("GET", path, "", "")
		if req.Header().Get("X-Request-Id") == "" || req.Header().Get("X-Site") != "onprem" || req.Header().Get("X-Node") != "node-1" {
			t.Errorf("%s: %v", path, req.Header())
		}
	}
}
