package shipper

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// PromMetrics reads the samples of a set of series from Prometheus's query_range API.
type PromMetrics struct {
	API    promv1.API
	Series []string
	Step   time.Duration
}

func NewPromMetrics(address string, series []string, step time.Duration) (*PromMetrics, error) {
	client, err := api.NewClient(api.Config{Address: address})
	if err != nil {
		return nil, fmt.Errorf("prometheus client: %w", err)
	}
	return &PromMetrics{API: promv1.NewAPI(client), Series: series, Step: step}, nil
}

// Rows are the samples at w.Start, w.Start+step, … before w.End: a sample at w.End is the
// next window's first, so the query's (inclusive) end stops a millisecond short of it.
// Rows are sorted by name, labels and time, and a series two selectors match is kept once.
func (p *PromMetrics) Rows(ctx context.Context, w Window) ([]MetricRow, error) {
	r := promv1.Range{Start: w.Start, End: w.End.Add(-time.Millisecond), Step: p.Step}
	seen := map[string]bool{}
	var rows []MetricRow
	for _, selector := range p.Series {
		value, _, _, err := p.API.QueryRange(ctx, selector, r)
		if err != nil {
			return nil, fmt.Errorf("query_range %s: %w", selector, err)
		}
		matrix, ok := value.(model.Matrix)
		if !ok {
			return nil, fmt.Errorf("query_range %s: a %s, not a matrix", selector, value.Type())
		}
		for _, stream := range matrix {
			name, labels := splitMetric(stream.Metric)
			key := name + labels
			if seen[key] {
				continue
			}
			seen[key] = true
			for _, sample := range stream.Values {
				ts := sample.Timestamp.Time().UTC()
				if w.Contains(ts) {
					rows = append(rows, MetricRow{TS: ts, Name: name, Labels: labels, Value: float64(sample.Value)})
				}
			}
		}
	}
	slices.SortFunc(rows, func(a, b MetricRow) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Labels, b.Labels), a.TS.Compare(b.TS))
	})
	return rows, nil
}

// splitMetric is the metric's name and its other labels as a JSON object with sorted keys.
func splitMetric(m model.Metric) (string, string) {
	labels := make(map[string]string, len(m))
	for k, v := range m {
		if k != model.MetricNameLabel {
			labels[string(k)] = string(v)
		}
	}
	encoded, _ := json.Marshal(labels) // map keys are encoded sorted
	return string(m[model.MetricNameLabel]), string(encoded)
}
