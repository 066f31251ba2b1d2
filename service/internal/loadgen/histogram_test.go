package loadgen

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestBucketsCoverValues(t *testing.T) {
	for _, v := range []int64{0, 1, 255, 256, 257, 511, 512, 1000, 123456, 1 << 40, 1<<62 + 12345, 1<<63 - 1} {
		i := bucketOf(v)
		if i < 0 || i >= histBuckets {
			t.Fatalf("%d: bucket %d out of range", v, i)
		}
		hi := bucketHigh(i)
		lo := int64(0)
		if i > 0 {
			lo = bucketHigh(i-1) + 1
		}
		if v < lo || v > hi {
			t.Errorf("%d in bucket %d = [%d, %d]", v, i, lo, hi)
		}
		if v > 0 && float64(hi-lo) > float64(v)/100 && v >= linearLimit {
			t.Errorf("%d: bucket [%d, %d] is wider than 1%%", v, lo, hi)
		}
	}
}

func TestPercentilesMatchExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var h histogram
	values := make([]time.Duration, 100000)
	for i := range values {
		values[i] = time.Duration(rng.ExpFloat64() * float64(300*time.Microsecond))
		h.record(values[i])
	}
	slices.Sort(values)
	for _, p := range []float64{50, 90, 99, 99.9} {
		exact := values[int(p/100*float64(len(values)))-1]
		got := h.percentile(p)
		if diff := float64(got-exact) / float64(exact); diff < -0.01 || diff > 0.01 {
			t.Errorf("p%v: %v, exact %v", p, got, exact)
		}
	}
	if h.percentile(100) != values[len(values)-1] || time.Duration(h.max) != values[len(values)-1] {
		t.Errorf("max %v, want %v", h.percentile(100), values[len(values)-1])
	}
	var empty histogram
	if empty.percentile(99) != 0 {
		t.Error("empty histogram")
	}
}
