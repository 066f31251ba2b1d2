package shipper

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
)

func TestParquetRoundTrip(t *testing.T) {
	ts := mustTime(t, "2026-11-30T12:00:01.234Z")
	status, id := int32(202), "abc"
	logs := []LogRow{
		ServiceLogRow(LogOrigin{Source: "service", Pod: "p"}, ts, requestLine),
		{SchemaVersion: 1, Site: "aws", TS: ts, Source: "talos", Msg: "m", Status: &status, RequestID: &id, Line: "{}", ID: "x"},
	}
	body, err := EncodeParquet(logs)
	if err != nil {
		t.Fatal(err)
	}
	file, err := parquet.OpenFile(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := file.Lookup(SchemaVersionKey); !ok || v != "1" {
		t.Errorf("schema version metadata %q %t", v, ok)
	}
	if col, ok := file.Schema().Lookup("ts"); !ok || !strings.Contains(col.Node.Type().LogicalType().String(), "MILLIS") {
		t.Errorf("ts is not a millisecond timestamp: %v", col.Node.Type().LogicalType())
	}
	back, err := parquet.Read[LogRow](bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatal(err)
	}
	if len(back) != 2 || *back[0].Status != 202 || *back[0].Route != "/api/readings" || back[1].Route != nil || back[1].DurationMS != nil || !back[1].TS.Equal(ts) || back[0].ID != logs[0].ID {
		t.Errorf("read back %+v", back)
	}

	ready := true
	states := []StateRow{{SchemaVersion: 1, TS: ts, Kind: "Node", Name: "n", Ready: &ready, Detail: "{}"}, {Kind: "Event", Detail: "{}"}}
	if body, err = EncodeParquet(states); err != nil {
		t.Fatal(err)
	}
	readStates, err := parquet.Read[StateRow](bytes.NewReader(body), int64(len(body)))
	if err != nil || len(readStates) != 2 || !*readStates[0].Ready || readStates[1].Ready != nil {
		t.Errorf("states %+v %v", readStates, err)
	}

	metrics := []MetricRow{{SchemaVersion: 1, TS: ts.Truncate(time.Second), Name: "up", Labels: `{"job":"x"}`, Value: 1}}
	if body, err = EncodeParquet(metrics); err != nil {
		t.Fatal(err)
	}
	readMetrics, err := parquet.Read[MetricRow](bytes.NewReader(body), int64(len(body)))
	if err != nil || len(readMetrics) != 1 || readMetrics[0] != metrics[0] {
		t.Errorf("metrics %+v %v", readMetrics, err)
	}
	empty, err := EncodeParquet([]MetricRow{})
	if err != nil || len(empty) == 0 {
		t.Errorf("an empty window has no file: %v", err)
	}
}
