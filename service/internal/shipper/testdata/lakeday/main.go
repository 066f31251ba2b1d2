// Command lakeday writes a synthetic day of the metrics table for the benchmark
// (test/bench/telemetry.ts), with the shipper's own row type, key and encoder, so the files
// are the ones a shipper would write. The series and their samples come from a real shipper
// run, as JSON on stdin; each series' samples are repeated over the day (a counter keeps
// rising by the increments it had). Under testdata/ so that `go test ./...` leaves it out.
//
//	go run ./internal/shipper/testdata/lakeday -day 2026-11-29 -out DIR < series.json
package main

import (
	"encoding/json"
	"flag"
	"log"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"hybridctl.dev/service/internal/shipper"
)

type series struct {
	Name    string   `json:"name"`
	Labels  string   `json:"labels"`
	Counter bool     `json:"counter"`
	Values  []string `json:"values"` // real samples, one step apart, as text ("NaN" and "+Inf" included)
	samples []float64
}

// at is the series' value at the i-th step of the day.
func (s series) at(i int) float64 {
	v := s.samples
	if !s.Counter || len(v) < 2 {
		return v[i%len(v)]
	}
	m := len(v) - 1
	return v[0] + float64(i/m)*(v[m]-v[0]) + v[i%m] - v[0]
}

func main() {
	day := flag.String("day", "", "the UTC date, YYYY-MM-DD")
	site := flag.String("site", "aws", "the site")
	interval := flag.Duration("interval", 5*time.Minute, "window length (the shipper's default)")
	step := flag.Duration("step", 15*time.Second, "sample step (the shipper's default)")
	out := flag.String("out", "", "folder; files go under their lake keys")
	flag.Parse()
	start, err := time.Parse(time.DateOnly, *day)
	if err != nil || *out == "" {
		log.Fatalf("usage: lakeday -day YYYY-MM-DD -out DIR < series.json")
	}
	var all []series
	if err := json.NewDecoder(os.Stdin).Decode(&all); err != nil {
		log.Fatal(err)
	}
	for i := range all {
		for _, text := range all[i].Values {
			f, err := strconv.ParseFloat(text, 64)
			if err != nil {
				log.Fatal(err)
			}
			all[i].samples = append(all[i].samples, f)
		}
	}
	name := "shipper-" + *site
	perWindow := int(*interval / *step)
	for w := start; w.Before(start.Add(24 * time.Hour)); w = w.Add(*interval) {
		rows := make([]shipper.MetricRow, 0, len(all)*perWindow)
		for _, s := range all { // sorted by name and labels on stdin, as the shipper sorts
			for k := range perWindow {
				ts := w.Add(time.Duration(k) * *step)
				rows = append(rows, shipper.MetricRow{SchemaVersion: shipper.SchemaVersion, Site: *site, Shipper: name,
					TS: ts, Name: s.Name, Labels: s.Labels, Value: s.at(int(ts.Sub(start) / *step))})
			}
		}
		data, err := shipper.EncodeParquet(rows)
		if err != nil {
			log.Fatal(err)
		}
		path := filepath.Join(*out, shipper.ObjectKey(shipper.SignalMetrics, *site, name, w, "parquet"))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			log.Fatal(err)
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			log.Fatal(err)
		}
	}
}
