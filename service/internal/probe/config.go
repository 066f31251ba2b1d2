// Package probe checks that HTTP targets answer, typically the other site's service across
// the site-to-site tunnel, and reports per target how many requests got a 2xx answer, their
// round-trip times, and which site and node answered.
package probe

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"time"
)

// DefaultResultFile is where Kubernetes reads a container's termination message.
const DefaultResultFile = "/dev/termination-log"

// Config is a probe run.
type Config struct {
	Targets    []string
	Count      int           // requests per target
	Interval   time.Duration // between the starts of two requests to a target
	Timeout    time.Duration // of one request
	Deadline   time.Duration // of the whole run
	ResultFile string        // "" writes none
}

// targets collects the repeatable -target flag.
type targets []string

func (t *targets) String() string { return fmt.Sprint([]string(*t)) }

func (t *targets) Set(v string) error {
	*t = append(*t, v)
	return nil
}

// Parse reads the flags; usage goes to usage.
func Parse(args []string, usage io.Writer) (Config, error) {
	c := Config{}
	fs := flag.NewFlagSet("probe", flag.ContinueOnError)
	fs.SetOutput(usage)
	fs.Var((*targets)(&c.Targets), "target", "URL to GET, e.g. http://192.168.10.21:30080/readyz (repeatable, required)")
	fs.IntVar(&c.Count, "count", 5, "requests per target")
	fs.DurationVar(&c.Interval, "interval", 200*time.Millisecond, "time between the starts of two requests to a target")
	fs.DurationVar(&c.Timeout, "timeout", 3*time.Second, "timeout of one request")
	fs.DurationVar(&c.Deadline, "deadline", 30*time.Second, "time for the whole run; a target that has not answered yet is retried until then")
	fs.StringVar(&c.ResultFile, "result", DefaultResultFile, `file the JSON result is also written to ("" for none)`)
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	errs := c.validate()
	if fs.NArg() > 0 {
		errs = append(errs, fmt.Errorf("unexpected arguments: %q", fs.Args()))
	}
	return c, errors.Join(errs...)
}

func (c *Config) validate() []error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if len(c.Targets) == 0 {
		bad("-target is required (an http(s) URL like http://192.168.10.21:30080/readyz; repeat it for more)")
	}
	for _, t := range c.Targets {
		if u, err := url.Parse(t); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("-target %q must be an http(s) URL like http://192.168.10.21:30080/readyz", t)
		}
	}
	if c.Count < 1 || c.Count > 10000 {
		bad("-count must be between 1 and 10000")
	}
	if c.Interval < 0 {
		bad("-interval must be 0 or more")
	}
	if c.Timeout <= 0 {
		bad("-timeout must be more than 0")
	}
	if c.Deadline <= 0 {
		bad("-deadline must be more than 0")
	}
	return errs
}
