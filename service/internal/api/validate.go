package api

import (
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"hybridctl.dev/service/internal/store"
)

// Reasons label readings_rejected_total.
const (
	ReasonInvalidJSON   = "invalid_json"
	ReasonUnknownField  = "unknown_field"
	ReasonBatchTooLarge = "batch_too_large"
	ReasonInvalidSensor = "invalid_sensor"
	ReasonInvalidMetric = "invalid_metric"
	ReasonInvalidValue  = "invalid_value"
	ReasonInvalidUnit   = "invalid_unit"
	ReasonInvalidTS     = "invalid_ts"
	ReasonTooLarge      = "too_large"
	ReasonMediaType     = "unsupported_media_type"
	ReasonSeriesLimit   = "series_limit"
)

// Reasons lists every reason, to publish them at zero.
var Reasons = []string{
	ReasonInvalidJSON, ReasonUnknownField, ReasonBatchTooLarge, ReasonInvalidSensor, ReasonInvalidMetric,
	ReasonInvalidValue, ReasonInvalidUnit, ReasonInvalidTS, ReasonTooLarge, ReasonMediaType, ReasonSeriesLimit,
}

const (
	maxUnitChars = 16
	maxFuture    = 5 * time.Minute
)

// validate checks one reading and converts it; path names it in a batch.
func validate(raw *rawReading, now time.Time, path string, out *store.Reading) *inputError {
	bad := func(reason, field, problem string) *inputError {
		return &inputError{reason: reason, msg: fieldPath(path, field) + " " + problem}
	}
	switch {
	case raw.Sensor == nil:
		return bad(ReasonInvalidSensor, "sensor", "is required")
	case checkSensor(*raw.Sensor) != "":
		return bad(ReasonInvalidSensor, "sensor", checkSensor(*raw.Sensor))
	case raw.Metric == nil:
		return bad(ReasonInvalidMetric, "metric", "is required")
	case !isMetric(*raw.Metric):
		return bad(ReasonInvalidMetric, "metric", "must be one of "+strings.Join(store.Metrics, ", ")+" (got "+quote(*raw.Metric)+")")
	case raw.Value == nil:
		return bad(ReasonInvalidValue, "value", "is required")
	case math.IsNaN(*raw.Value) || math.IsInf(*raw.Value, 0):
		return bad(ReasonInvalidValue, "value", "must be a finite number")
	}
	*out = store.Reading{Sensor: *raw.Sensor, Metric: *raw.Metric, Value: *raw.Value, Time: now}
	if raw.Unit != nil {
		u := *raw.Unit
		if utf8.RuneCountInString(u) > maxUnitChars {
			return bad(ReasonInvalidUnit, "unit", "must be at most 16 characters (got "+quote(u)+")")
		}
		if strings.IndexFunc(u, unicode.IsControl) >= 0 {
			return bad(ReasonInvalidUnit, "unit", "must not contain control characters")
		}
		out.Unit = u
	}
	if raw.TS != nil {
		ts, err := time.Parse(time.RFC3339, *raw.TS)
		if err != nil {
			return bad(ReasonInvalidTS, "ts", "must be an RFC3339 time like 2026-01-02T15:04:05Z (got "+quote(*raw.TS)+")")
		}
		if ts.Sub(now) > maxFuture {
			return bad(ReasonInvalidTS, "ts", "must not be more than 5 minutes in the future (got "+quote(*raw.TS)+")")
		}
		out.Time = ts
	}
	return nil
}

// checkSensor says what is wrong with a sensor id, or "".
func checkSensor(s string) string {
	ok := len(s) >= 1 && len(s) <= 64
	for i := 0; ok && i < len(s); i++ {
		c := s[i]
		ok = c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.'
	}
	if ok {
		return ""
	}
	return "must be 1-64 characters from a-z, 0-9, '-', '_' and '.' (got " + quote(s) + ")"
}

func isMetric(m string) bool {
	for _, name := range store.Metrics {
		if m == name {
			return true
		}
	}
	return false
}

// quote shows a client's value in a message, cut short if long.
func quote(s string) string {
	if len(s) > 70 {
		cut := 70
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return strconv.Quote(s[:cut]) + "…"
	}
	return strconv.Quote(s)
}
