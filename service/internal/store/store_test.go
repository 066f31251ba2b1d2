package store

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func newClock() *clock { return &clock{t: time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)} }

func reading(sensor, metric string, v float64, at time.Time) Reading {
	return Reading{Sensor: sensor, Metric: metric, Value: v, Unit: "C", Time: at}
}

func TestAggregates(t *testing.T) {
	c := newClock()
	s := New(time.Minute, 100, c.Now)
	s.Add([]Reading{reading("a", "temperature", 10, c.Now()), reading("a", "temperature", 30, c.Now())})
	c.Advance(time.Second)
	s.Add([]Reading{reading("a", "temperature", 20, c.Now()), reading("b", "power", -5, c.Now())})
	snap := s.Snapshot()
	if len(snap.Series) != 2 {
		t.Fatalf("series: %+v", snap.Series)
	}
	a := snap.Series[0]
	if a.Sensor != "a" || a.Count != 3 || a.Min != 10 || a.Max != 30 || a.Mean != 20 || a.LastValue != 20 || !a.LastTime.Equal(c.Now()) || a.Unit != "C" {
		t.Errorf("a: %+v", a)
	}
	if snap.Totals != (Totals{Series: 2, Sensors: 2, Readings: 4, Accepted: 4}) {
		t.Errorf("totals: %+v", snap.Totals)
	}
}

func TestWindowSlides(t *testing.T) {
	c := newClock()
	s := New(time.Minute, 100, c.Now) // one-second buckets
	s.Add([]Reading{reading("a", "temperature", 100, c.Now())})
	c.Advance(30 * time.Second)
	s.Add([]Reading{reading("a", "temperature", 1, c.Now())})

	c.Advance(29 * time.Second) // the first reading is 59 s old: still in
	if st := s.Snapshot().Series[0]; st.Count != 2 || st.Max != 100 {
		t.Fatalf("at 59s: %+v", st)
	}
	c.Advance(time.Second) // 60 s old: out
	if st := s.Snapshot().Series[0]; st.Count != 1 || st.Max != 1 || st.Min != 1 {
		t.Fatalf("at 60s: %+v", st)
	}
	c.Advance(30 * time.Second) // everything out: the series is forgotten
	snap := s.Snapshot()
	if len(snap.Series) != 0 || s.SeriesCount() != 0 || snap.Totals.Accepted != 2 {
		t.Fatalf("at 90s: %+v, %d series", snap, s.SeriesCount())
	}
}

func TestValidUntilIsTheNextBucket(t *testing.T) {
	c := newClock()
	s := New(time.Minute, 100, c.Now)
	c.Advance(1500 * time.Millisecond)
	if got, want := s.Snapshot().ValidUntil, c.Now().Add(500*time.Millisecond); !got.Equal(want) {
		t.Errorf("ValidUntil %v, want %v", got, want)
	}
}

func TestVersionChangesOnAdd(t *testing.T) {
	s := New(time.Minute, 100, nil)
	v := s.Version()
	s.Add([]Reading{reading("a", "power", 1, time.Now())})
	if s.Version() == v {
		t.Error("version did not change")
	}
}

func TestSeriesLimit(t *testing.T) {
	c := newClock()
	s := New(time.Minute, 2, c.Now)
	dropped := s.Add([]Reading{reading("a", "power", 1, c.Now()), reading("b", "power", 1, c.Now()), reading("c", "power", 1, c.Now())})
	if len(dropped) != 1 || dropped[0].Sensor != "c" || s.SeriesCount() != 2 {
		t.Fatalf("dropped %+v, %d series", dropped, s.SeriesCount())
	}
	// Known series still take readings; once the old ones leave the window, new ones fit.
	if d := s.Add([]Reading{reading("a", "power", 2, c.Now())}); d != nil {
		t.Fatalf("dropped %+v", d)
	}
	c.Advance(2 * time.Minute)
	if d := s.Add([]Reading{reading("c", "power", 1, c.Now())}); d != nil {
		t.Fatalf("after the window: dropped %+v", d)
	}
	if s.SeriesCount() != 1 {
		t.Errorf("%d series", s.SeriesCount())
	}
}

func TestConcurrentUse(t *testing.T) {
	s := New(time.Minute, 1000, nil)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 500 {
				s.Add([]Reading{reading(fmt.Sprintf("s%d", i%20), Metrics[w], float64(i), time.Now())})
				if i%50 == 0 {
					s.Snapshot()
				}
			}
		})
	}
	wg.Wait()
	snap := s.Snapshot()
	if snap.Totals.Readings != 2000 || snap.Totals.Series != 80 || snap.Totals.Sensors != 20 {
		t.Errorf("totals %+v", snap.Totals)
	}
}

func BenchmarkAdd(b *testing.B) {
	s := New(5*time.Minute, 10000, nil)
	r := []Reading{reading("sensor-1", "temperature", 21.5, time.Now())}
	for b.Loop() {
		s.Add(r)
	}
}

func BenchmarkSnapshot50(b *testing.B) {
	s := New(5*time.Minute, 10000, nil)
	for i := range 50 {
		s.Add([]Reading{reading(fmt.Sprintf("sensor-%d", i), "temperature", 21.5, time.Now())})
	}
	for b.Loop() {
		s.Snapshot()
	}
}
