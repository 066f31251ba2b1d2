package shipper

import (
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"
)

// DefaultSeries are the series shipped unless SHIPPER_SERIES says otherwise: the recording
// rules (rates, error ratio, latency quantiles: the questions asked most, already
// aggregated), the service's raw counters (to count requests exactly and re-derive any rate),
// targets' health, and the cluster's state from kube-state-metrics. Per-CPU node counters
// and the histogram's buckets are left out: they multiply the rows by tens for little.
var DefaultSeries = []string{
	`{__name__=~"job:.+"}`,
	`http_requests_total`,
	`http_request_duration_seconds_count`,
	`http_request_duration_seconds_sum`,
	`readings_accepted_total`,
	`readings_rejected_total`,
	`up`,
	`kube_deployment_status_replicas_available`,
	`kube_pod_container_status_restarts_total`,
	`kube_node_status_condition`,
}

// Config is the shipper's validated settings; every one is a flag whose default comes
// from the SHIPPER_* environment variable of the same name.
type Config struct {
	Site, Bucket, Name        string
	Interval, Lag, Step       time.Duration
	Prometheus                string
	Series                    []string
	LogNamespace, LogSelector string
	LogFile                   string
	StateNamespaces           []string
	States                    bool
	TalosConfig               string
	TalosNodes                []TalosNode
	TalosListen, Spool        string
	Listen                    string
	Once                      bool
}

// ParseConfig reads args (without the program name) over the environment (lookupEnv, as
// os.LookupEnv: a variable set empty turns an optional listener off); every problem at once.
func ParseConfig(args []string, lookupEnv func(string) (string, bool)) (Config, error) {
	fs := flag.NewFlagSet("shipper", flag.ContinueOnError)
	env := func(name, fallback string) string {
		if v, ok := lookupEnv(name); ok {
			return strings.TrimSpace(v)
		}
		return fallback
	}
	var c Config
	var interval, lag, step, series, stateNamespaces, states, talosNodes string
	fs.StringVar(&c.Site, "site", env("SHIPPER_SITE", ""), "aws or onprem (SHIPPER_SITE)")
	fs.StringVar(&c.Bucket, "bucket", env("SHIPPER_BUCKET", ""), "the lake's bucket (SHIPPER_BUCKET)")
	fs.StringVar(&c.Name, "name", env("SHIPPER_NAME", ""), "this shipper's stable name, default shipper-<site> (SHIPPER_NAME)")
	fs.StringVar(&interval, "interval", env("SHIPPER_INTERVAL", "5m"), "window length (SHIPPER_INTERVAL)")
	fs.StringVar(&lag, "lag", env("SHIPPER_LAG", "1m"), "wait after a window ends before shipping it (SHIPPER_LAG)")
	fs.StringVar(&step, "step", env("SHIPPER_STEP", "15s"), "metrics step (SHIPPER_STEP)")
	fs.StringVar(&c.Prometheus, "prometheus", env("SHIPPER_PROMETHEUS", ""), "Prometheus base URL; empty: no metrics (SHIPPER_PROMETHEUS)")
	fs.StringVar(&series, "series", env("SHIPPER_SERIES", strings.Join(DefaultSeries, ";")), "PromQL selectors, separated by ';' or ',' outside braces (SHIPPER_SERIES)")
	fs.StringVar(&c.LogNamespace, "log-namespace", env("SHIPPER_LOG_NAMESPACE", "readings"), "namespace of the pods whose logs are shipped (SHIPPER_LOG_NAMESPACE)")
	fs.StringVar(&c.LogSelector, "log-selector", env("SHIPPER_LOG_SELECTOR", "app.kubernetes.io/name=readings"), "label selector of those pods (SHIPPER_LOG_SELECTOR)")
	fs.StringVar(&c.LogFile, "log-file", env("SHIPPER_LOG_FILE", ""), "read the service's stdout from this file instead of pod logs (SHIPPER_LOG_FILE)")
	fs.StringVar(&stateNamespaces, "state-namespaces", env("SHIPPER_STATE_NAMESPACES", ""), "namespaces of the pod, deployment and event snapshots; empty: all (SHIPPER_STATE_NAMESPACES)")
	fs.StringVar(&states, "states", env("SHIPPER_STATES", "true"), "snapshot states from the Kubernetes API (SHIPPER_STATES)")
	fs.StringVar(&c.TalosConfig, "talosconfig", env("SHIPPER_TALOSCONFIG", ""), "talosconfig (os:reader) to snapshot each node's Talos services and etcd members; empty: off (SHIPPER_TALOSCONFIG)")
	fs.StringVar(&talosNodes, "talos-nodes", env("SHIPPER_TALOS_NODES", ""), "address=controlplane|worker,…: the Talos nodes to ask; empty: the Kubernetes nodes' InternalIPs (SHIPPER_TALOS_NODES)")
	fs.StringVar(&c.TalosListen, "talos-listen", env("SHIPPER_TALOS_LISTEN", ""), "TCP address for Talos's json_lines logs; empty: off (SHIPPER_TALOS_LISTEN)")
	fs.StringVar(&c.Spool, "spool", env("SHIPPER_SPOOL", "/var/spool/shipper"), "directory for received Talos lines until shipped (SHIPPER_SPOOL)")
	fs.StringVar(&c.Listen, "listen", env("SHIPPER_LISTEN", ":9091"), "address of /metrics and /healthz; empty: off (SHIPPER_LISTEN)")
	fs.BoolVar(&c.Once, "once", false, "ship every complete window up to now, then exit")
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if c.Site != "aws" && c.Site != "onprem" {
		bad("SHIPPER_SITE must be aws or onprem (got %q)", c.Site)
	}
	if c.Bucket == "" {
		bad("SHIPPER_BUCKET is required")
	}
	if c.Name == "" {
		c.Name = "shipper-" + c.Site
	}
	duration := func(name, value string, least time.Duration) time.Duration {
		d, err := time.ParseDuration(value)
		if err != nil || d < least {
			bad("%s=%q must be a duration of at least %s", name, value, least)
		}
		return d
	}
	c.Interval = duration("SHIPPER_INTERVAL", interval, time.Second)
	c.Lag = duration("SHIPPER_LAG", lag, 0)
	c.Step = duration("SHIPPER_STEP", step, time.Second)
	if c.Interval > 0 && time.Hour%c.Interval != 0 {
		bad("SHIPPER_INTERVAL (%s) must divide an hour, so that a window lies in one hour's partition", c.Interval)
	}
	if c.Interval > 0 && c.Step > 0 && c.Interval%c.Step != 0 {
		bad("SHIPPER_INTERVAL (%s) must be a multiple of SHIPPER_STEP (%s)", c.Interval, c.Step)
	}
	c.Series = SplitSelectors(series)
	c.StateNamespaces = splitList(stateNamespaces)
	c.States = states != "false"
	if nodes, err := ParseTalosNodes(talosNodes); err != nil {
		bad("%v", err)
	} else {
		c.TalosNodes = nodes
	}
	return c, errors.Join(errs...)
}

// SplitSelectors splits at ';' and at ',' outside braces and quotes (a selector's matchers use commas).
func SplitSelectors(s string) []string {
	var out []string
	depth, start, quoted := 0, 0, false
	for i, r := range s {
		switch {
		case r == '"' && (i == 0 || s[i-1] != '\\'):
			quoted = !quoted
		case quoted:
		case r == '{':
			depth++
		case r == '}':
			depth--
		case (r == ';' || r == ',') && depth == 0:
			out = appendTrimmed(out, s[start:i])
			start = i + 1
		}
	}
	return appendTrimmed(out, s[start:])
}

func splitList(s string) []string {
	var out []string
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == ' ' }) {
		out = appendTrimmed(out, part)
	}
	return out
}

func appendTrimmed(out []string, s string) []string {
	if s = strings.TrimSpace(s); s != "" {
		out = append(out, s)
	}
	return out
}
