package shipper

import (
	"fmt"
	"time"
)

// Signal names a table of the lake: the first partition of every key.
type Signal string

const (
	SignalMetrics Signal = "metrics"
	SignalLogs    Signal = "logs"
	SignalStates  Signal = "states"
)

// ObjectKey is where one shipper's file for one window (or snapshot time) goes:
// signal=<s>/site=<site>/dt=YYYY-MM-DD/hour=HH/<shipper>-<YYYYMMDDTHHMMSSZ>.<ext>.
// The name depends only on the shipper and the time, so a re-shipped window overwrites itself.
func ObjectKey(signal Signal, site, shipper string, at time.Time, ext string) string {
	at = at.UTC()
	return fmt.Sprintf("signal=%s/site=%s/dt=%s/hour=%s/%s-%s.%s",
		signal, site, at.Format("2006-01-02"), at.Format("15"), shipper, at.Format("20060102T150405Z"), ext)
}

// WatermarkKey holds the time up to which this shipper has shipped everything.
func WatermarkKey(site, shipper string) string {
	return fmt.Sprintf("_shipper/site=%s/%s.json", site, shipper)
}
