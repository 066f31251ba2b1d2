package probe

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestMainWritesTheResultAndExits0WhenAllAnswered(t *testing.T) {
	aws, onprem := readings(t, "aws", "aws-worker-1"), readings(t, "onprem", "onprem-worker-1")
	file := filepath.Join(t.TempDir(), "termination-log")
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), []string{"-target", aws.URL + "/readyz", "-target", onprem.URL + "/readyz",
		"-count", "3", "-interval", "10ms", "-result", file}, &stdout, &stderr)
	if code != ExitOK || stderr.Len() > 0 {
		t.Fatalf("exit %d, stderr %s", code, stderr.String())
	}
	written, err := os.ReadFile(file)
	if err != nil || !bytes.Equal(written, stdout.Bytes()) {
		t.Fatalf("file %q (%v), stdout %q", written, err, stdout.String())
	}
	var r Report
	if err := json.Unmarshal(written, &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Results) != 2 || r.Results[0].Site != "aws" || r.Results[1].Site != "onprem" || r.Results[1].Node != "onprem-worker-1" ||
		r.Results[0].OK != 3 || r.Results[1].OK != 3 || r.Results[0].Target != aws.URL+"/readyz" {
		t.Errorf("report %+v", r)
	}

	// A second run replaces the file's content.
	stdout.Reset()
	if code := Main(context.Background(), []string{"-target", aws.URL + "/healthz", "-count", "1", "-result", file}, &stdout, io.Discard); code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	if written, _ := os.ReadFile(file); !bytes.Equal(written, stdout.Bytes()) {
		t.Errorf("file %q, stdout %q", written, stdout.String())
	}
}

func TestMainExits1WhenATargetDidNotAnswer(t *testing.T) {
	ok := readings(t, "aws", "aws-worker-1")
	file := filepath.Join(t.TempDir(), "result.json")
	var stdout bytes.Buffer
	code := Main(context.Background(), []string{"-target", ok.URL + "/readyz", "-target", closedURL(t), "-count", "2",
		"-interval", "20ms", "-deadline", "300ms", "-result", file}, &stdout, io.Discard)
	if code != ExitFailed {
		t.Fatalf("exit %d", code)
	}
	var r Report
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	if r.Results[0].OK != 2 || r.Results[1].OK != 0 || !strings.Contains(r.Results[1].Error, "connection refused") {
		t.Errorf("report %+v", r)
	}
	if written, _ := os.ReadFile(file); !bytes.Equal(written, stdout.Bytes()) {
		t.Errorf("file %q", written)
	}
}

func TestMainExits2OnBadUsage(t *testing.T) {
	for _, args := range [][]string{nil, {"-target", "nope"}, {"-target", "http://a/", "-count", "x"}, {"-target", "http://a/", "extra"}} {
		var stdout, stderr bytes.Buffer
		if code := Main(context.Background(), args, &stdout, &stderr); code != ExitUsage || stdout.Len() > 0 || stderr.Len() == 0 {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", args, code, stdout.String(), stderr.String())
		}
	}
	var stderr bytes.Buffer
	if code := Main(context.Background(), []string{"-h"}, io.Discard, &stderr); code != ExitOK || !strings.Contains(stderr.String(), "-deadline") {
		t.Errorf("-h: exit %d, %s", code, stderr.String())
	}
}

func TestMainIgnoresAResultFileItCannotWrite(t *testing.T) {
	srv := readings(t, "aws", "aws-worker-1")
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), []string{"-target", srv.URL + "/readyz", "-count", "1", "-result", t.TempDir()}, &stdout, &stderr)
	if code != ExitOK || !strings.Contains(stdout.String(), `"ok":1`) || !strings.Contains(stderr.String(), "not written to") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, stdout.String(), stderr.String())
	}
	stderr.Reset()
	if code := Main(context.Background(), []string{"-target", srv.URL + "/readyz", "-count", "1", "-result", ""}, io.Discard, &stderr); code != ExitOK || stderr.Len() > 0 {
		t.Errorf("-result '': exit %d, stderr %q", code, stderr.String())
	}
}

func TestWriteResultLeavesAMissingDefaultFileAlone(t *testing.T) {
	if _, err := os.Stat(DefaultResultFile); err == nil {
		t.Skip(DefaultResultFile + " exists here (in a container)")
	}
	if err := writeResult(DefaultResultFile, []byte("{}\n")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(DefaultResultFile); err == nil {
		_ = os.Remove(DefaultResultFile)
		t.Fatal("created " + DefaultResultFile)
	}
}

// Many targets failing with long errors and long site headers still give a document the
// kubelet keeps whole.
func TestMainResultFitsATerminationMessage(t *testing.T) {
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Site", strings.Repeat("s", 100))
		w.Header().Set("X-Node", fmt.Sprintf("%s-%d", strings.Repeat("n", 100), time.Now().UnixNano()))
		http.Error(w, strings.Repeat("a long and unhelpful explanation ", 40), 500)
	})
	var args []string
	for i := range 12 {
		args = append(args, "-target", fmt.Sprintf("%s/%s/%d", srv.URL, strings.Repeat("p", 60), i))
	}
	file := filepath.Join(t.TempDir(), "termination-log")
	args = append(args, "-count", "3", "-interval", "0", "-deadline", "200ms", "-result", file)
	var stdout bytes.Buffer
	if code := Main(context.Background(), args, &stdout, io.Discard); code != ExitFailed {
		t.Fatalf("exit %d", code)
	}
	written, _ := os.ReadFile(file)
	var r Report
	if err := json.Unmarshal(written, &r); err != nil || len(written) > MaxResultBytes || !bytes.Equal(written, stdout.Bytes()) {
		t.Fatalf("%d bytes (%v): %s", len(written), err, written)
	}
	if len(r.Results)+r.Truncated != 12 || len(r.Results) < 8 {
		t.Errorf("%d results, %d truncated", len(r.Results), r.Truncated)
	}
	for _, res := range r.Results {
		if res.Failed == 0 || !strings.HasPrefix(res.Error, "500 Internal Server Error: a long") || res.Site == "" || res.Node == "" {
			t.Errorf("result %+v", res)
		}
	}
}
