package config

import (
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func host(name string) func() (string, error) { return func() (string, error) { return name, nil } }

func TestDefaults(t *testing.T) {
	c, err := Load(env(map[string]string{"SITE": "aws"}), host("box-1"))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		Site: "aws", NodeName: "box-1", ListenAddr: ":8080", SummaryWindow: 5 * time.Minute,
		MaxBodyBytes: 65536, MaxSeries: 10000, LogLevel: slog.LevelInfo,
		ShutdownTimeout: 20 * time.Second, DrainDelay: 5 * time.Second,
	}
	if c != want {
		t.Errorf("got %+v\nwant %+v", c, want)
	}
}

func TestAllSet(t *testing.T) {
	c, err := Load(env(map[string]string{
		"SITE": "onprem", "NODE_NAME": "n1", "POD_NAME": "readings-abc", "LISTEN_ADDR": "127.0.0.1:9000",
		"SUMMARY_WINDOW": "90s", "MAX_BODY_BYTES": "2048", "MAX_SERIES": "5", "LOG_LEVEL": "DEBUG",
		"SHUTDOWN_TIMEOUT": "3s", "DRAIN_DELAY": "0s",
	}), host("ignored"))
	if err != nil {
		t.Fatal(err)
	}
	if c.NodeName != "n1" || c.PodName != "readings-abc" || c.ListenAddr != "127.0.0.1:9000" ||
		c.SummaryWindow != 90*time.Second || c.MaxBodyBytes != 2048 || c.MaxSeries != 5 ||
		c.LogLevel != slog.LevelDebug || c.ShutdownTimeout != 3*time.Second || c.DrainDelay != 0 {
		t.Errorf("got %+v", c)
	}
}

func TestBadValues(t *testing.T) {
	cases := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{}, "SITE is required (one of aws, onprem)"},
		{map[string]string{"SITE": "gcp"}, `SITE="gcp" must be one of aws, onprem`},
		{map[string]string{"SITE": "aws", "LISTEN_ADDR": "8080"}, `LISTEN_ADDR="8080" must be host:port or :port`},
		{map[string]string{"SITE": "aws", "LISTEN_ADDR": ":99999"}, `LISTEN_ADDR=":99999" has a bad port`},
		{map[string]string{"SITE": "aws", "SUMMARY_WINDOW": "5"}, `SUMMARY_WINDOW="5" is not a Go duration`},
		{map[string]string{"SITE": "aws", "SUMMARY_WINDOW": "10ms"}, `SUMMARY_WINDOW="10ms" must be between 1s and 24h0m0s`},
		{map[string]string{"SITE": "aws", "MAX_BODY_BYTES": "64k"}, `MAX_BODY_BYTES="64k" is not a whole number`},
		{map[string]string{"SITE": "aws", "MAX_BODY_BYTES": "10"}, `MAX_BODY_BYTES="10" must be between 1024 and 67108864`},
		{map[string]string{"SITE": "aws", "LOG_LEVEL": "verbose"}, `LOG_LEVEL="verbose" must be one of debug, info, warn, error`},
		{map[string]string{"SITE": "aws", "SHUTDOWN_TIMEOUT": "-1s"}, `SHUTDOWN_TIMEOUT="-1s" must be between 0s and 10m0s`},
		{map[string]string{"SITE": "aws", "DRAIN_DELAY": "soon"}, `DRAIN_DELAY="soon" is not a Go duration`},
	}
	for _, tc := range cases {
		_, err := Load(env(tc.env), host("h"))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("env %v: got error %v, want one containing %q", tc.env, err, tc.want)
		}
	}
}

func TestEveryProblemReported(t *testing.T) {
	_, err := Load(env(map[string]string{"SITE": "x", "LOG_LEVEL": "y", "DRAIN_DELAY": "z"}), host("h"))
	if err == nil || strings.Count(err.Error(), "\n") != 2 {
		t.Fatalf("want three problems, got %v", err)
	}
}

func TestNodeNameFallsBackToHostname(t *testing.T) {
	_, err := Load(env(map[string]string{"SITE": "aws"}), func() (string, error) { return "", errors.New("no") })
	if err == nil || !strings.Contains(err.Error(), "NODE_NAME is not set and the hostname is unknown") {
		t.Fatalf("got %v", err)
	}
}
