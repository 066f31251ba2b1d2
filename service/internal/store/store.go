// Package store keeps rolling per-series aggregates of sensor readings in memory.
//
// Each series (sensor + metric) has a ring of time buckets covering the window; a reading
// goes into the bucket of the time it was received. A summary merges the buckets still inside
// the window, so a reading counts for between (Buckets-1)/Buckets of the window and the whole
// window after it arrived.
package store

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"
)

// Buckets is how many buckets a window is cut into: the window's resolution.
const Buckets = 60

const shardCount = 32

// Metrics are the metric names a reading may carry.
var Metrics = []string{"temperature", "humidity", "pressure", "power"}

// Reading is one validated measurement.
type Reading struct {
	Sensor string
	Metric string
	Unit   string
	Value  float64
	// Time is when the reading was taken: its ts, or when it was received.
	Time time.Time
}

// Store is safe for concurrent use.
type Store struct {
	window    time.Duration
	bucketNs  int64
	maxSeries int64
	now       func() time.Time
	seed      maphash.Seed

	shards   [shardCount]shard
	series   atomic.Int64
	version  atomic.Uint64
	accepted atomic.Uint64
}

type shard struct {
	mu sync.Mutex
	m  map[key]*series
	_  [40]byte // keeps neighbouring shards' locks off one cache line
}

type key struct{ sensor, metric string }

// New makes a store aggregating over window, tracking at most maxSeries series. now is the
// clock (time.Now when nil).
func New(window time.Duration, maxSeries int, now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	bucketNs := max(int64(window)/Buckets, 1)
	s := &Store{window: window, bucketNs: bucketNs, maxSeries: int64(maxSeries), now: now, seed: maphash.MakeSeed()}
	for i := range s.shards {
		s.shards[i].m = make(map[key]*series)
	}
	return s
}

// Window is the aggregation window.
func (s *Store) Window() time.Duration { return s.window }

// Version changes whenever readings are added; equal versions and an unexpired ValidUntil
// mean a Snapshot is still current.
func (s *Store) Version() uint64 { return s.version.Load() }

// SeriesCount is the number of series held, including ones not yet swept after going quiet.
func (s *Store) SeriesCount() int { return int(s.series.Load()) }

// Add records readings received now. It returns the readings it dropped because the series
// limit was reached (nil when it stored them all).
func (s *Store) Add(readings []Reading) (dropped []Reading) {
	slot := s.now().UnixNano() / s.bucketNs
	swept := false
	for i := range readings {
		if s.add(&readings[i], slot) {
			continue
		}
		if !swept {
			swept = true
			s.sweep(slot)
			if s.add(&readings[i], slot) {
				continue
			}
		}
		dropped = append(dropped, readings[i])
	}
	if stored := len(readings) - len(dropped); stored > 0 {
		s.accepted.Add(uint64(stored))
		s.version.Add(1)
	}
	return dropped
}

func (s *Store) add(r *Reading, slot int64) bool {
	k := key{r.Sensor, r.Metric}
	sh := s.shardOf(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	se := sh.m[k]
	if se == nil {
		if s.series.Add(1) > s.maxSeries {
			s.series.Add(-1)
			return false
		}
		se = &series{}
		sh.m[k] = se
	}
	se.add(r, slot)
	return true
}

func (s *Store) shardOf(k key) *shard {
	var h maphash.Hash
	h.SetSeed(s.seed)
	h.WriteString(k.sensor)
	h.WriteByte(0)
	h.WriteString(k.metric)
	return &s.shards[h.Sum64()%shardCount]
}

// sweep forgets series with nothing left in the window.
func (s *Store) sweep(slot int64) {
	oldest := slot - Buckets + 1
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		for k, se := range sh.m {
			if se.lastSlot < oldest {
				delete(sh.m, k)
				s.series.Add(-1)
			}
		}
		sh.mu.Unlock()
	}
}
