package shipper

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// As Talos's json_lines sender writes it: the entry's fields, msg, talos-time (RFC 3339 with
// nanoseconds), talos-level, and the destination's extraTags.
const talosLine = `{"msg":"[talos] service[kubelet](Running): Health check successful","talos-level":"info","talos-service":"machined","talos-time":"2026-11-30T12:00:03.123456789Z","node":"cp-1"}`

func TestTalosLogRow(t *testing.T) {
	received := mustTime(t, "2026-11-30T12:00:04Z")
	row, err := TalosLogRow(talosLine, "10.0.0.5", received)
	if err != nil {
		t.Fatal(err)
	}
	if row.Source != "talos" || row.Node != "cp-1" || row.Container != "machined" || row.Level != "info" ||
		row.Msg != "[talos] service[kubelet](Running): Health check successful" || row.TS.UnixNano() != mustTime(t, "2026-11-30T12:00:03.123456789Z").UnixNano() {
		t.Errorf("row %+v", row)
	}
	bare, _ := TalosLogRow(`{"msg":"x","talos-level":"warn","talos-service":"etcd","talos-time":"nonsense"}`, "10.0.0.5", received)
	if bare.Node != "10.0.0.5" || !bare.TS.Equal(received) {
		t.Errorf("row %+v", bare)
	}
	if _, err := TalosLogRow("plain text", "", received); err == nil {
		t.Error("a line that is not JSON is accepted")
	}
}

func TestReceiverSpoolsLinesThatSurviveARestart(t *testing.T) {
	dir := t.TempDir()
	spool, err := OpenSpool(dir, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	now := mustTime(t, "2026-11-30T12:00:05Z")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(chan struct{}, 10)
	r := &TalosReceiver{Spool: spool, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return now }, Received: func() { got <- struct{}{} }}
	go r.Serve(ctx, ln)
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "%s\n%s\n", talosLine, `{"msg":"second","talos-level":"info","talos-service":"apid","talos-time":"2026-11-30T12:00:04Z"}`)
	conn.Close()
	for range 2 {
		select {
		case <-got:
		case <-time.After(5 * time.Second):
			t.Fatal("lines not received")
		}
	}
	// A kill in the middle of a write leaves half a record; the next start mends the file.
	file := filepath.Join(dir, fmt.Sprint(WindowAt(now, 10*time.Second).Start.Unix())+".jsonl")
	if err := appendFile(file, []byte(`{"received":"2026-11-30T12:00:05Z","remote":"x","li`)); err != nil {
		t.Fatal(err)
	}
	reopened, err := OpenSpool(dir, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if err := reopened.Add(`{"msg":"third","talos-level":"info","talos-service":"apid","talos-time":"2026-11-30T12:00:05Z"}`, "127.0.0.1", now); err != nil {
		t.Fatal(err)
	}
	rows, err := reopened.Rows(WindowAt(now, 10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || rows[0].Container != "machined" || rows[1].Msg != "second" || rows[1].Node != "127.0.0.1" || rows[2].Msg != "third" {
		t.Fatalf("rows %+v", rows)
	}
	if err := reopened.Forget(WindowAt(now, 10*time.Second).End); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(file); !os.IsNotExist(err) {
		t.Error("a shipped window's spool file is kept")
	}
}
