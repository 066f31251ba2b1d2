package api

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestIngestSingle(t *testing.T) {
	f := newFixture(t, io.Discard)
	rec := f.post(`{"sensor":"boiler-1","metric":"temperature","value":71.5,"unit":"C","ts":"2026-11-28T09:59:00Z"}`)
	if rec.Code != 202 {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	a := decode[acceptedResponse](t, rec)
	if a.Accepted != 1 || a.Site != "onprem" || a.Node != "node-1" || a.RequestID == "" || a.RequestID != rec.Header().Get("X-Request-Id") {
		t.Errorf("%+v", a)
	}
	snap := f.store.Snapshot()
	if len(snap.Series) != 1 || snap.Series[0].Unit != "C" || !snap.Series[0].LastTime.Equal(t0.Add(-time.Minute)) {
		t.Errorf("%+v", snap.Series)
	}
}

func TestIngestBatch(t *testing.T) {
	f := newFixture(t, io.Discard)
	rec := f.post(" \n" + batch(500))
	if rec.Code != 202 || decode[acceptedResponse](t, rec).Accepted != 500 {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	if got := f.store.Snapshot().Totals.Readings; got != 500 {
		t.Errorf("stored %d", got)
	}
}

func TestIngestRefusals(t *testing.T) {
	future := t0.Add(6 * time.Minute).Format(time.RFC3339)
	cases := []struct {
		name, body, want, reason string
	}{
		{"empty", "", "body is empty", ReasonInvalidJSON},
		{"not json", "hello", "body must be a JSON object", ReasonInvalidJSON},
		{"syntax", `{"sensor":}`, "body is not valid JSON", ReasonInvalidJSON},
		{"truncated", `{"sensor":"a"`, "body is not valid JSON: it ends too soon", ReasonInvalidJSON},
		{"trailing", `{"sensor":"a","metric":"power","value":1} {}`, "body has data after its JSON value", ReasonInvalidJSON},
		{"unknown field", `{"sensor":"a","metric":"power","value":1,"colour":"red"}`, `body has an unknown field "colour"`, ReasonUnknownField},
		{"sensor missing", `{"metric":"power","value":1}`, "sensor is required", ReasonInvalidSensor},
		{"sensor null", `{"sensor":null,"metric":"power","value":1}`, "sensor is required", ReasonInvalidSensor},
		{"sensor number", `{"sensor":5,"metric":"power","value":1}`, "sensor must be a string", ReasonInvalidSensor},
		{"sensor upper", reading("Boiler", "power", 1), `sensor must be 1-64 characters from a-z, 0-9, '-', '_' and '.' (got "Boiler")`, ReasonInvalidSensor},
		{"sensor empty", reading("", "power", 1), "sensor must be 1-64 characters", ReasonInvalidSensor},
		{"sensor long", reading(strings.Repeat("a", 65), "power", 1), "sensor must be 1-64 characters", ReasonInvalidSensor},
		{"metric missing", `{"sensor":"a","value":1}`, "metric is required", ReasonInvalidMetric},
		{"metric unknown", reading("a", "voltage", 1), `metric must be one of temperature, humidity, pressure, power (got "voltage")`, ReasonInvalidMetric},
		{"value missing", `{"sensor":"a","metric":"power"}`, "value is required", ReasonInvalidValue},
		{"value string", `{"sensor":"a","metric":"power","value":"1"}`, "value must be a finite number", ReasonInvalidValue},
		{"value overflow", `{"sensor":"a","metric":"power","value":1e999}`, "value must be a finite number", ReasonInvalidValue},
		{"unit long", `{"sensor":"a","metric":"power","value":1,"unit":"kilowatt-hours-per"}`, "unit must be at most 16 characters", ReasonInvalidUnit},
		{"unit control", `{"sensor":"a","metric":"power","value":1,"unit":"k\u0000W"}`, "unit must not contain control characters", ReasonInvalidUnit},
		{"ts format", `{"sensor":"a","metric":"power","value":1,"ts":"yesterday"}`, `ts must be an RFC3339 time`, ReasonInvalidTS},
		{"ts future", `{"sensor":"a","metric":"power","value":1,"ts":"` + future + `"}`, "ts must not be more than 5 minutes in the future", ReasonInvalidTS},
		{"batch empty", `[]`, "batch is empty", ReasonInvalidJSON},
		{"batch element", `[1]`, "readings[0] must be a JSON object", ReasonInvalidJSON},
		{"batch field", "[" + reading("a", "power", 1) + "," + reading("a", "power", 1) + `,{"sensor":"a","metric":"power"}]`, "readings[2].value is required", ReasonInvalidValue},
		{"batch type", `[{"sensor":"a","metric":"power","value":true}]`, "readings[0].value must be a finite number", ReasonInvalidValue},
		{"batch unknown", `[{"sensor":"a","metric":"power","value":1,"x":1}]`, `readings[0] has an unknown field "x"`, ReasonUnknownField},
		{"batch too large", batch(501), "batch has more than 500 readings", ReasonBatchTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, io.Discard)
			rec := f.post(tc.body)
			e := decode[errorResponse](t, rec)
			if rec.Code != 400 || !strings.Contains(e.Error, tc.want) || e.RequestID != rec.Header().Get("X-Request-Id") {
				t.Errorf("got %d %+v, want 400 with %q", rec.Code, e, tc.want)
			}
			if got := counterValue(t, f, "readings_rejected_total", "reason", tc.reason); got < 1 {
				t.Errorf("readings_rejected_total{reason=%q} = %v", tc.reason, got)
			}
			if f.store.SeriesCount() != 0 {
				t.Errorf("a refused request stored readings")
			}
		})
	}
}

func TestBatchIsTakenWholeOrNotAtAll(t *testing.T) {
	f := newFixture(t, io.Discard)
	rec := f.post("[" + reading("a", "power", 1) + "," + reading("B", "power", 1) + "]")
	if rec.Code != 400 || !strings.Contains(decode[errorResponse](t, rec).Error, "readings[1].sensor") {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	if f.store.SeriesCount() != 0 {
		t.Error("the valid half was stored")
	}
	if got := counterValue(t, f, "readings_rejected_total", "reason", ReasonInvalidSensor); got != 2 {
		t.Errorf("rejected %v readings, want 2", got)
	}
}

func TestBodyTooLarge(t *testing.T) {
	f := newFixture(t, io.Discard) // 64 KiB limit
	big := batch(2000)
	rec := f.post(big)
	if rec.Code != 413 || !strings.Contains(decode[errorResponse](t, rec).Error, "larger than 65536 bytes") {
		t.Fatalf("declared length: %d %s", rec.Code, rec.Body)
	}
	// Without a declared length, the limit stops the read.
	req := httptest.NewRequest("POST", "/api/readings", strings.NewReader(big))
	req.Header.Set("Content-Type", "application/json")
	req.ContentLength = -1
	rec = httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	if rec.Code != 413 || !strings.Contains(decode[errorResponse](t, rec).Error, "larger than 65536 bytes") {
		t.Fatalf("chunked: %d %s", rec.Code, rec.Body)
	}
	if got := counterValue(t, f, "readings_rejected_total", "reason", ReasonTooLarge); got != 2 {
		t.Errorf("too_large = %v", got)
	}
}

func TestContentType(t *testing.T) {
	f := newFixture(t, io.Discard)
	body := reading("a", "power", 1)
	for ct, want := range map[string]int{
		"application/json":                 202,
		"application/json; charset=UTF-8":  202,
		"text/plain":                       415,
		"":                                 415,
		"application/json; charset=latin1": 415,
		"application/xml":                  415,
	} {
		rec := f.do("POST", "/api/readings", ct, body)
		if rec.Code != want {
			t.Errorf("%q: %d %s", ct, rec.Code, rec.Body)
		}
		if want == 415 && !strings.Contains(decode[errorResponse](t, rec).Error, "Content-Type must be application/json") {
			t.Errorf("%q: %s", ct, rec.Body)
		}
	}
}

func TestMethodNotAllowed(t *testing.T) {
	f := newFixture(t, io.Discard)
	for path, allow := range map[string]string{
		"/api/readings":         "POST",
		"/api/readings/summary": "GET, HEAD",
		"/healthz":              "GET, HEAD",
	} {
		rec := f.do("PUT", path, "application/json", "{}")
		if rec.Code != 405 || rec.Header().Get("Allow") != allow || decode[errorResponse](t, rec).Error == "" {
			t.Errorf("%s: %d Allow=%q %s", path, rec.Code, rec.Header().Get("Allow"), rec.Body)
		}
	}
}

func TestRequestIDPropagation(t *testing.T) {
	f := newFixture(t, io.Discard)
	for _, body := range []string{reading("a", "power", 1), reading("A", "power", 1)} {
		req := httptest.NewRequest("POST", "/api/readings", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Request-Id", "trace-42")
		rec := httptest.NewRecorder()
		f.h.ServeHTTP(rec, req)
		if rec.Header().Get("X-Request-Id") != "trace-42" || !strings.Contains(rec.Body.String(), `"requestId":"trace-42"`) {
			t.Errorf("%d %v %s", rec.Code, rec.Header(), rec.Body)
		}
	}
}

func TestUnitIsEscapedInTheSummary(t *testing.T) {
	f := newFixture(t, io.Discard)
	if rec := f.post(`{"sensor":"a","metric":"power","value":1,"unit":"\"k\\W\" µ"}`); rec.Code != 202 {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	s := decode[summaryResponse](t, f.do("GET", "/api/readings/summary", "", ""))
	if s.Series[0].Unit != `"k\W" µ` {
		t.Errorf("unit %q", s.Series[0].Unit)
	}
}

func TestSeriesLimitDropsAndSays(t *testing.T) {
	f := newFixture(t, io.Discard) // 100 series at most
	parts := make([]string, 101)
	for i := range parts {
		parts[i] = reading("s"+strings.Repeat("x", i%3)+string(rune('a'+i%26))+string(rune('a'+i/26)), "power", 1)
	}
	rec := f.post("[" + strings.Join(parts, ",") + "]")
	a := decode[acceptedResponse](t, rec)
	if rec.Code != 202 || a.Accepted != 100 || a.Dropped != 1 {
		t.Fatalf("%d %+v", rec.Code, a)
	}
	if got := counterValue(t, f, "readings_rejected_total", "reason", ReasonSeriesLimit); got != 1 {
		t.Errorf("series_limit = %v", got)
	}
	if got := counterValue(t, f, "readings_accepted_total", "metric", "power"); got != 100 {
		t.Errorf("accepted = %v", got)
	}
}
