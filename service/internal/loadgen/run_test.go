package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http/httptest"
	"testing"
	"time"

	"hybridctl.dev/service/internal/app"
	"hybridctl.dev/service/internal/config"
)

// service is the real readings service on a test server.
func service(t *testing.T) (*app.App, *httptest.Server) {
	t.Helper()
	a := app.New(config.Config{Site: "aws", NodeName: "n1", SummaryWindow: time.Minute, MaxBodyBytes: 65536, MaxSeries: 10000}, io.Discard, nil)
	a.Ready.Store(true)
	srv := httptest.NewServer(a.Handler)
	t.Cleanup(srv.Close)
	return a, srv
}

func testConfig(target string) Config {
	return Config{Target: target, Rate: 400, Concurrency: 4, Duration: time.Second, InvalidRatio: 0.1, SummaryRatio: 0.3,
		Sensors: 10, Batch: 2, ReportEvery: time.Hour, Timeout: 5 * time.Second, Seed: 7}
}

func TestRunSendsTheMixAtTheRate(t *testing.T) {
	a, srv := service(t)
	var out bytes.Buffer
	r := Run(context.Background(), testConfig(srv.URL), &out, slog.New(slog.NewJSONHandler(io.Discard, nil)))

	// Paced, so never above the rate; a busy machine may fall a little behind.
	if r.Requests < 300 || r.Requests > 410 || r.Rate < 280 || r.Rate > 420 {
		t.Errorf("requests %d at %.0f/s, want about 400", r.Requests, r.Rate)
	}
	if r.Errors != 0 || r.Unexpected != 0 {
		t.Errorf("errors %d, unexpected %d: %+v", r.Errors, r.Unexpected, r)
	}
	share := func(k string) float64 { return float64(r.ByKind[k]) / float64(r.Requests) }
	if s, i := share("summary"), share("invalid"); s < 0.2 || s > 0.4 || i < 0.04 || i > 0.18 {
		t.Errorf("summary share %.2f, invalid share %.2f: %+v", s, i, r.ByKind)
	}
	if r.ByStatus["200"] != r.ByKind["summary"] || r.ByStatus["202"] != r.ByKind["valid"] {
		t.Errorf("statuses %v for kinds %v", r.ByStatus, r.ByKind)
	}
	if got, want := a.Store.Snapshot().Totals.Accepted, 2*r.ByKind["valid"]; got != want {
		t.Errorf("the service stored %d readings, want %d (batches of 2)", got, want)
	}
	l := r.LatencyMs
	if !(l.P50 > 0 && l.P50 <= l.P90 && l.P90 <= l.P99 && l.P99 <= l.Max) {
		t.Errorf("latencies %+v", l)
	}
	var line Report
	if err := json.Unmarshal(out.Bytes(), &line); err != nil || !line.Final || line.Requests != r.Requests || bytes.Count(out.Bytes(), []byte("\n")) != 1 {
		t.Errorf("output %q: %v", out.String(), err)
	}
}

func TestRunUntilStoppedReportsEachInterval(t *testing.T) {
	_, srv := service(t)
	cfg := testConfig(srv.URL)
	cfg.Duration, cfg.ReportEvery, cfg.Rate = 0, 100*time.Millisecond, 0
	ctx, cancel := context.WithTimeout(context.Background(), 450*time.Millisecond)
	defer cancel()
	var out bytes.Buffer
	final := Run(ctx, cfg, &out, slog.New(slog.NewJSONHandler(io.Discard, nil)))

	var intervals []Report
	lines := bufio.NewScanner(&out)
	for lines.Scan() {
		var r Report
		if err := json.Unmarshal(lines.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		intervals = append(intervals, r)
	}
	if len(intervals) < 3 || !intervals[len(intervals)-1].Final {
		t.Fatalf("%d lines, last %+v", len(intervals), intervals[len(intervals)-1])
	}
	var sum uint64
	for _, r := range intervals[:len(intervals)-1] {
		if r.Final || r.ElapsedSeconds < 0.05 || r.ElapsedSeconds > 0.5 {
			t.Errorf("interval %+v", r)
		}
		sum += r.Requests
	}
	if sum > final.Requests || final.Requests == 0 || final.Errors != 0 || final.Unexpected != 0 {
		t.Errorf("intervals add to %d, final %+v", sum, final)
	}
}

func TestEveryInvalidVariantIsRefused(t *testing.T) {
	a, _ := service(t)
	cfg := testConfig("http://x")
	m := mix{cfg: &cfg, rng: rand.New(rand.NewPCG(1, 1))}
	for range 200 {
		for _, p := range []plan{m.invalid(), m.next()} {
			req := httptest.NewRequest(p.method, p.path, bytes.NewReader(p.body))
			if p.contentType != "" {
				req.Header.Set("Content-Type", p.contentType)
			}
			rec := httptest.NewRecorder()
			a.Handler.ServeHTTP(rec, req)
			if !p.kind.expects(rec.Code) {
				t.Fatalf("%s %s %s got %d %s", kindNames[p.kind], p.path, p.body, rec.Code, rec.Body)
			}
		}
	}
}

func TestTransportErrorsAreCounted(t *testing.T) {
	_, srv := service(t)
	srv.Close()
	cfg := testConfig(srv.URL)
	cfg.Duration = 100 * time.Millisecond
	r := Run(context.Background(), cfg, io.Discard, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	if r.Requests == 0 || r.Errors != r.Requests {
		t.Errorf("%+v", r)
	}
}
