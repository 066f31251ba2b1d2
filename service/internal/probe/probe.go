package probe

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// maxBody is how much of an answer is read; the readings service answers a few bytes here.
const maxBody = 64 << 10

// Run probes every target at once until each has had its Count requests, or, for a target
// that has not answered 2xx yet, until it does; the whole run ends at the Deadline or when
// ctx is done. Results are in the order of cfg.Targets.
func Run(ctx context.Context, cfg Config) Report {
	ctx, cancel := context.WithTimeout(ctx, cfg.Deadline)
	defer cancel()
	client := &http.Client{
		Transport: &http.Transport{
			Proxy:               nil, // the point is the direct path through the tunnel
			DialContext:         (&net.Dialer{KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConnsPerHost: 1,
			IdleConnTimeout:     90 * time.Second,
			TLSHandshakeTimeout: cfg.Timeout,
			DisableCompression:  true,
		},
		// A redirect would lead somewhere else than the target: report the 3xx instead.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	defer client.CloseIdleConnections()

	report := Report{Results: make([]Result, len(cfg.Targets))}
	var wg sync.WaitGroup
	for i, target := range cfg.Targets {
		wg.Go(func() {
			p := &prober{cfg: &cfg, client: client, target: target}
			report.Results[i] = p.run(ctx)
		})
	}
	wg.Wait()
	return report
}

// prober probes one target.
type prober struct {
	cfg    *Config
	client *http.Client
	target string
	tally  tally
}

func (p *prober) run(ctx context.Context) Result {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var last time.Time
	for sent := 0; sent < p.cfg.Count || p.tally.ok == 0; sent++ {
		if sent > 0 {
			if d := time.Until(last.Add(p.cfg.Interval)); d > 0 {
				timer.Reset(d)
				select {
				case <-ctx.Done():
				case <-timer.C:
				}
			}
		}
		if ctx.Err() != nil {
			break
		}
		last = time.Now()
		p.once(ctx)
	}
	return p.tally.result(p.target)
}

// once sends one request and records its outcome.
func (p *prober) once(runCtx context.Context) {
	ctx, cancel := context.WithTimeout(runCtx, p.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.target, nil)
	if err != nil {
		p.tally.fail(err.Error())
		return
	}
	req.Header.Set("User-Agent", "hybridctl-probe")
	start := time.Now()
	resp, err := p.client.Do(req)
	if err != nil && runCtx.Err() != nil {
		// Cut off by the deadline or a signal: it counts, but what earlier requests ran into
		// says more.
		p.tally.cutOff(p.describe(err, ctx, runCtx))
		return
	}
	if err != nil {
		p.tally.fail(p.describe(err, ctx, runCtx))
		return
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	_ = resp.Body.Close()
	rtt := time.Since(start)
	p.tally.answeredBy(resp.Header.Get("X-Site"), resp.Header.Get("X-Node"))
	switch {
	case err != nil && runCtx.Err() != nil:
		p.tally.cutOff("reading the answer: " + p.describe(err, ctx, runCtx))
	case err != nil:
		p.tally.fail("reading the answer: " + p.describe(err, ctx, runCtx))
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		p.tally.fail(statusError(resp, body))
	default:
		p.tally.success(rtt)
	}
}

// describe says why a request failed, shortly: the target is in the result already, so the
// URL is left out, and a timeout names the limit that ended it and whether the connection
// was up yet.
func (p *prober) describe(err error, reqCtx, runCtx context.Context) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if reqCtx.Err() == nil {
		return err.Error()
	}
	limit := "-timeout " + p.cfg.Timeout.String()
	switch {
	case errors.Is(runCtx.Err(), context.Canceled):
		return "stopped"
	case runCtx.Err() != nil:
		limit = "-deadline " + p.cfg.Deadline.String()
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return "no connection within " + limit
	}
	return "no answer within " + limit
}

// statusError is a non-2xx answer: the status and the start of the body, on one line.
func statusError(resp *http.Response, body []byte) string {
	msg := strconv.Itoa(resp.StatusCode)
	if text := http.StatusText(resp.StatusCode); text != "" {
		msg += " " + text
	}
	if b := clean(string(body[:min(len(body), 256)]), 256); b != "" {
		msg += ": " + b
	}
	return msg
}
