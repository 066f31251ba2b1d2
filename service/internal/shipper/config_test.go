package shipper

import (
	"strings"
	"testing"
	"time"
)

func env(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
}

func TestParseConfigDefaultsAndFlags(t *testing.T) {
	c, err := ParseConfig([]string{"--interval", "30s", "--once"}, env(map[string]string{"SHIPPER_SITE": "onprem", "SHIPPER_BUCKET": "lake", "SHIPPER_STATE_NAMESPACES": "readings, monitoring"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != ":9091" || c.TalosListen != "" {
		t.Errorf("listeners %q %q", c.Listen, c.TalosListen)
	}
	if off, _ := ParseConfig(nil, env(map[string]string{"SHIPPER_SITE": "aws", "SHIPPER_BUCKET": "b", "SHIPPER_LISTEN": ""})); off.Listen != "" {
		t.Errorf("SHIPPER_LISTEN set empty does not turn it off: %q", off.Listen)
	}
	if c.Name != "shipper-onprem" || c.Interval != 30*time.Second || c.Lag != time.Minute || c.Step != 15*time.Second || !c.Once ||
		c.LogNamespace != "readings" || c.LogSelector != "app.kubernetes.io/name=readings" || len(c.Series) != len(DefaultSeries) ||
		strings.Join(c.StateNamespaces, "|") != "readings|monitoring" || !c.States {
		t.Errorf("config %+v", c)
	}
}

func TestParseConfigReportsEveryProblem(t *testing.T) {
	_, err := ParseConfig(nil, env(map[string]string{"SHIPPER_SITE": "gcp", "SHIPPER_INTERVAL": "7s", "SHIPPER_STEP": "2s"}))
	for _, want := range []string{"SHIPPER_SITE", "SHIPPER_BUCKET is required", "multiple of SHIPPER_STEP"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v lacks %q", err, want)
		}
	}
}

func TestSplitSelectorsKeepsMatchersTogether(t *testing.T) {
	got := SplitSelectors(`up, {__name__=~"job:.+"} ; http_requests_total{code=~"5..",route="/a,b"},x`)
	want := []string{"up", `{__name__=~"job:.+"}`, `http_requests_total{code=~"5..",route="/a,b"}`, "x"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got %q", got)
	}
}
