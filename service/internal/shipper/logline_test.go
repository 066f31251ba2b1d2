package shipper

import (
	"strings"
	"testing"
	"time"
)

const requestLine = `{"time":"2026-11-30T12:00:01.234567Z","level":"INFO","msg":"request","method":"POST","route":"/api/readings","path":"/api/readings","status":202,"duration_ms":0.412,"bytes":71,"request_id":"abc-1","remote":"10.0.0.1:5000"}`

func TestServiceLogRowParsesTheRequestLine(t *testing.T) {
	origin := LogOrigin{Source: "service", Node: "n1", Namespace: "readings", Pod: "readings-1", Container: "readings"}
	ts := mustTime(t, "2026-11-30T12:00:01.2346Z")
	row := ServiceLogRow(origin, ts, requestLine)
	if row.Level != "INFO" || row.Msg != "request" || *row.RequestID != "abc-1" || *row.Route != "/api/readings" || *row.Status != 202 || *row.DurationMS != 0.412 {
		t.Errorf("row %+v", row)
	}
	if row.Line != requestLine || row.Pod != "readings-1" || !row.TS.Equal(ts) || len(row.ID) != 64 {
		t.Errorf("row %+v", row)
	}
	if again := ServiceLogRow(origin, ts, requestLine); again.ID != row.ID {
		t.Error("the id is not deterministic")
	}
	if other := ServiceLogRow(LogOrigin{Source: "service", Pod: "readings-2"}, ts, requestLine); other.ID == row.ID {
		t.Error("the id ignores the pod")
	}
	if !ServiceLineTime(requestLine).Equal(mustTime(t, "2026-11-30T12:00:01.234567Z")) {
		t.Error("line time")
	}
}

func TestServiceLogRowKeepsOtherLines(t *testing.T) {
	row := ServiceLogRow(LogOrigin{Source: "service"}, time.Unix(0, 0), "panic: boom")
	if row.Msg != "panic: boom" || row.Line != "panic: boom" || row.Level != "" || row.Status != nil || row.RequestID != nil {
		t.Errorf("row %+v", row)
	}
	starting := ServiceLogRow(LogOrigin{Source: "service"}, time.Unix(0, 0), `{"time":"2026-11-30T12:00:00Z","level":"INFO","msg":"starting","go":"go1.26"}`)
	if starting.Msg != "starting" || starting.Route != nil || starting.DurationMS != nil {
		t.Errorf("row %+v", starting)
	}
}

func TestTimestampedRowsKeepTheWindowsLines(t *testing.T) {
	body := strings.Join([]string{
		"2026-11-30T11:59:59.999999999Z " + requestLine,
		"2026-11-30T12:00:00.000000001Z " + requestLine,
		"2026-11-30T12:04:59.5Z not json",
		"2026-11-30T12:05:00Z " + requestLine,
		"garbage",
	}, "\n") + "\n"
	w := WindowAt(mustTime(t, "2026-11-30T12:00:00Z"), 5*time.Minute)
	rows, err := TimestampedRows(strings.NewReader(body), LogOrigin{Source: "service"}, w)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].Msg != "request" || rows[1].Msg != "not json" {
		t.Fatalf("rows %+v", rows)
	}
	if rows[0].TS.UnixNano() != mustTime(t, "2026-11-30T12:00:00.000000001Z").UnixNano() {
		t.Error("the kubelet's timestamp is the row's time")
	}
}
