package api

import (
	"io"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrape GETs /metrics through the handler and parses it as Prometheus would.
func scrape(tb testing.TB, f *fixture) map[string]*dto.MetricFamily {
	tb.Helper()
	rec := f.do("GET", "/metrics", "", "")
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/plain") {
		tb.Fatalf("/metrics: %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(rec.Body)
	if err != nil {
		tb.Fatalf("parsing /metrics: %v", err)
	}
	return families
}

// find returns the sample of family whose labels include all of labels (name, value pairs).
func find(families map[string]*dto.MetricFamily, family string, labels ...string) *dto.Metric {
	mf := families[family]
	if mf == nil {
		return nil
	}
next:
	for _, m := range mf.GetMetric() {
		for i := 0; i < len(labels); i += 2 {
			found := false
			for _, lp := range m.GetLabel() {
				if lp.GetName() == labels[i] && lp.GetValue() == labels[i+1] {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		return m
	}
	return nil
}

func counterValue(tb testing.TB, f *fixture, family string, labels ...string) float64 {
	tb.Helper()
	m := find(scrape(tb, f), family, labels...)
	if m == nil {
		return 0
	}
	return m.GetCounter().GetValue()
}

func TestMetrics(t *testing.T) {
	f := newFixture(t, io.Discard)
	f.post(reading("a", "temperature", 1))
	f.post("[" + reading("a", "power", 1) + "," + reading("b", "power", 2) + "]")
	f.post(reading("a", "volts", 1))
	f.do("GET", "/api/readings/summary", "", "")
	f.do("GET", "/api/readings/summary", "", "")
	f.do("DELETE", "/api/readings", "", "")
	f.do("GET", "/no/such/path/123", "", "")
	f.do("GET", "/another/unknown", "", "")

	fams := scrape(t, f)
	counters := []struct {
		family string
		labels []string
		want   float64
	}{
		{"http_requests_total", []string{"route", "/api/readings", "method", "POST", "code", "202"}, 2},
		{"http_requests_total", []string{"route", "/api/readings", "method", "POST", "code", "400"}, 1},
		{"http_requests_total", []string{"route", "/api/readings", "method", "DELETE", "code", "405"}, 1},
		{"http_requests_total", []string{"route", "/api/readings/summary", "method", "GET", "code", "200"}, 2},
		{"http_requests_total", []string{"route", "other", "method", "GET", "code", "404"}, 2},
		{"readings_accepted_total", []string{"metric", "temperature"}, 1},
		{"readings_accepted_total", []string{"metric", "power"}, 2},
		{"readings_accepted_total", []string{"metric", "humidity"}, 0},
		{"readings_rejected_total", []string{"reason", "invalid_metric"}, 1},
		{"readings_rejected_total", []string{"reason", "invalid_ts"}, 0},
	}
	for _, c := range counters {
		m := find(fams, c.family, c.labels...)
		if m == nil || m.GetCounter().GetValue() != c.want {
			t.Errorf("%s%v = %v, want %v", c.family, c.labels, m.GetCounter().GetValue(), c.want)
		}
	}
	if fams["http_requests_total"].GetType() != dto.MetricType_COUNTER {
		t.Error("http_requests_total is not a counter")
	}

	h := find(fams, "http_request_duration_seconds", "route", "/api/readings/summary", "method", "GET")
	if fams["http_request_duration_seconds"].GetType() != dto.MetricType_HISTOGRAM || h == nil ||
		h.GetHistogram().GetSampleCount() != 2 || len(h.GetHistogram().GetBucket()) == 0 {
		t.Errorf("summary duration histogram: %v", h)
	}
	for _, m := range fams["http_request_duration_seconds"].GetMetric() {
		for _, lp := range m.GetLabel() {
			if lp.GetName() == "route" && strings.HasPrefix(lp.GetValue(), "/no/") {
				t.Errorf("raw path used as a label: %v", m.GetLabel())
			}
		}
	}
	if g := find(fams, "readings_series_tracked"); g == nil || g.GetGauge().GetValue() != 3 {
		t.Errorf("readings_series_tracked = %v, want 3", g)
	}
	// The scrape in progress is the one request in flight.
	if g := find(fams, "http_requests_in_flight"); g == nil || g.GetGauge().GetValue() != 1 {
		t.Errorf("http_requests_in_flight = %v, want 1", g)
	}
	for _, name := range []string{"go_goroutines", "go_memstats_alloc_bytes", "process_cpu_seconds_total"} {
		if fams[name] == nil {
			t.Errorf("no %s: the Go or process collector is missing", name)
		}
	}
}
