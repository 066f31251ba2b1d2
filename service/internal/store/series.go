package store

import (
	"math"
	"time"
)

type bucket struct {
	slot     int64 // absolute bucket number (receive time / bucket length); stale when old
	count    uint64
	sum      float64
	min, max float64
}

type series struct {
	buckets   [Buckets]bucket
	unit      string
	lastValue float64
	lastTime  time.Time
	lastSlot  int64
}

func (se *series) add(r *Reading, slot int64) {
	b := &se.buckets[slot%Buckets]
	if b.slot != slot || b.count == 0 {
		*b = bucket{slot: slot, min: math.Inf(1), max: math.Inf(-1)}
	}
	b.count++
	b.sum += r.Value
	b.min = min(b.min, r.Value)
	b.max = max(b.max, r.Value)
	if r.Unit != "" {
		se.unit = r.Unit
	}
	se.lastValue = r.Value
	se.lastTime = r.Time
	se.lastSlot = slot
}

// stats merges the buckets from oldest on; ok is false when none of them holds a reading.
func (se *series) stats(oldest int64) (st SeriesStats, ok bool) {
	st.Min, st.Max = math.Inf(1), math.Inf(-1)
	var sum float64
	for i := range se.buckets {
		b := &se.buckets[i]
		if b.count == 0 || b.slot < oldest {
			continue
		}
		st.Count += b.count
		sum += b.sum
		st.Min = min(st.Min, b.min)
		st.Max = max(st.Max, b.max)
	}
	if st.Count == 0 {
		return st, false
	}
	st.Mean = sum / float64(st.Count)
	st.Unit = se.unit
	st.LastValue = se.lastValue
	st.LastTime = se.lastTime
	return st, true
}
