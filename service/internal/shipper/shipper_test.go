package shipper

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// memoryStore is a Store in memory; failAfter > 0 makes every put after that many fail, as
// if the shipper had died there.
type memoryStore struct {
	mu        sync.Mutex
	objects   map[string][]byte
	puts      []string
	failAfter int
}

func (m *memoryStore) Put(_ context.Context, key string, body []byte, _ string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failAfter > 0 && len(m.puts) >= m.failAfter {
		return errors.New("killed")
	}
	m.puts = append(m.puts, key)
	m.objects[key] = bytes.Clone(body)
	return nil
}

func (m *memoryStore) Get(_ context.Context, key string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	body, ok := m.objects[key]
	if !ok {
		return nil, ErrNotFound
	}
	return body, nil
}

func (m *memoryStore) Create(ctx context.Context, key string, body []byte, contentType string) (bool, error) {
	if _, err := m.Get(ctx, key); err == nil {
		return false, nil
	}
	return true, m.Put(ctx, key, body, contentType)
}

// deniedStore answers a missing object as S3 does to a caller without s3:ListBucket.
type deniedStore struct{ *memoryStore }

func (d deniedStore) Get(ctx context.Context, key string) ([]byte, error) {
	body, err := d.memoryStore.Get(ctx, key)
	if errors.Is(err, ErrNotFound) {
		return nil, ErrUnreadable
	}
	return body, err
}

func TestWatermarkWithoutListBucket(t *testing.T) {
	store := deniedStore{&memoryStore{objects: map[string][]byte{}}}
	ctx := context.Background()
	for range 2 {
		at, err := ReadWatermark(ctx, store, "_shipper/site=aws/shipper-aws.json")
		if err != nil || !at.IsZero() {
			t.Fatalf("first reads: %v %v, want the zero time and no error", at, err)
		}
	}
	until := time.Date(2026, 11, 30, 12, 5, 0, 0, time.UTC)
	if err := WriteWatermark(ctx, store, "_shipper/site=aws/shipper-aws.json", until); err != nil {
		t.Fatal(err)
	}
	if at, err := ReadWatermark(ctx, store, "_shipper/site=aws/shipper-aws.json"); err != nil || !at.Equal(until) {
		t.Fatalf("after a write: %v %v, want %v", at, err, until)
	}
}

func (m *memoryStore) keys(prefix string) []string {
	var keys []string
	for k := range m.objects {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

// A sample every 15 s of one counter that grows by 1 a second: rows depend on the window only.
type countingMetrics struct{ fail bool }

func (c *countingMetrics) Rows(_ context.Context, w Window) ([]MetricRow, error) {
	if c.fail {
		return nil, errors.New("prometheus is down")
	}
	var rows []MetricRow
	for ts := w.Start; ts.Before(w.End); ts = ts.Add(15 * time.Second) {
		rows = append(rows, MetricRow{TS: ts, Name: "c", Labels: "{}", Value: float64(ts.Unix())})
	}
	return rows, nil
}

type oneLinePerWindow struct{}

func (oneLinePerWindow) Rows(_ context.Context, w Window) ([]LogRow, error) {
	return []LogRow{ServiceLogRow(LogOrigin{Source: "service", Pod: "p"}, w.Start.Add(time.Second), requestLine)}, nil
}

func newTestShipper(store Store, now *time.Time, metrics MetricsSource) *Shipper {
	return &Shipper{Site: "aws", Name: "shipper-aws", Interval: time.Minute, Lag: 10 * time.Second, Store: store,
		Metrics: metrics, Logs: []LogSource{oneLinePerWindow{}}, Self: NewSelfMetrics(),
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return *now }}
}

func TestShipperResumesAKilledWindowWithoutGapsOrDuplicates(t *testing.T) {
	ctx := context.Background()
	now := mustTime(t, "2026-11-30T12:00:30Z")
	store := &memoryStore{objects: map[string][]byte{}}
	s := newTestShipper(store, &now, &countingMetrics{})

	// First run: no watermark, so the window before now (11:59-12:00) is shipped.
	next, err := s.ShipDue(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !next.Equal(mustTime(t, "2026-11-30T12:01:10Z")) {
		t.Errorf("next due %v", next)
	}
	if w, _ := ReadWatermark(ctx, store, WatermarkKey("aws", "shipper-aws")); !w.Equal(mustTime(t, "2026-11-30T12:00:00Z")) {
		t.Errorf("watermark %v", w)
	}
	// Three minutes later, killed after the second window's first object.
	now = mustTime(t, "2026-11-30T12:03:15Z")
	store.failAfter = len(store.puts) + 4 + 1
	if _, err := s.ShipDue(ctx); err == nil {
		t.Fatal("a failed put went unnoticed")
	}
	if w, _ := ReadWatermark(ctx, store, WatermarkKey("aws", "shipper-aws")); !w.Equal(mustTime(t, "2026-11-30T12:01:00Z")) {
		t.Errorf("the watermark passed a window not fully shipped: %v", w)
	}
	partial := store.objects[ObjectKey(SignalMetrics, "aws", "shipper-aws", mustTime(t, "2026-11-30T12:01:00Z"), "parquet")]

	// A new process resumes from the watermark and re-ships 12:01 over the same keys.
	store.failAfter = 0
	if _, err := newTestShipper(store, &now, &countingMetrics{}).ShipDue(ctx); err != nil {
		t.Fatal(err)
	}
	if w, _ := ReadWatermark(ctx, store, WatermarkKey("aws", "shipper-aws")); !w.Equal(mustTime(t, "2026-11-30T12:03:00Z")) {
		t.Errorf("watermark %v", w)
	}
	again := store.objects[ObjectKey(SignalMetrics, "aws", "shipper-aws", mustTime(t, "2026-11-30T12:01:00Z"), "parquet")]
	if !bytes.Equal(partial, again) {
		t.Error("a re-shipped window's file differs")
	}
	metrics := store.keys("signal=metrics/")
	logs := store.keys("signal=logs/")
	if len(metrics) != 4 || len(logs) != 8 {
		t.Fatalf("metrics %v\nlogs %v", metrics, logs)
	}
	var samples []MetricRow
	for _, key := range metrics {
		rows, err := parquet.Read[MetricRow](bytes.NewReader(store.objects[key]), int64(len(store.objects[key])))
		if err != nil {
			t.Fatal(err)
		}
		samples = append(samples, rows...)
	}
	// 11:59:00 to 12:02:45 every 15 s, each once.
	if len(samples) != 16 {
		t.Errorf("%d samples", len(samples))
	}
	for i, r := range samples {
		if want := mustTime(t, "2026-11-30T11:59:00Z").Add(time.Duration(i) * 15 * time.Second); !r.TS.Equal(want) || r.Site != "aws" || r.Shipper != "shipper-aws" || r.SchemaVersion != 1 {
			t.Errorf("sample %d: %+v, want at %v", i, r, want)
		}
	}
}

func TestShipperHoldsTheWatermarkWhileASourceFails(t *testing.T) {
	ctx := context.Background()
	now := mustTime(t, "2026-11-30T12:00:30Z")
	store := &memoryStore{objects: map[string][]byte{}}
	prom := &countingMetrics{fail: true}
	s := newTestShipper(store, &now, prom)
	if _, err := s.ShipDue(ctx); err == nil || !strings.Contains(err.Error(), "prometheus is down") {
		t.Fatalf("err %v", err)
	}
	if _, ok := store.objects[WatermarkKey("aws", "shipper-aws")]; ok {
		t.Error("the watermark moved past a failed window")
	}
	if got := testutil.ToFloat64(s.Self.Errors.WithLabelValues("metrics")); got != 1 {
		t.Errorf("metrics errors %v", got)
	}
	prom.fail = false
	if _, err := s.ShipDue(ctx); err != nil {
		t.Fatal(err)
	}
	if got := testutil.ToFloat64(s.Self.Windows); got != 1 {
		t.Errorf("windows shipped %v", got)
	}
}

// Killed at every write in turn, then restarted: the lake ends up byte for byte as after an
// uninterrupted run, and the watermark never passes a window whose objects are not all there.
func TestShipperKilledAtEveryWriteEndsLikeAnUninterruptedRun(t *testing.T) {
	ctx := context.Background()
	start := mustTime(t, "2026-11-30T12:00:30Z")
	end := mustTime(t, "2026-11-30T12:04:15Z")
	run := func(failAfter int) *memoryStore {
		now := start
		store := &memoryStore{objects: map[string][]byte{}}
		if _, err := newTestShipper(store, &now, &countingMetrics{}).ShipDue(ctx); err != nil {
			t.Fatal(err)
		}
		now = end
		store.failAfter = failAfter
		if _, err := newTestShipper(store, &now, &countingMetrics{}).ShipDue(ctx); err != nil && failAfter == 0 {
			t.Fatal(err)
		}
		until, _ := ReadWatermark(ctx, store, WatermarkKey("aws", "shipper-aws"))
		first := WindowAt(start.Add(-time.Minute), time.Minute)
		for w := first; !w.End.After(until); w = w.Next() {
			for _, key := range []string{ObjectKey(SignalMetrics, "aws", "shipper-aws", w.Start, "parquet"), ObjectKey(SignalLogs, "aws", "shipper-aws", w.Start, "parquet")} {
				if _, ok := store.objects[key]; !ok {
					t.Errorf("kill after %d writes: the watermark %v passed %s, which is missing", failAfter, until, key)
				}
			}
		}
		store.failAfter = 0
		if _, err := newTestShipper(store, &now, &countingMetrics{}).ShipDue(ctx); err != nil {
			t.Fatal(err)
		}
		return store
	}
	want := run(0)
	writes := len(want.puts)
	for kill := 5; kill < writes; kill++ {
		got := run(kill)
		if len(got.objects) != len(want.objects) {
			t.Fatalf("kill after %d writes: %d objects, want %d", kill, len(got.objects), len(want.objects))
		}
		for key, body := range want.objects {
			if !bytes.Equal(got.objects[key], body) {
				t.Errorf("kill after %d writes: %s differs", kill, key)
			}
		}
	}
}
