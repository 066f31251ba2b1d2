// Package shipper ships a site's metrics, logs and system states to the S3 data lake
// (docs/DATA.md), one window of time at a time, restart-safe.
package shipper

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"time"
)

type MetricsSource interface {
	Rows(ctx context.Context, w Window) ([]MetricRow, error)
}

type LogSource interface {
	Rows(ctx context.Context, w Window) ([]LogRow, error)
}

type StateSource interface {
	Rows(ctx context.Context, at time.Time) ([]StateRow, error)
}

// Shipper writes every complete window's objects, then advances the watermark. Its
// restart safety rests on three things: an object's key depends only on the shipper's name
// and the window, a window's rows depend only on the window (sorted, from sources that
// answer the same for the same past window), and the watermark moves past a window only
// after all of the window's objects exist. A shipper killed anywhere re-ships the window
// over the same keys with the same rows.
type Shipper struct {
	Site, Name    string
	Interval, Lag time.Duration
	Store         Store
	Metrics       MetricsSource // nil: no metrics
	Logs          []LogSource   // the service's lines
	Talos         *Spool        // nil: no Talos receiver
	States        StateSource   // nil: no snapshots
	Self          *SelfMetrics
	Log           *slog.Logger
	Now           func() time.Time
}

// Run ships due windows until ctx ends; with once, ships those due now and returns.
func (s *Shipper) Run(ctx context.Context, once bool) error {
	for {
		next, err := s.ShipDue(ctx)
		if ctx.Err() != nil {
			return nil // stopped: the unfinished window is shipped again by the next run
		}
		if once {
			return err
		}
		wait := next.Sub(s.Now())
		if err != nil {
			wait = min(s.Interval, 30*time.Second)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
}

// ShipDue ships every complete window after the watermark, oldest first, stopping at the
// first that fails (it is retried on the next call). It returns when the next window is due.
func (s *Shipper) ShipDue(ctx context.Context) (time.Time, error) {
	key := WatermarkKey(s.Site, s.Name)
	shipped, err := ReadWatermark(ctx, s.Store, key)
	if err != nil {
		s.failed("watermark", err)
		return s.Now(), err
	}
	var from Window
	if shipped.IsZero() {
		from = WindowAt(s.Now(), s.Interval)
		from = Window{Start: from.Start.Add(-s.Interval), End: from.Start}
	} else {
		from = WindowAt(shipped, s.Interval)
	}
	due := DueWindows(from, s.Now(), s.Lag)
	for _, w := range due {
		if err := s.ShipWindow(ctx, w); err != nil {
			return s.Now(), fmt.Errorf("window %s: %w", w.Start.Format(time.RFC3339), err)
		}
		if err := WriteWatermark(ctx, s.Store, key, w.End); err != nil {
			s.failed("watermark", err)
			return s.Now(), err
		}
		s.Self.Windows.Inc()
		s.Log.Info("window shipped", "start", w.Start, "end", w.End)
		if s.Talos != nil {
			if err := s.Talos.Forget(w.End); err != nil {
				s.Log.Error("cannot clean the spool", "err", err.Error())
			}
		}
		from = w.Next()
	}
	return from.End.Add(s.Lag), nil
}

// ShipWindow writes w's metrics, logs (raw, then Parquet) and states objects. Every signal
// is tried; the window fails if any did.
func (s *Shipper) ShipWindow(ctx context.Context, w Window) error {
	var errs []error
	if s.Metrics != nil {
		errs = append(errs, s.shipMetrics(ctx, w))
	}
	errs = append(errs, s.shipLogs(ctx, w))
	if s.States != nil {
		errs = append(errs, s.shipStates(ctx, w))
	}
	return errors.Join(errs...)
}

func (s *Shipper) shipMetrics(ctx context.Context, w Window) error {
	rows, err := s.Metrics.Rows(ctx, w)
	if err != nil {
		return s.failed(string(SignalMetrics), err)
	}
	for i := range rows {
		rows[i].SchemaVersion, rows[i].Site, rows[i].Shipper = SchemaVersion, s.Site, s.Name
	}
	return s.putParquet(ctx, SignalMetrics, w.Start, len(rows), func() ([]byte, error) { return EncodeParquet(rows) })
}

func (s *Shipper) shipLogs(ctx context.Context, w Window) error {
	var rows []LogRow
	for _, source := range s.Logs {
		more, err := source.Rows(ctx, w)
		if err != nil {
			return s.failed(string(SignalLogs), err)
		}
		rows = append(rows, more...)
	}
	if s.Talos != nil {
		talos, err := s.Talos.Rows(w)
		if err != nil {
			return s.failed(string(SignalLogs), err)
		}
		rows = append(rows, talos...)
	}
	rows = sortedUniqueLogs(rows)
	for i := range rows {
		rows[i].SchemaVersion, rows[i].Site, rows[i].Shipper = SchemaVersion, s.Site, s.Name
	}
	raw, err := EncodeRawLogs(rows)
	if err != nil {
		return s.failed(string(SignalLogs), err)
	}
	if err := s.Store.Put(ctx, ObjectKey(SignalLogs, s.Site, s.Name, w.Start, "json.gz"), raw, "application/gzip"); err != nil {
		return s.failed(string(SignalLogs), err)
	}
	return s.putParquet(ctx, SignalLogs, w.Start, len(rows), func() ([]byte, error) { return EncodeParquet(rows) })
}

func (s *Shipper) shipStates(ctx context.Context, w Window) error {
	// The API shows the present only: a window shipped late (catching up after an outage)
	// gets no snapshot rather than one stamped with a time it does not describe.
	if s.Now().After(w.End.Add(s.Lag + s.Interval)) {
		s.Log.Info("no state snapshot for a window shipped late", "end", w.End)
		return nil
	}
	rows, err := s.States.Rows(ctx, w.End)
	if err != nil {
		return s.failed(string(SignalStates), err)
	}
	for i := range rows {
		rows[i].SchemaVersion, rows[i].Site, rows[i].Shipper = SchemaVersion, s.Site, s.Name
	}
	return s.putParquet(ctx, SignalStates, w.End, len(rows), func() ([]byte, error) { return EncodeParquet(rows) })
}

func (s *Shipper) putParquet(ctx context.Context, signal Signal, at time.Time, n int, encode func() ([]byte, error)) error {
	body, err := encode()
	if err != nil {
		return s.failed(string(signal), err)
	}
	if err := s.Store.Put(ctx, ObjectKey(signal, s.Site, s.Name, at, "parquet"), body, "application/vnd.apache.parquet"); err != nil {
		return s.failed(string(signal), err)
	}
	s.Self.Rows.WithLabelValues(string(signal)).Add(float64(n))
	s.Self.LastSuccess.WithLabelValues(string(signal)).SetToCurrentTime()
	return nil
}

func (s *Shipper) failed(signal string, err error) error {
	s.Self.Errors.WithLabelValues(signal).Inc()
	s.Log.Error("shipping failed", "signal", signal, "err", err.Error())
	return err
}

// sortedUniqueLogs orders rows by time then id and drops rows whose id repeats.
func sortedUniqueLogs(rows []LogRow) []LogRow {
	sort.Slice(rows, func(i, j int) bool {
		if !rows[i].TS.Equal(rows[j].TS) {
			return rows[i].TS.Before(rows[j].TS)
		}
		return rows[i].ID < rows[j].ID
	})
	out := rows[:0]
	for _, r := range rows {
		if len(out) == 0 || r.ID != out[len(out)-1].ID {
			out = append(out, r)
		}
	}
	return out
}
