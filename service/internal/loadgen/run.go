package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Run sends load until ctx is done or the configured duration has passed. When running
// until stopped it writes a report line to out every ReportEvery; at the end it writes the
// whole run's report and returns it. Requests in flight at the end are let finish.
func Run(ctx context.Context, cfg Config, out io.Writer, log *slog.Logger) Report {
	if cfg.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cfg.Duration)
		defer cancel()
	}
	seed := cfg.Seed
	if seed == 0 {
		seed = rand.Uint64()
	}
	client := &http.Client{Timeout: cfg.Timeout, Transport: &http.Transport{
		MaxIdleConns:        cfg.Concurrency,
		MaxIdleConnsPerHost: cfg.Concurrency,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}}
	defer client.CloseIdleConnections()
	p := &pacer{start: time.Now()}
	if cfg.Rate > 0 {
		p.interval = time.Duration(float64(time.Second) / cfg.Rate)
	}
	log.Info("starting", "target", cfg.Target, "rate", cfg.Rate, "concurrency", cfg.Concurrency,
		"duration", cfg.Duration.String(), "invalid_ratio", cfg.InvalidRatio, "summary_ratio", cfg.SummaryRatio,
		"sensors", cfg.Sensors, "batch", cfg.Batch)

	recorders := make([]*recorder, cfg.Concurrency)
	var wg sync.WaitGroup
	for i := range recorders {
		rec := &recorder{}
		recorders[i] = rec
		w := &worker{
			cfg: &cfg, client: client, base: strings.TrimRight(cfg.Target, "/"), pacer: p, rec: rec,
			mix: mix{cfg: &cfg, rng: rand.New(rand.NewPCG(seed, uint64(i)))},
		}
		wg.Go(func() { w.run(ctx) })
	}

	done := make(chan struct{})
	var total tally
	var reporter sync.WaitGroup
	reporter.Go(func() {
		ticker := time.NewTicker(cfg.ReportEvery)
		defer ticker.Stop()
		last := p.start
		for {
			select {
			case <-done:
				return
			case now := <-ticker.C:
				var interval tally
				for _, r := range recorders {
					r.drainInto(&interval)
				}
				total.add(&interval)
				logFailures(log, &interval)
				if cfg.Duration == 0 {
					writeReport(out, interval.report(cfg.Target, now.Sub(last), false))
				}
				last = now
			}
		}
	})
	wg.Wait()
	elapsed := time.Since(p.start)
	close(done)
	reporter.Wait()
	var rest tally
	for _, r := range recorders {
		r.drainInto(&rest)
	}
	logFailures(log, &rest)
	total.add(&rest)
	report := total.report(cfg.Target, elapsed, true)
	writeReport(out, report)
	log.Info("stopped", "requests", report.Requests, "errors", report.Errors, "unexpected", report.Unexpected)
	return report
}

func writeReport(out io.Writer, r Report) {
	b, _ := json.Marshal(r)
	_, _ = out.Write(append(b, '\n'))
}

func logFailures(log *slog.Logger, t *tally) {
	if t.errors > 0 {
		log.Warn("requests failed", "count", t.errors, "last_error", t.lastErr)
	}
}

// pacer hands out send times spread evenly at the rate, shared by all workers; a worker
// that falls behind sends at once until it catches up.
type pacer struct {
	start    time.Time
	interval time.Duration // 0: no pacing
	next     atomic.Int64
}

func (p *pacer) slot() time.Time {
	n := p.next.Add(1) - 1
	return p.start.Add(time.Duration(n) * p.interval)
}

type worker struct {
	cfg    *Config
	client *http.Client
	base   string
	pacer  *pacer
	rec    *recorder
	mix    mix
}

func (w *worker) run(ctx context.Context) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for ctx.Err() == nil {
		if w.pacer.interval > 0 {
			if d := time.Until(w.pacer.slot()); d > 0 {
				timer.Reset(d)
				select {
				case <-ctx.Done():
					return
				case <-timer.C:
				}
			}
		}
		w.send(w.mix.next())
	}
}

// send makes one request; it is not cancelled with the run, so the run ends cleanly.
func (w *worker) send(p plan) {
	var body io.Reader
	if p.body != nil {
		body = bytes.NewReader(p.body)
	}
	req, err := http.NewRequest(p.method, w.base+p.path, body)
	if err != nil {
		w.rec.record(p.kind, 0, err, 0)
		return
	}
	if p.contentType != "" {
		req.Header.Set("Content-Type", p.contentType)
	}
	start := time.Now()
	resp, err := w.client.Do(req)
	if err != nil {
		w.rec.record(p.kind, 0, err, 0)
		return
	}
	_, err = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	w.rec.record(p.kind, resp.StatusCode, err, time.Since(start))
}
