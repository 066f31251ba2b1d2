package api

import (
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"hybridctl.dev/service/internal/store"
)

// summaryCache keeps the last snapshot and its encoding until readings arrive or the window
// moves on, so most summary requests only copy bytes out.
type summaryCache struct {
	store *store.Store
	now   func() time.Time
	head  []byte // {"site":..,"node":..,"windowSeconds":..,
	mu    sync.Mutex
	cur   atomic.Pointer[summaryDoc]
}

type summaryDoc struct {
	snap       store.Snapshot
	validUntil int64 // UnixNano
	body       []byte
	length     []string
}

func newSummaryCache(s *store.Store, now func() time.Time, site, node string) *summaryCache {
	head := []byte{'{'}
	head = appendKey(head, "site")
	head = appendString(head, site)
	head = append(head, ',')
	head = appendKey(head, "node")
	head = appendString(head, node)
	head = append(head, ',')
	head = appendKey(head, "windowSeconds")
	head = appendFloat(head, s.Window().Seconds())
	head = append(head, ',')
	return &summaryCache{store: s, now: now, head: head}
}

func (c *summaryCache) fresh(d *summaryDoc) bool {
	return d != nil && d.snap.Version == c.store.Version() && c.now().UnixNano() < d.validUntil
}

func (c *summaryCache) get() *summaryDoc {
	if d := c.cur.Load(); c.fresh(d) {
		return d
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if d := c.cur.Load(); c.fresh(d) {
		return d
	}
	snap := c.store.Snapshot()
	body := c.encode(make([]byte, 0, 256+160*len(snap.Series)), snap.Series, snap.Totals)
	d := &summaryDoc{snap: snap, validUntil: snap.ValidUntil.UnixNano(), body: body, length: []string{strconv.Itoa(len(body))}}
	c.cur.Store(d)
	return d
}

func (c *summaryCache) encode(b []byte, series []store.SeriesStats, t store.Totals) []byte {
	b = append(b, c.head...)
	b = appendKey(b, "series")
	b = append(b, '[')
	for i := range series {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendSeries(b, &series[i])
	}
	b = append(b, "],"...)
	b = appendKey(b, "totals")
	b = append(b, '{')
	b = appendKey(b, "series")
	b = strconv.AppendInt(b, int64(t.Series), 10)
	b = append(b, ',')
	b = appendKey(b, "sensors")
	b = strconv.AppendInt(b, int64(t.Sensors), 10)
	b = append(b, ',')
	b = appendKey(b, "readings")
	b = strconv.AppendUint(b, t.Readings, 10)
	b = append(b, ',')
	b = appendKey(b, "acceptedSinceStart")
	b = strconv.AppendUint(b, t.Accepted, 10)
	return append(b, "}}\n"...)
}

func appendSeries(b []byte, s *store.SeriesStats) []byte {
	b = append(b, '{')
	b = appendKey(b, "sensor")
	b = appendString(b, s.Sensor)
	b = append(b, ',')
	b = appendKey(b, "metric")
	b = appendString(b, s.Metric)
	b = append(b, ',')
	b = appendKey(b, "unit")
	b = appendString(b, s.Unit)
	b = append(b, ',')
	b = appendKey(b, "count")
	b = strconv.AppendUint(b, s.Count, 10)
	b = append(b, ',')
	b = appendKey(b, "min")
	b = appendFloat(b, s.Min)
	b = append(b, ',')
	b = appendKey(b, "max")
	b = appendFloat(b, s.Max)
	b = append(b, ',')
	b = appendKey(b, "mean")
	b = appendFloat(b, s.Mean)
	b = append(b, ',')
	b = appendKey(b, "lastValue")
	b = appendFloat(b, s.LastValue)
	b = append(b, ',')
	b = appendKey(b, "lastTime")
	b = appendTime(b, s.LastTime)
	return append(b, '}')
}
