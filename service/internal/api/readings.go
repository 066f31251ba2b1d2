package api

import (
	"bytes"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"hybridctl.dev/service/internal/httpx"
	"hybridctl.dev/service/internal/store"
)

var bodyBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// ingest stores one reading or a batch; a batch is taken whole or not at all.
func (a *API) ingest(w http.ResponseWriter, r *http.Request) {
	if msg := checkContentType(r.Header.Get("Content-Type")); msg != "" {
		a.reject(w, http.StatusUnsupportedMediaType, &inputError{reason: ReasonMediaType, msg: msg})
		return
	}
	buf := bodyBuffers.Get().(*bytes.Buffer)
	buf.Reset()
	defer func() {
		if buf.Cap() <= 2*int(a.opts.MaxBodyBytes) {
			bodyBuffers.Put(buf)
		}
	}()
	if _, err := buf.ReadFrom(r.Body); err != nil {
		if httpx.IsTooLarge(err) {
			a.reject(w, http.StatusRequestEntityTooLarge, &inputError{reason: ReasonTooLarge, msg: httpx.TooLargeMessage(a.opts.MaxBodyBytes)})
			return
		}
		a.reject(w, http.StatusBadRequest, &inputError{reason: ReasonInvalidJSON, msg: "could not read the body: " + err.Error()})
		return
	}
	raws, batch, ierr := decodeBody(buf.Bytes())
	if ierr != nil {
		a.reject(w, http.StatusBadRequest, ierr)
		return
	}
	now := a.opts.Now()
	readings := make([]store.Reading, len(raws))
	for i := range raws {
		path := ""
		if batch {
			path = elemPath(i)
		}
		if ierr := validate(&raws[i], now, path, &readings[i]); ierr != nil {
			ierr.readings = len(raws)
			a.reject(w, http.StatusBadRequest, ierr)
			return
		}
	}
	dropped := a.opts.Store.Add(readings)
	a.countAccepted(readings, dropped)
	body := make([]byte, 0, 160)
	body = append(body, `{"accepted":`...)
	body = strconv.AppendInt(body, int64(len(readings)-len(dropped)), 10)
	if len(dropped) > 0 {
		body = append(body, `,"dropped":`...)
		body = strconv.AppendInt(body, int64(len(dropped)), 10)
	}
	body = append(body, ',')
	body = appendKey(body, "site")
	body = appendString(body, a.opts.Site)
	body = append(body, ',')
	body = appendKey(body, "node")
	body = appendString(body, a.opts.Node)
	body = append(body, ',')
	body = appendKey(body, "requestId")
	body = appendString(body, httpx.RequestID(w))
	body = append(body, "}\n"...)
	httpx.WriteJSON(w, http.StatusAccepted, body)
}

func (a *API) countAccepted(readings, dropped []store.Reading) {
	counts := make(map[string]int, len(store.Metrics))
	for i := range readings {
		counts[readings[i].Metric]++
	}
	for i := range dropped {
		counts[dropped[i].Metric]--
	}
	for m, n := range counts {
		if n > 0 {
			a.opts.Metrics.Accepted(m, n)
		}
	}
	if len(dropped) > 0 {
		a.opts.Metrics.Rejected(ReasonSeriesLimit, len(dropped))
	}
}

func (a *API) reject(w http.ResponseWriter, status int, e *inputError) {
	a.opts.Metrics.Rejected(e.reason, max(e.readings, 1))
	httpx.WriteError(w, status, e.msg)
}

// checkContentType accepts application/json, in UTF-8 if a charset is named.
func checkContentType(ct string) string {
	if ct == "application/json" {
		return ""
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err == nil && mt == "application/json" {
		if cs, ok := params["charset"]; !ok || strings.EqualFold(cs, "utf-8") {
			return ""
		}
	}
	if ct == "" {
		return "Content-Type must be application/json (none was sent)"
	}
	return "Content-Type must be application/json (got " + quote(ct) + ")"
}
