package httpx

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"hybridctl.dev/service/internal/metrics"
)

func newStack(logs *bytes.Buffer) *Stack {
	log := slog.New(slog.NewJSONHandler(logs, nil)).With("site", "aws", "node", "n1")
	return &Stack{Log: log, Metrics: metrics.New(metrics.Options{}), IDs: NewIDs(), Site: "aws", Node: "n1"}
}

func decodeError(t *testing.T, rec *httptest.ResponseRecorder) errorBody {
	t.Helper()
	var e errorBody
	if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil {
		t.Fatalf("body %q: %v", rec.Body, err)
	}
	return e
}

func TestRecoverAnswers500AndLogs(t *testing.T) {
	var logs bytes.Buffer
	h := newStack(&logs).Wrap("/boom", http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("kaboom") }))
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/boom", nil)
	req.Header.Set(HeaderRequestID, "req-1")
	h.ServeHTTP(rec, req)

	if rec.Code != 500 || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("got %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	if e := decodeError(t, rec); e.Error != "internal error" || e.RequestID != "req-1" {
		t.Errorf("body %+v", e)
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `"msg":"panic"`) || !strings.Contains(lines[0], `"panic":"kaboom"`) ||
		!strings.Contains(lines[1], `"msg":"request"`) || !strings.Contains(lines[1], `"status":500`) {
		t.Errorf("logs:\n%s", logs.String())
	}
}

func TestRecoverAfterHeadersAbortsTheResponse(t *testing.T) {
	var logs bytes.Buffer
	h := newStack(&logs).Wrap("/half", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(200)
		panic("late")
	}))
	defer func() {
		if p := recover(); p != http.ErrAbortHandler {
			t.Errorf("recovered %v, want http.ErrAbortHandler", p)
		}
		if !strings.Contains(logs.String(), `"panic":"late"`) {
			t.Errorf("logs:\n%s", logs.String())
		}
	}()
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/half", nil))
}

func TestRequestID(t *testing.T) {
	var logs bytes.Buffer
	h := newStack(&logs).Wrap("/x", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(RequestID(w)))
	}))
	cases := []struct{ sent, want string }{
		{"abc-123_x.y:z", "abc-123_x.y:z"},
		{"has space", ""},
		{strings.Repeat("a", 129), ""},
		{"", ""},
	}
	for _, tc := range cases {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "/x", nil)
		if tc.sent != "" {
			req.Header.Set(HeaderRequestID, tc.sent)
		}
		h.ServeHTTP(rec, req)
		got := rec.Header().Get(HeaderRequestID)
		if tc.want != "" && got != tc.want || tc.want == "" && (got == tc.sent || got == "") {
			t.Errorf("sent %q: got id %q", tc.sent, got)
		}
		if rec.Body.String() != got {
			t.Errorf("handler saw %q, header %q", rec.Body, got)
		}
		if rec.Header().Get("X-Site") != "aws" || rec.Header().Get("X-Node") != "n1" {
			t.Errorf("site headers %v", rec.Header())
		}
	}
}

func TestGeneratedIDsDiffer(t *testing.T) {
	ids := NewIDs()
	seen := map[string]bool{}
	for range 1000 {
		id := ids.Next()
		if seen[id] || !SaneRequestID(id) {
			t.Fatalf("id %q repeated or not sane", id)
		}
		seen[id] = true
	}
}

func TestRouterAndMethods(t *testing.T) {
	var logs bytes.Buffer
	s := newStack(&logs)
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	rt := NewRouter(s.Wrap(RouteOther, NotFound()))
	rt.Handle("/a", s.Wrap("/a", Methods{"GET": ok, "POST": ok}))

	rec := httptest.NewRecorder()
	rt.ServeHTTP(rec, httptest.NewRequest("DELETE", "/a", nil))
	if rec.Code != 405 || rec.Header().Get("Allow") != "GET, HEAD, POST" || !strings.Contains(decodeError(t, rec).Error, "DELETE") {
		t.Errorf("405: %d %v %s", rec.Code, rec.Header(), rec.Body)
	}
	rec = httptest.NewRecorder()
	rt.ServeHTTP(rec, httptest.NewRequest("HEAD", "/a", nil))
	if rec.Code != 200 {
		t.Errorf("HEAD: %d", rec.Code)
	}
	rec = httptest.NewRecorder()
	rt.ServeHTTP(rec, httptest.NewRequest("GET", "/a/b?x=1", nil))
	if rec.Code != 404 || decodeError(t, rec).Error != "no route for /a/b" {
		t.Errorf("404: %d %s", rec.Code, rec.Body)
	}
	if !strings.Contains(logs.String(), `"route":"other","path":"/a/b"`) {
		t.Errorf("logs:\n%s", logs.String())
	}
}

func TestLimitBody(t *testing.T) {
	refused := 0
	h := LimitBody(10, func() { refused++ }, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var buf bytes.Buffer
		if _, err := buf.ReadFrom(r.Body); IsTooLarge(err) {
			WriteError(w, 413, "late")
		}
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/", strings.NewReader(strings.Repeat("x", 11))))
	if rec.Code != 413 || refused != 1 || decodeError(t, rec).Error != "body is larger than 10 bytes" {
		t.Errorf("declared: %d %d %s", rec.Code, refused, rec.Body)
	}
	req := httptest.NewRequest("POST", "/", strings.NewReader(strings.Repeat("x", 11)))
	req.ContentLength = -1 // chunked: only reading finds out
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 413 || decodeError(t, rec).Error != "late" {
		t.Errorf("chunked: %d %s", rec.Code, rec.Body)
	}
}

func TestLogLine(t *testing.T) {
	var logs bytes.Buffer
	h := newStack(&logs).Wrap("/x", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(201)
		_, _ = w.Write([]byte("hello"))
	}))
	req := httptest.NewRequest("PUT", "/x", nil)
	req.Header.Set(HeaderRequestID, "rid")
	h.ServeHTTP(httptest.NewRecorder(), req)
	var line map[string]any
	if err := json.Unmarshal(logs.Bytes(), &line); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{
		"level": "INFO", "msg": "request", "method": "PUT", "route": "/x", "path": "/x", "status": 201.0,
		"bytes": 5.0, "site": "aws", "node": "n1", "request_id": "rid", "remote": "192.0.2.1:1234",
	} {
		if line[k] != want {
			t.Errorf("%s = %v, want %v", k, line[k], want)
		}
	}
	for _, k := range []string{"time", "duration_ms"} {
		if _, ok := line[k]; !ok {
			t.Errorf("no %s in %v", k, line)
		}
	}
}
