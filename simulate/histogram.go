package simulate

import (
	"math"
	"time"
)

// histogram records durations in buckets 1% wide, so that percentiles are
// exact to 1% whatever the number of samples, in constant memory.
type histogram struct {
	counts   []int64
	n        int64
	sum      time.Duration
	min, max time.Duration
}

// growth is the ratio between the bounds of consecutive buckets.
const growth = 1.01

var logGrowth = math.Log(growth)

// bucket maps a duration to its bucket; durations under a microsecond share
// the first.
func bucket(d time.Duration) int {
	us := float64(d) / float64(time.Microsecond)
	if us <= 1 {
		return 0
	}
	return int(math.Ceil(math.Log(us) / logGrowth))
}

// upper is the largest duration of bucket i.
func upper(i int) time.Duration {
	return time.Duration(math.Pow(growth, float64(i)) * float64(time.Microsecond))
}

func (h *histogram) add(d time.Duration) {
	i := bucket(d)
	if i >= len(h.counts) {
		h.counts = append(h.counts, make([]int64, i+1-len(h.counts))...)
	}
	h.counts[i]++
	if h.n == 0 || d < h.min {
		h.min = d
	}
	h.max = max(h.max, d)
	h.n++
	h.sum += d
}

// quantile returns the duration under which a fraction q of the samples
// fall, to 1%, bounded by the extremes seen.
func (h *histogram) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := int64(math.Ceil(q * float64(h.n)))
	switch {
	case rank <= 1:
		return h.min
	case rank >= h.n:
		return h.max
	}
	var seen int64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return min(max(upper(i), h.min), h.max)
		}
	}
	return h.max
}

func (h *histogram) mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return h.sum / time.Duration(h.n)
}
