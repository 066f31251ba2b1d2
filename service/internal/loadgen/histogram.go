package loadgen

import (
	"math"
	"math/bits"
	"time"
)

// histogram records durations in log-linear buckets, HDR style: exact below 256 ns, then 128
// buckets per power of two, so a percentile is off by less than 1%.
type histogram struct {
	counts [histBuckets]uint64
	total  uint64
	max    int64
}

const (
	subBits     = 7
	subCount    = 1 << subBits // buckets per power of two
	linearLimit = 2 * subCount // values below are exact
	histBuckets = linearLimit + 55*subCount
)

func bucketOf(v int64) int {
	if v < linearLimit {
		return int(max(v, 0))
	}
	shift := bits.Len64(uint64(v)) - (subBits + 1)
	top := int(v >> shift) // in [subCount, 2*subCount)
	return linearLimit + (shift-1)*subCount + top - subCount
}

// bucketHigh is the largest value bucket i holds.
func bucketHigh(i int) int64 {
	if i < linearLimit {
		return int64(i)
	}
	shift := (i-linearLimit)/subCount + 1
	top := int64((i-linearLimit)%subCount + subCount)
	return (top+1)<<shift - 1
}

func (h *histogram) record(d time.Duration) {
	h.counts[bucketOf(int64(d))]++
	h.total++
	h.max = max(h.max, int64(d))
}

func (h *histogram) merge(o *histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.total += o.total
	h.max = max(h.max, o.max)
}

// percentile is the smallest recorded value at or above p percent of them, within 1%.
func (h *histogram) percentile(p float64) time.Duration {
	if h.total == 0 {
		return 0
	}
	rank := uint64(math.Ceil(p / 100 * float64(h.total)))
	rank = max(rank, 1)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return time.Duration(min(bucketHigh(i), h.max))
		}
	}
	return time.Duration(h.max)
}
