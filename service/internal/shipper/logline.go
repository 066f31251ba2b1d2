package shipper

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// LogOrigin says where a line comes from: the non-content columns of its row.
type LogOrigin struct {
	Source, Node, Namespace, Pod, Container string
}

// serviceLine is the readings service's slog JSON line (internal/httpx's request log and
// every other message); fields it lacks stay zero.
type serviceLine struct {
	Time       string   `json:"time"`
	Level      string   `json:"level"`
	Msg        string   `json:"msg"`
	RequestID  *string  `json:"request_id"`
	Route      *string  `json:"route"`
	Status     *int32   `json:"status"`
	DurationMS *float64 `json:"duration_ms"`
}

// ServiceLogRow turns one line the service wrote at ts into a row. A line that is not the
// service's JSON keeps its text as msg (and line), with no level.
func ServiceLogRow(origin LogOrigin, ts time.Time, line string) LogRow {
	row := LogRow{TS: ts.UTC(), Source: origin.Source, Node: origin.Node, Namespace: origin.Namespace,
		Pod: origin.Pod, Container: origin.Container, Line: line, Msg: line}
	var parsed serviceLine
	if strings.HasPrefix(line, "{") && json.Unmarshal([]byte(line), &parsed) == nil {
		row.Level, row.Msg = parsed.Level, parsed.Msg
		row.RequestID, row.Route, row.Status, row.DurationMS = parsed.RequestID, parsed.Route, parsed.Status, parsed.DurationMS
	}
	row.ID = LogID(row)
	return row
}

// ServiceLineTime is the time field of a service JSON line (zero if it has none).
func ServiceLineTime(line string) time.Time {
	var parsed serviceLine
	if json.Unmarshal([]byte(line), &parsed) != nil {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, parsed.Time)
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}

// LogID is the logs table's dedup key: hex SHA-256 of source|node|namespace|pod|container|ts in ns|line.
func LogID(r LogRow) string {
	h := sha256.New()
	for _, part := range []string{r.Source, r.Node, r.Namespace, r.Pod, r.Container, strconv.FormatInt(r.TS.UnixNano(), 10), r.Line} {
		h.Write([]byte(part))
		h.Write([]byte{'|'})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// SplitTimestamped splits a line of the pod log endpoint with timestamps=true:
// "<RFC3339Nano kubelet time> <line as the container wrote it>".
func SplitTimestamped(raw string) (time.Time, string, bool) {
	stamp, line, found := strings.Cut(raw, " ")
	if !found {
		return time.Time{}, "", false
	}
	ts, err := time.Parse(time.RFC3339Nano, stamp)
	if err != nil {
		return time.Time{}, "", false
	}
	return ts.UTC(), line, true
}
