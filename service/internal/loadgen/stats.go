package loadgen

import (
	"strconv"
	"sync"
	"time"
)

// recorder is one worker's tally, until the reporter takes it.
type recorder struct {
	mu sync.Mutex
	t  tally
}

func (r *recorder) record(k kind, status int, err error, d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.t.record(k, status, err, d)
}

// drainInto adds the tally to into and starts a new one.
func (r *recorder) drainInto(into *tally) {
	r.mu.Lock()
	defer r.mu.Unlock()
	into.add(&r.t)
	r.t = tally{}
}

// tally counts requests and their latencies.
type tally struct {
	requests   uint64
	errors     uint64 // no answer: connection or timeout
	unexpected uint64 // an answer other than the kind expects
	byStatus   map[int]uint64
	byKind     [kindCount]uint64
	lastErr    string
	hist       histogram
}

func (s *tally) record(k kind, status int, err error, d time.Duration) {
	s.requests++
	s.byKind[k]++
	if err != nil {
		s.errors++
		s.lastErr = err.Error()
		return
	}
	if s.byStatus == nil {
		s.byStatus = map[int]uint64{}
	}
	s.byStatus[status]++
	if !k.expects(status) {
		s.unexpected++
	}
	s.hist.record(d)
}

func (s *tally) add(o *tally) {
	s.requests += o.requests
	s.errors += o.errors
	s.unexpected += o.unexpected
	for k, n := range o.byStatus {
		if s.byStatus == nil {
			s.byStatus = map[int]uint64{}
		}
		s.byStatus[k] += n
	}
	for k, n := range o.byKind {
		s.byKind[k] += n
	}
	if o.lastErr != "" {
		s.lastErr = o.lastErr
	}
	s.hist.merge(&o.hist)
}

// Report is the JSON line the load generator prints.
type Report struct {
	Msg            string            `json:"msg"`
	Final          bool              `json:"final"`
	Target         string            `json:"target"`
	ElapsedSeconds float64           `json:"elapsedSeconds"`
	Requests       uint64            `json:"requests"`
	Errors         uint64            `json:"errors"`
	Unexpected     uint64            `json:"unexpected"`
	ByStatus       map[string]uint64 `json:"byStatus"`
	ByKind         map[string]uint64 `json:"byKind"`
	Rate           float64           `json:"rate"`
	LatencyMs      Latency           `json:"latencyMs"`
}

// Latency percentiles in milliseconds, of requests that got an answer.
type Latency struct {
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

func (s *tally) report(target string, elapsed time.Duration, final bool) Report {
	r := Report{
		Msg: "report", Final: final, Target: target, ElapsedSeconds: round(elapsed.Seconds(), 3),
		Requests: s.requests, Errors: s.errors, Unexpected: s.unexpected,
		ByStatus: map[string]uint64{}, ByKind: map[string]uint64{},
	}
	for k, n := range s.byStatus {
		r.ByStatus[strconv.Itoa(k)] = n
	}
	for k, n := range s.byKind {
		r.ByKind[kindNames[k]] = n
	}
	if elapsed > 0 {
		r.Rate = round(float64(s.requests)/elapsed.Seconds(), 1)
	}
	ms := func(d time.Duration) float64 { return round(float64(d)/1e6, 3) }
	r.LatencyMs = Latency{P50: ms(s.hist.percentile(50)), P90: ms(s.hist.percentile(90)), P99: ms(s.hist.percentile(99)), Max: ms(time.Duration(s.hist.max))}
	return r
}

func round(f float64, places int) float64 {
	p := 1.0
	for range places {
		p *= 10
	}
	return float64(int64(f*p+0.5)) / p
}
