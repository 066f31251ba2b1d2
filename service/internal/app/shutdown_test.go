package app

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"hybridctl.dev/service/internal/config"
)

// syncBuffer is a log sink safe to read while the server writes.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func testConfig(drain, timeout time.Duration) config.Config {
	return config.Config{
		Site: "onprem", NodeName: "node-1", ListenAddr: "127.0.0.1:0", SummaryWindow: time.Minute,
		MaxBodyBytes: 65536, MaxSeries: 100, DrainDelay: drain, ShutdownTimeout: timeout,
	}
}

type running struct {
	app  *App
	url  string
	stop context.CancelFunc
	done chan error
	logs *syncBuffer
}

func start(t *testing.T, cfg config.Config) *running {
	t.Helper()
	logs := &syncBuffer{}
	a := New(cfg, logs, nil)
	ln, err := a.Listen()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{app: a, url: "http://" + ln.Addr().String(), stop: cancel, done: make(chan error, 1), logs: logs}
	go func() { r.done <- a.Run(ctx, ln) }()
	t.Cleanup(cancel)
	waitFor(t, "ready", func() bool { return status(r.url+"/readyz") == 200 })
	return r
}

// status GETs url on a new connection; 0 means no connection could be made.
func status(url string) int {
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// slowPost starts a POST whose body arrives only when finish is called.
func slowPost(t *testing.T, r *running) (finish func(), result chan *http.Response) {
	t.Helper()
	pr, pw := io.Pipe()
	req, _ := http.NewRequest("POST", r.url+"/api/readings", pr)
	req.Header.Set("Content-Type", "application/json")
	result = make(chan *http.Response, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Logf("slow request: %v", err)
		}
		result <- resp
	}()
	_, _ = pw.Write([]byte(`{"sensor":"slow-1","metric":"power",`))
	waitFor(t, "the slow request to be in flight", func() bool { return testutil.ToFloat64(r.app.Metrics.InFlight) == 1 })
	return func() {
		_, _ = pw.Write([]byte(`"value":42}`))
		_ = pw.Close()
	}, result
}

func TestGracefulShutdown(t *testing.T) {
	r := start(t, testConfig(time.Second, 5*time.Second))
	finish, result := slowPost(t, r)

	r.stop() // what SIGTERM does in main
	waitFor(t, "/readyz to report draining", func() bool { return status(r.url+"/readyz") == 503 })
	if s := status(r.url + "/healthz"); s != 200 {
		t.Errorf("healthz while draining: %d", s)
	}
	// After the drain delay the listener closes; the slow request is still being read.
	waitFor(t, "the listener to close", func() bool { return status(r.url+"/healthz") == 0 })
	select {
	case err := <-r.done:
		t.Fatalf("server stopped before its in-flight request finished: %v", err)
	default:
	}

	finish()
	resp := <-result
	if resp == nil || resp.StatusCode != 202 {
		t.Fatalf("in-flight request: %+v", resp)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if !strings.Contains(string(body), `"accepted":1`) {
		t.Errorf("body %s", body)
	}
	select {
	case err := <-r.done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("server did not stop")
	}
	logs := r.logs.String()
	for _, msg := range []string{`"msg":"listening"`, `"msg":"draining"`, `"msg":"shutting down"`, `"msg":"stopped"`} {
		if !strings.Contains(logs, msg) {
			t.Errorf("no %s in logs:\n%s", msg, logs)
		}
	}
}

func TestShutdownTimeout(t *testing.T) {
	r := start(t, testConfig(0, 200*time.Millisecond))
	finish, result := slowPost(t, r)
	defer func() { finish(); <-result }()
	r.stop()
	select {
	case err := <-r.done:
		if err == nil || !strings.Contains(err.Error(), "did not finish within 200ms") {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("server did not give up")
	}
}

func TestListenFailure(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cfg := testConfig(0, time.Second)
	cfg.ListenAddr = ln.Addr().String()
	if _, err := New(cfg, io.Discard, nil).Listen(); err == nil {
		t.Fatal("listening twice on one port worked")
	}
}
