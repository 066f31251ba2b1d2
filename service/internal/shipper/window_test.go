package shipper

import (
	"testing"
	"time"
)

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	ts, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

func TestWindowAtAlignsToTheEpoch(t *testing.T) {
	w := WindowAt(mustTime(t, "2026-11-30T12:07:31.5Z"), 5*time.Minute)
	if !w.Start.Equal(mustTime(t, "2026-11-30T12:05:00Z")) || !w.End.Equal(mustTime(t, "2026-11-30T12:10:00Z")) {
		t.Errorf("window %v", w)
	}
	// A window's start belongs to it, its end to the next.
	edge := mustTime(t, "2026-11-30T12:10:00Z")
	if got := WindowAt(edge, 5*time.Minute); !got.Start.Equal(edge) {
		t.Errorf("window at %v starts %v", edge, got.Start)
	}
	if w.Contains(edge) || !w.Contains(w.Start) {
		t.Error("Contains is not [start, end)")
	}
	if w.Next().Start != w.End || w.Next().End.Sub(w.Next().Start) != 5*time.Minute {
		t.Errorf("next %v", w.Next())
	}
}

func TestDueWindowsWaitForTheLag(t *testing.T) {
	from := WindowAt(mustTime(t, "2026-11-30T12:00:00Z"), 5*time.Minute)
	due := DueWindows(from, mustTime(t, "2026-11-30T12:15:59Z"), time.Minute)
	// 12:00-12:05 and 12:05-12:10 are due; 12:10-12:15 only at 12:16.
	if len(due) != 2 || !due[1].End.Equal(mustTime(t, "2026-11-30T12:10:00Z")) {
		t.Fatalf("due %v", due)
	}
	if len(DueWindows(from, mustTime(t, "2026-11-30T12:16:00Z"), time.Minute)) != 3 {
		t.Error("a window is due exactly lag after its end")
	}
}

func TestObjectKeysFollowTheContract(t *testing.T) {
	at := mustTime(t, "2026-11-30T09:05:00Z")
	if got := ObjectKey(SignalMetrics, "aws", "shipper-aws", at, "parquet"); got != "signal=metrics/site=aws/dt=2026-11-30/hour=09/shipper-aws-20261130T090500Z.parquet" {
		t.Error(got)
	}
	if got := ObjectKey(SignalLogs, "onprem", "shipper-onprem", at.In(time.FixedZone("x", 3600)), "json.gz"); got != "signal=logs/site=onprem/dt=2026-11-30/hour=09/shipper-onprem-20261130T090500Z.json.gz" {
		t.Error(got)
	}
	if got := WatermarkKey("aws", "shipper-aws"); got != "_shipper/site=aws/shipper-aws.json" {
		t.Error(got)
	}
}
