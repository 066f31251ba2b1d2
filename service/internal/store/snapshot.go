package store

import (
	"cmp"
	"slices"
	"time"
)

// SeriesStats are one series' aggregates over the window.
type SeriesStats struct {
	Sensor, Metric, Unit string
	Count                uint64
	Min, Max, Mean       float64
	LastValue            float64
	LastTime             time.Time
}

// Totals sum up a snapshot.
type Totals struct {
	Series   int
	Sensors  int
	Readings uint64 // in the window
	Accepted uint64 // since the store was made
}

// Snapshot is the window's aggregates at one moment, series sorted by sensor then metric.
type Snapshot struct {
	Series []SeriesStats
	Totals Totals
	// Version is the store's Version when the snapshot was begun.
	Version uint64
	// ValidUntil is when the window next drops a bucket, so the snapshot may go stale.
	ValidUntil time.Time
}

// Snapshot aggregates every series with readings in the window, forgetting series without.
func (s *Store) Snapshot() Snapshot {
	version := s.version.Load()
	accepted := s.accepted.Load()
	now := s.now()
	slot := now.UnixNano() / s.bucketNs
	oldest := slot - Buckets + 1
	out := make([]SeriesStats, 0, s.series.Load())
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		for k, se := range sh.m {
			st, ok := se.stats(oldest)
			if !ok {
				delete(sh.m, k)
				s.series.Add(-1)
				continue
			}
			st.Sensor, st.Metric = k.sensor, k.metric
			out = append(out, st)
		}
		sh.mu.Unlock()
	}
	slices.SortFunc(out, func(a, b SeriesStats) int {
		return cmp.Or(cmp.Compare(a.Sensor, b.Sensor), cmp.Compare(a.Metric, b.Metric))
	})
	return Snapshot{
		Series:     out,
		Totals:     TotalsOf(out, accepted),
		Version:    version,
		ValidUntil: time.Unix(0, (slot+1)*s.bucketNs),
	}
}

// TotalsOf sums sorted series.
func TotalsOf(series []SeriesStats, accepted uint64) Totals {
	t := Totals{Series: len(series), Accepted: accepted}
	for i := range series {
		t.Readings += series[i].Count
		if i == 0 || series[i].Sensor != series[i-1].Sensor {
			t.Sensors++
		}
	}
	return t
}
