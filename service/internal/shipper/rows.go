package shipper

import "time"

// SchemaVersion is written in every row and in every Parquet file's key-value metadata.
const SchemaVersion = 1

// MetricRow is one sample of one series (docs/DATA.md, table metrics).
type MetricRow struct {
	SchemaVersion int32     `parquet:"schema_version"`
	Site          string    `parquet:"site"`
	Shipper       string    `parquet:"shipper"`
	TS            time.Time `parquet:"ts,timestamp(millisecond)"`
	Name          string    `parquet:"name"`
	Labels        string    `parquet:"labels"`
	Value         float64   `parquet:"value"`
}

// LogRow is one log line (table logs); the pointer fields are nullable.
type LogRow struct {
	SchemaVersion int32     `parquet:"schema_version"`
	Site          string    `parquet:"site"`
	Shipper       string    `parquet:"shipper"`
	TS            time.Time `parquet:"ts,timestamp(millisecond)"`
	Source        string    `parquet:"source"`
	Node          string    `parquet:"node"`
	Namespace     string    `parquet:"namespace"`
	Pod           string    `parquet:"pod"`
	Container     string    `parquet:"container"`
	Level         string    `parquet:"level"`
	Msg           string    `parquet:"msg"`
	RequestID     *string   `parquet:"request_id,optional"`
	Route         *string   `parquet:"route,optional"`
	Status        *int32    `parquet:"status,optional"`
	DurationMS    *float64  `parquet:"duration_ms,optional"`
	Line          string    `parquet:"line"`
	ID            string    `parquet:"id"`
}

// StateRow is one object of a snapshot (table states).
type StateRow struct {
	SchemaVersion int32     `parquet:"schema_version"`
	Site          string    `parquet:"site"`
	Shipper       string    `parquet:"shipper"`
	TS            time.Time `parquet:"ts,timestamp(millisecond)"`
	Kind          string    `parquet:"kind"`
	Namespace     string    `parquet:"namespace"`
	Name          string    `parquet:"name"`
	Status        string    `parquet:"status"`
	Ready         *bool     `parquet:"ready,optional"`
	Detail        string    `parquet:"detail"`
}
