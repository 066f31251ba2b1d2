package probe

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"hybridctl.dev/service/internal/app"
	"hybridctl.dev/service/internal/config"
)

// readings is the real readings service on a test server.
func readings(t *testing.T, site, node string) *httptest.Server {
	t.Helper()
	a := app.New(config.Config{Site: site, NodeName: node, SummaryWindow: time.Minute, MaxBodyBytes: 65536, MaxSeries: 100}, io.Discard, nil)
	a.Ready.Store(true)
	srv := httptest.NewServer(a.Handler)
	t.Cleanup(srv.Close)
	return srv
}

func server(t *testing.T, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// closedURL is an address nothing listens on.
func closedURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return "http://" + addr + "/readyz"
}

func cfg(count int, interval, timeout, deadline time.Duration, targets ...string) Config {
	return Config{Targets: targets, Count: count, Interval: interval, Timeout: timeout, Deadline: deadline}
}

func TestRunAgainstTheReadingsService(t *testing.T) {
	srv := readings(t, "onprem", "onprem-worker-1")
	start := time.Now()
	r := Run(context.Background(), cfg(5, 20*time.Millisecond, time.Second, 10*time.Second, srv.URL+"/readyz"))
	elapsed := time.Since(start)

	res := r.Results[0]
	if res.OK != 5 || res.Failed != 0 || res.Error != "" || res.Site != "onprem" || res.Node != "onprem-worker-1" || res.Target != srv.URL+"/readyz" {
		t.Errorf("result %+v", res)
	}
	if res.RTTMs == nil || res.RTTMs.Min <= 0 || res.RTTMs.Min > res.RTTMs.P50 || res.RTTMs.P50 > res.RTTMs.Max {
		t.Errorf("rtt %+v", res.RTTMs)
	}
	if elapsed < 80*time.Millisecond || elapsed > 5*time.Second {
		t.Errorf("5 requests 20ms apart took %v", elapsed)
	}
	if !r.AllOK() {
		t.Error("not all ok")
	}
}

func TestRunRecordsFailedAnswers(t *testing.T) {
	var n atomic.Int32
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Site", "aws")
		w.Header().Set("X-Node", "aws-worker-1")
		if n.Add(1)%2 == 0 {
			w.WriteHeader(503)
			_, _ = io.WriteString(w, "draining\n")
			return
		}
		_, _ = io.WriteString(w, "ready\n")
	})
	r := Run(context.Background(), cfg(4, 0, time.Second, 10*time.Second, srv.URL+"/readyz"))
	res := r.Results[0]
	if res.OK != 2 || res.Failed != 2 || res.Error != "503 Service Unavailable: draining" || res.Site != "aws" || res.Node != "aws-worker-1" || res.RTTMs == nil {
		t.Errorf("result %+v", res)
	}
	if !r.AllOK() {
		t.Error("answered ok twice, so ok")
	}
}

func TestRunKeepsRetryingATargetThatNeverAnswersUntilTheDeadline(t *testing.T) {
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Site", "aws")
		w.Header().Set("X-Node", "aws-worker-2")
		http.Error(w, "no route for /nope", 404)
	})
	closed := closedURL(t)
	start := time.Now()
	r := Run(context.Background(), cfg(2, 50*time.Millisecond, time.Second, 500*time.Millisecond, srv.URL+"/nope", closed))
	elapsed := time.Since(start)

	if elapsed < 450*time.Millisecond || elapsed > 3*time.Second {
		t.Errorf("took %v, want about the deadline", elapsed)
	}
	for i, want := range []string{"404 Not Found: no route for /nope", "connection refused"} {
		res := r.Results[i]
		if res.OK != 0 || res.Failed < 5 || res.Failed > 11 || !strings.Contains(res.Error, want) || res.RTTMs != nil {
			t.Errorf("result %d: %+v, want about 10 failures with %q", i, res, want)
		}
		if strings.Contains(res.Error, "http://") {
			t.Errorf("result %d: the error repeats the URL: %q", i, res.Error)
		}
	}
	if r.Results[0].Site != "aws" || r.Results[0].Node != "aws-worker-2" || r.Results[1].Site != "" {
		t.Errorf("answerers %+v", r.Results)
	}
	if r.AllOK() {
		t.Error("all ok")
	}
}

// A fresh tunnel: nothing answers at first, then the service does.
func TestRunRetriesUntilTheTargetAnswers(t *testing.T) {
	target := closedURL(t)
	addr := strings.TrimSuffix(strings.TrimPrefix(target, "http://"), "/readyz")
	a := app.New(config.Config{Site: "aws", NodeName: "aws-worker-1", SummaryWindow: time.Minute, MaxBodyBytes: 65536, MaxSeries: 100}, io.Discard, nil)
	a.Ready.Store(true)
	up := make(chan *http.Server, 1)
	time.AfterFunc(400*time.Millisecond, func() {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Errorf("listen again on %s: %v", addr, err)
			up <- nil
			return
		}
		s := &http.Server{Handler: a.Handler}
		up <- s
		_ = s.Serve(ln)
	})
	t.Cleanup(func() {
		if s := <-up; s != nil {
			_ = s.Close()
		}
	})

	r := Run(context.Background(), cfg(3, 50*time.Millisecond, time.Second, 10*time.Second, target))
	res := r.Results[0]
	// -count is reached while nothing answers; the retries go on until the first 2xx.
	if res.OK != 1 || res.Failed < 4 || !strings.Contains(res.Error, "connection refused") || res.Site != "aws" || res.Node != "aws-worker-1" || res.RTTMs == nil {
		t.Errorf("result %+v", res)
	}
	if !r.AllOK() {
		t.Error("not ok")
	}
}

func TestRunTimesOutSlowAnswers(t *testing.T) {
	release := make(chan struct{})
	slow := server(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	defer close(release) // before the servers close: that waits for the handlers
	lagging := server(t, func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(60 * time.Millisecond)
		_, _ = io.WriteString(w, "ready\n")
	})
	start := time.Now()
	r := Run(context.Background(), cfg(2, 0, 200*time.Millisecond, 900*time.Millisecond, slow.URL+"/readyz", lagging.URL+"/readyz"))
	elapsed := time.Since(start)

	res := r.Results[0]
	// The request the deadline cut off counts, but the error is the timeout the others ran into.
	if res.OK != 0 || res.Failed < 4 || res.Failed > 5 || res.Error != "no answer within -timeout 200ms" {
		t.Errorf("slow: %+v", res)
	}
	if res := r.Results[1]; res.OK != 2 || res.Failed != 0 || res.RTTMs == nil || res.RTTMs.Min < 60 {
		t.Errorf("lagging but within the timeout: %+v", res)
	}
	if elapsed < 850*time.Millisecond || elapsed > 3*time.Second {
		t.Errorf("took %v, want about the deadline", elapsed)
	}

	// A timeout longer than the deadline: the one request is cut off by the deadline.
	r = Run(context.Background(), cfg(1, 0, 5*time.Second, 300*time.Millisecond, slow.URL+"/readyz"))
	if res := r.Results[0]; res.OK != 0 || res.Failed != 1 || res.Error != "no answer within -deadline 300ms" {
		t.Errorf("cut off: %+v", res)
	}
}

func TestDescribeTimeouts(t *testing.T) {
	p := &prober{cfg: &Config{Timeout: 3 * time.Second, Deadline: 30 * time.Second}}
	live := context.Background()
	expired, cancel := context.WithTimeout(live, 0)
	defer cancel()
	stopped, stop := context.WithCancel(live)
	stop()
	dial := &url.Error{Op: "Get", URL: "http://10.0.0.1/", Err: &net.OpError{Op: "dial", Net: "tcp", Err: context.DeadlineExceeded}}
	read := &url.Error{Op: "Get", URL: "http://10.0.0.1/", Err: context.DeadlineExceeded}
	cases := []struct {
		err      error
		req, run context.Context
		want     string
	}{
		{dial, expired, live, "no connection within -timeout 3s"},
		{read, expired, live, "no answer within -timeout 3s"},
		{read, expired, expired, "no answer within -deadline 30s"},
		{read, stopped, stopped, "stopped"},
		{&url.Error{Op: "Get", URL: "http://10.0.0.1/", Err: io.EOF}, live, live, "EOF"},
	}
	for _, tc := range cases {
		if got := p.describe(tc.err, tc.req, tc.run); got != tc.want {
			t.Errorf("%v: got %q, want %q", tc.err, got, tc.want)
		}
	}
}

func TestRunDoesNotFollowRedirects(t *testing.T) {
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://192.0.2.1/elsewhere", http.StatusFound)
	})
	r := Run(context.Background(), cfg(1, 0, time.Second, 300*time.Millisecond, srv.URL+"/readyz"))
	if res := r.Results[0]; res.OK != 0 || res.Failed < 2 || !strings.HasPrefix(res.Error, "302 Found: ") {
		t.Errorf("result %+v", res)
	}
}

func TestRunRecordsEveryNodeThatAnswered(t *testing.T) {
	var n atomic.Int32
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Site", "aws")
		w.Header().Set("X-Node", []string{"aws-worker-1", "aws-worker-2"}[n.Add(1)%2])
	})
	plain := server(t, func(http.ResponseWriter, *http.Request) {})
	r := Run(context.Background(), cfg(4, 0, time.Second, 10*time.Second, srv.URL, plain.URL))
	if res := r.Results[0]; res.OK != 4 || res.Site != "aws" || res.Node != "aws-worker-2,aws-worker-1" {
		t.Errorf("result %+v", res)
	}
	if res := r.Results[1]; res.OK != 4 || res.Site != "" || res.Node != "" {
		t.Errorf("no site headers: %+v", res)
	}
}
