package shipper

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"
)

// A Prometheus stand-in answering query_range like Prometheus: a sample at every step from
// start to end inclusive.
func TestPromMetricsAgainstAStandInExcludesTheWindowsEnd(t *testing.T) {
	var ends []string
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		start, _ := strconv.ParseFloat(r.Form.Get("start"), 64)
		end, _ := strconv.ParseFloat(r.Form.Get("end"), 64)
		step, _ := strconv.ParseFloat(r.Form.Get("step"), 64)
		ends = append(ends, r.Form.Get("end"))
		values := ""
		for ts := start; ts <= end; ts += step {
			if values != "" {
				values += ","
			}
			values += fmt.Sprintf(`[%.3f,"%g"]`, ts, ts-start)
		}
		fmt.Fprintf(w, `{"status":"success","data":{"resultType":"matrix","result":[
			{"metric":{"__name__":"http_requests_total","route":"/api/readings","code":"202","method":"POST"},"values":[%s]},
			{"metric":{"__name__":"up","job":"readings"},"values":[%s]}]}}`, values, values)
	}))
	defer server.Close()
	source, err := NewPromMetrics(server.URL, []string{"http_requests_total", "up"}, 15*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	w := WindowAt(mustTime(t, "2026-11-30T12:00:00Z"), time.Minute)
	rows, err := source.Rows(context.Background(), w)
	if err != nil {
		t.Fatal(err)
	}
	// Both selectors answer both series: each is kept once, 4 samples (:00, :15, :30, :45).
	if len(rows) != 8 {
		t.Fatalf("%d rows: %+v", len(rows), rows)
	}
	first := rows[0]
	if first.Name != "http_requests_total" || first.Labels != `{"code":"202","method":"POST","route":"/api/readings"}` || !first.TS.Equal(w.Start) {
		t.Errorf("first row %+v", first)
	}
	if last := rows[3]; !last.TS.Equal(w.Start.Add(45*time.Second)) || last.Value != 45 {
		t.Errorf("last sample of the series %+v", last)
	}
	if ends[0] != fmt.Sprintf("%d.999", w.End.Unix()-1) {
		t.Errorf("query end %s, want a millisecond before the window's end", ends[0])
	}
}
