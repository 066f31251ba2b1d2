package api

import (
	"net/http"
	"sort"
	"strconv"

	"hybridctl.dev/service/internal/httpx"
	"hybridctl.dev/service/internal/store"
)

// getSummary answers the window's aggregates, all of them from a cached encoding, or those of
// one sensor (?sensor=).
func (a *API) getSummary(w http.ResponseWriter, r *http.Request) {
	doc := a.summary.get()
	if r.URL.RawQuery == "" {
		writeSummary(w, doc.body, doc.length)
		return
	}
	q := r.URL.Query()
	for k := range q {
		if k != "sensor" {
			httpx.WriteError(w, http.StatusBadRequest, "unknown query parameter "+strconv.Quote(k)+"; the only one is sensor")
			return
		}
	}
	sensor := q.Get("sensor")
	if msg := checkSensor(sensor); msg != "" {
		httpx.WriteError(w, http.StatusBadRequest, "sensor "+msg)
		return
	}
	series := doc.snap.Series
	lo := sort.Search(len(series), func(i int) bool { return series[i].Sensor >= sensor })
	hi := lo
	for hi < len(series) && series[hi].Sensor == sensor {
		hi++
	}
	sub := series[lo:hi]
	body := a.summary.encode(make([]byte, 0, 256+160*len(sub)), sub, store.TotalsOf(sub, doc.snap.Totals.Accepted))
	writeSummary(w, body, []string{strconv.Itoa(len(body))})
}

var noStore = []string{"no-store"}

func writeSummary(w http.ResponseWriter, body []byte, length []string) {
	h := w.Header()
	h["Content-Type"] = jsonContentType
	h["Content-Length"] = length
	h["Cache-Control"] = noStore
	_, _ = w.Write(body)
}

var jsonContentType = []string{"application/json"}
