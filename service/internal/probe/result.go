package probe

import (
	"bytes"
	"encoding/json"
	"math"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// MaxResultBytes bounds the JSON document, newline included: the kubelet keeps at most 4096
// bytes of a termination message.
const MaxResultBytes = 4096

const (
	maxError     = 200 // bytes of a result's error
	maxHeader    = 64  // bytes of one X-Site or X-Node value
	maxAnswerers = 4   // distinct sites or nodes recorded per target
)

// Report is the probe's JSON document.
type Report struct {
	Results []Result `json:"results"`
	// Truncated counts results left off the end to keep the document within MaxResultBytes;
	// only when many targets fail with long errors.
	Truncated int `json:"truncated,omitempty"`
}

// Result is one target's outcome.
type Result struct {
	Target string `json:"target"`
	OK     int    `json:"ok"`     // requests answered 2xx
	Failed int    `json:"failed"` // requests with no answer or another status
	RTTMs  *RTT   `json:"rttMs,omitempty"`
	// Site and Node are the X-Site and X-Node headers of the answers (any status), distinct
	// values joined by "," in the order first seen.
	Site  string `json:"site"`
	Node  string `json:"node"`
	Error string `json:"error"` // the last failure, "" if none
}

// RTT is the round-trip times of the 2xx answers, request sent to body read, in milliseconds.
type RTT struct {
	Min float64 `json:"min"`
	P50 float64 `json:"p50"`
	Max float64 `json:"max"`
}

// AllOK reports whether every target answered 2xx at least once.
func (r *Report) AllOK() bool {
	for _, res := range r.Results {
		if res.OK == 0 {
			return false
		}
	}
	return len(r.Results) > 0
}

// tally is one target's requests so far.
type tally struct {
	ok, failed   int
	rtts         []time.Duration
	sites, nodes []string
	lastErr      string
}

func (t *tally) success(rtt time.Duration) {
	t.ok++
	t.rtts = append(t.rtts, rtt)
}

func (t *tally) fail(msg string) {
	t.failed++
	t.lastErr = clean(msg, maxError)
}

// cutOff records a request the end of the run cut off; its error is kept only when there is
// no other.
func (t *tally) cutOff(msg string) {
	t.failed++
	if t.lastErr == "" {
		t.lastErr = clean(msg, maxError)
	}
}

func (t *tally) answeredBy(site, node string) {
	t.sites = addDistinct(t.sites, site)
	t.nodes = addDistinct(t.nodes, node)
}

func addDistinct(list []string, v string) []string {
	v = clean(v, maxHeader)
	if v == "" || len(list) >= maxAnswerers || slices.Contains(list, v) {
		return list
	}
	return append(list, v)
}

func (t *tally) result(target string) Result {
	r := Result{Target: target, OK: t.ok, Failed: t.failed, Error: t.lastErr,
		Site: strings.Join(t.sites, ","), Node: strings.Join(t.nodes, ",")}
	if len(t.rtts) > 0 {
		s := slices.Clone(t.rtts)
		slices.Sort(s)
		r.RTTMs = &RTT{Min: ms(s[0]), P50: ms(s[(len(s)+1)/2-1]), Max: ms(s[len(s)-1])}
	}
	return r
}

func ms(d time.Duration) float64 { return math.Round(float64(d)/1e3) / 1e3 }

// Encode is the report as one line of compact JSON within MaxResultBytes: if it is longer,
// errors, then answerers and targets are shortened, and as a last resort results are left
// off the end (counted in "truncated").
func (r Report) Encode() []byte {
	shrink := []struct{ err, header, target int }{
		{math.MaxInt, math.MaxInt, math.MaxInt},
		{80, 64, math.MaxInt},
		{40, 32, 96},
		{24, 16, 48},
	}
	var b []byte
	for _, s := range shrink {
		short := Report{Results: make([]Result, len(r.Results))}
		for i, res := range r.Results {
			res.Error = truncate(res.Error, s.err)
			res.Site = truncate(res.Site, s.header)
			res.Node = truncate(res.Node, s.header)
			res.Target = truncate(res.Target, s.target)
			short.Results[i] = res
		}
		if b = encode(short); len(b) <= MaxResultBytes {
			return b
		}
		r = short
	}
	for n := len(r.Results) - 1; n >= 0; n-- {
		if b = encode(Report{Results: r.Results[:n], Truncated: len(r.Results) - n}); len(b) <= MaxResultBytes {
			return b
		}
	}
	return b // unreachable: no results and a count fit
}

func encode(r Report) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(r) // cannot fail: strings, numbers and slices only
	return buf.Bytes()
}

// clean makes s one line of printable, valid UTF-8 of at most n bytes.
func clean(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, " "))
	return truncate(strings.Join(strings.Fields(s), " "), n)
}

// truncate cuts s to at most n bytes on a rune boundary, marking the cut with "…".
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const mark = "…"
	cut, end := n-len(mark), mark
	if cut < 0 {
		cut, end = n, "" // no room for the mark
	}
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + end
}
