package probe

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestTallyResult(t *testing.T) {
	var tl tally
	for _, d := range []time.Duration{5, 1, 4, 2, 3} {
		tl.success(d*time.Millisecond + 234567*time.Nanosecond)
	}
	tl.fail("first")
	tl.fail("dial tcp 10.0.0.1:80:\n connect: connection refused")
	for _, n := range []string{"w1", "w2", "w1", "", "w3", "w4", "w5"} {
		tl.answeredBy("aws", n)
	}
	got := tl.result("http://t/")
	want := Result{Target: "http://t/", OK: 5, Failed: 2, RTTMs: &RTT{Min: 1.235, P50: 3.235, Max: 5.235},
		Site: "aws", Node: "w1,w2,w3,w4", Error: "dial tcp 10.0.0.1:80: connect: connection refused"}
	if fmt.Sprint(*got.RTTMs) != fmt.Sprint(*want.RTTMs) {
		t.Errorf("rtt %+v, want %+v", *got.RTTMs, *want.RTTMs)
	}
	got.RTTMs, want.RTTMs = nil, nil
	if got != want {
		t.Errorf("got %+v\nwant %+v", got, want)
	}

	var even tally
	for _, d := range []time.Duration{4, 1, 3, 2} {
		even.success(d * time.Millisecond)
	}
	if r := even.result("x").RTTMs; r.P50 != 2 {
		t.Errorf("p50 of 1-4 ms: %v, want the lower middle 2", r.P50)
	}
	var none tally
	none.fail("x")
	if b := encode(Report{Results: []Result{none.result("http://t/")}}); strings.Contains(string(b), "rttMs") {
		t.Errorf("rttMs without a 2xx answer: %s", b)
	}
}

func TestEncodeIsTheDocumentedShape(t *testing.T) {
	r := Report{Results: []Result{{Target: "http://192.168.10.21:30080/readyz", OK: 5, RTTMs: &RTT{Min: 1.2, P50: 1.9, Max: 3.4},
		Site: "onprem", Node: "onprem-worker-1"}}}
	want := `{"results":[{"target":"http://192.168.10.21:30080/readyz","ok":5,"failed":0,"rttMs":{"min":1.2,"p50":1.9,"max":3.4},"site":"onprem","node":"onprem-worker-1","error":""}]}` + "\n"
	if got := string(r.Encode()); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	r = Report{Results: []Result{{Target: "http://a/?x=<1>&y", Error: "a <b> & c"}}}
	if got := string(r.Encode()); !strings.Contains(got, `"http://a/?x=<1>&y"`) || !strings.Contains(got, `"a <b> & c"`) {
		t.Errorf("HTML escaping wastes bytes: %s", got)
	}
}

func TestEncodeStaysWithinTheTerminationMessageLimit(t *testing.T) {
	long := func(prefix string, n int) string { return prefix + strings.Repeat("é", n) }
	for _, n := range []int{1, 4, 8, 12, 20, 50, 200} {
		r := Report{}
		for i := range n {
			var tl tally
			tl.fail(long("dial tcp: ", 300))
			for j := range 6 {
				tl.answeredBy(long(fmt.Sprint("site", j), 50), long(fmt.Sprint("node", j), 50))
			}
			r.Results = append(r.Results, tl.result(fmt.Sprintf("http://192.168.10.%d:30080/readyz?%s", i, strings.Repeat("q", 200))))
		}
		b := r.Encode()
		if len(b) > MaxResultBytes || !utf8.Valid(b) || b[len(b)-1] != '\n' || strings.Count(string(b), "\n") != 1 {
			t.Fatalf("%d targets: %d bytes, valid UTF-8 %v", n, len(b), utf8.Valid(b))
		}
		var got Report
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("%d targets: %v\n%s", n, err, b)
		}
		if len(got.Results)+got.Truncated != n {
			t.Errorf("%d targets: %d results and %d truncated", n, len(got.Results), got.Truncated)
		}
		if n <= 8 && got.Truncated != 0 {
			t.Errorf("%d targets: results left off", n)
		}
		for i, res := range got.Results {
			if res.Failed != 1 || res.Error == "" || res.Node == "" || !strings.HasPrefix(res.Target, fmt.Sprintf("http://192.168.10.%d:", i)) {
				t.Errorf("%d targets: result %d %+v", n, i, res)
			}
		}
	}
	// Nothing is shortened when it fits.
	r := Report{Results: []Result{{Target: "http://" + strings.Repeat("a", 300) + "/", Error: strings.Repeat("e", 200)}}}
	if got := r.Encode(); string(got) != string(encode(r)) {
		t.Errorf("shortened although it fits: %s", got)
	}
}

func TestCleanAndTruncate(t *testing.T) {
	cases := []struct {
		in   string
		n    int
		want string
	}{
		{"ok", 10, "ok"},
		{"a\r\n\tb\x00c  d", 20, "a b c d"},
		{"bad \xff utf8", 20, "bad utf8"},
		{"0123456789", 5, "01…"},
		{"ééééé", 6, "é…"}, // 2 bytes each: cut on a rune boundary
		{"ééééé", 2, "é"},
		{"abc", 0, ""},
	}
	for _, tc := range cases {
		got := clean(tc.in, tc.n)
		if got != tc.want || len(got) > tc.n || !utf8.ValidString(got) {
			t.Errorf("clean(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}
