package loadgen

import (
	"io"
	"strings"
	"testing"
	"time"
)

func TestParseDefaultsEnvAndFlags(t *testing.T) {
	env := map[string]string{"TARGET": "http://readings:80", "RATE": "50", "SUMMARY_RATIO": "0.5"}
	c, err := Parse([]string{"-rate", "7", "-batch", "3", "-duration", "1m"}, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := Config{Target: "http://readings:80", Rate: 7, Concurrency: 4, Duration: time.Minute, InvalidRatio: 0.05,
		SummaryRatio: 0.5, Sensors: 50, Batch: 3, ReportEvery: 10 * time.Second, Timeout: 10 * time.Second}
	if c != want {
		t.Errorf("got %+v\nwant %+v", c, want)
	}
}

func TestParseRefusesBadValues(t *testing.T) {
	cases := map[string]struct {
		args []string
		env  map[string]string
		want string
	}{
		"target":  {[]string{"-target", "readings:80"}, nil, "must be an http(s) URL"},
		"ratios":  {[]string{"-invalid-ratio", "0.6", "-summary-ratio", "0.6"}, nil, "add up to at most 1"},
		"batch":   {[]string{"-batch", "501"}, nil, "-batch must be between 1 and 500"},
		"env":     {nil, map[string]string{"RATE": "fast"}, `RATE="fast"`},
		"workers": {[]string{"-concurrency", "0"}, nil, "-concurrency must be between"},
		"extra":   {[]string{"oops"}, nil, "unexpected arguments"},
	}
	for name, tc := range cases {
		_, err := Parse(tc.args, func(k string) string { return tc.env[k] }, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", name, err, tc.want)
		}
	}
}
