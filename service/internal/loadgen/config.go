// Package loadgen sends a steady mix of valid and invalid requests to the readings service
// and reports throughput and latency.
package loadgen

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"time"
)

// Config is a load run.
type Config struct {
	Target       string
	Rate         float64 // requests per second; 0 is as fast as possible
	Concurrency  int
	Duration     time.Duration // 0 runs until stopped
	InvalidRatio float64
	SummaryRatio float64
	Sensors      int
	Batch        int
	ReportEvery  time.Duration
	Timeout      time.Duration
	Seed         uint64 // 0 picks one
}

// Parse reads flags, each of which falls back to an environment variable (TARGET, RATE, ...)
// and then to its default.
func Parse(args []string, getenv func(string) string, usage io.Writer) (Config, error) {
	var c Config
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(usage)
	var errs []error
	env := func(name string, parse func(string) error) {
		if v := getenv(name); v != "" {
			if err := parse(v); err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: %w", name, v, err))
			}
		}
	}
	str := func(p *string, flagName, envName, def, help string) {
		*p = def
		env(envName, func(v string) error { *p = v; return nil })
		fs.StringVar(p, flagName, *p, help+" (env "+envName+")")
	}
	num := func(p *float64, flagName, envName string, def float64, help string) {
		*p = def
		env(envName, func(v string) (err error) { *p, err = strconv.ParseFloat(v, 64); return err })
		fs.Float64Var(p, flagName, *p, help+" (env "+envName+")")
	}
	integer := func(p *int, flagName, envName string, def int, help string) {
		*p = def
		env(envName, func(v string) (err error) { *p, err = strconv.Atoi(v); return err })
		fs.IntVar(p, flagName, *p, help+" (env "+envName+")")
	}
	dur := func(p *time.Duration, flagName, envName string, def time.Duration, help string) {
		*p = def
		env(envName, func(v string) (err error) { *p, err = time.ParseDuration(v); return err })
		fs.DurationVar(p, flagName, *p, help+" (env "+envName+")")
	}
	str(&c.Target, "target", "TARGET", "http://127.0.0.1:8080", "base URL of the service")
	num(&c.Rate, "rate", "RATE", 20, "requests per second in total; 0 sends as fast as possible")
	integer(&c.Concurrency, "concurrency", "CONCURRENCY", 4, "requests in flight at most (workers)")
	dur(&c.Duration, "duration", "DURATION", 0, "how long to run; 0 runs until SIGTERM or SIGINT")
	num(&c.InvalidRatio, "invalid-ratio", "INVALID_RATIO", 0.05, "share of requests that are deliberately invalid POSTs")
	num(&c.SummaryRatio, "summary-ratio", "SUMMARY_RATIO", 0.3, "share of requests that GET the summary")
	integer(&c.Sensors, "sensors", "SENSORS", 50, "how many sensor ids to spread readings over")
	integer(&c.Batch, "batch", "BATCH", 1, "readings per POST; above 1 they are sent as a JSON array")
	dur(&c.ReportEvery, "report-every", "REPORT_EVERY", 10*time.Second, "report interval when running until stopped")
	dur(&c.Timeout, "timeout", "TIMEOUT", 10*time.Second, "timeout of one request")
	var seed int
	integer(&seed, "seed", "SEED", 0, "random seed; 0 picks one")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		errs = append(errs, fmt.Errorf("unexpected arguments: %q", fs.Args()))
	}
	c.Seed = uint64(seed)
	errs = append(errs, c.validate()...)
	return c, errors.Join(errs...)
}

func (c *Config) validate() []error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if u, err := url.Parse(c.Target); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("-target %q must be an http(s) URL like http://readings:8080", c.Target)
	}
	if c.Rate < 0 {
		bad("-rate must be 0 or more")
	}
	if c.Concurrency < 1 || c.Concurrency > 10000 {
		bad("-concurrency must be between 1 and 10000")
	}
	if c.Duration < 0 {
		bad("-duration must be 0 or more")
	}
	if c.InvalidRatio < 0 || c.SummaryRatio < 0 || c.InvalidRatio+c.SummaryRatio > 1 {
		bad("-invalid-ratio and -summary-ratio must be 0 or more and add up to at most 1")
	}
	if c.Sensors < 1 || c.Sensors > 100000 {
		bad("-sensors must be between 1 and 100000")
	}
	if c.Batch < 1 || c.Batch > 500 {
		bad("-batch must be between 1 and 500")
	}
	if c.ReportEvery <= 0 {
		bad("-report-every must be more than 0")
	}
	if c.Timeout <= 0 {
		bad("-timeout must be more than 0")
	}
	return errs
}
