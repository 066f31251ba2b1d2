package api

import (
	"encoding/json"
	"math"
	"testing"
	"time"
)

func TestAppendStringIsJSON(t *testing.T) {
	for _, s := range []string{"", "plain", `qu"ote`, `back\slash`, "tab\tnl\n\x00\x1f", "°C µS/cm", "bad \xff utf8", "<&>"} {
		var got string
		if err := json.Unmarshal(appendString(nil, s), &got); err != nil {
			t.Errorf("%q: %v", s, err)
			continue
		}
		want := s
		if s == "bad \xff utf8" {
			want = "bad \ufffd utf8"
		}
		if got != want {
			t.Errorf("%q came back as %q", s, got)
		}
	}
}

func TestAppendFloat(t *testing.T) {
	for _, f := range []float64{0, 1, -1.5, 21.25, 1e-7, 1e21, 123456789.125, -math.MaxFloat64, math.SmallestNonzeroFloat64} {
		var got float64
		if err := json.Unmarshal(appendFloat(nil, f), &got); err != nil || got != f {
			t.Errorf("%v: got %v, %v (%s)", f, got, err, appendFloat(nil, f))
		}
	}
	for _, f := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		if s := string(appendFloat(nil, f)); s != "null" {
			t.Errorf("%v encoded as %s", f, s)
		}
	}
}

func TestAppendTime(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 600, time.FixedZone("x", 3600))
	if s := string(appendTime(nil, at)); s != `"2026-01-02T02:04:05.0000006Z"` {
		t.Errorf("got %s", s)
	}
}
