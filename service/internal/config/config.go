// Package config reads and validates the service's settings from the environment.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// Config is the validated service configuration.
type Config struct {
	Site            string
	NodeName        string
	PodName         string
	ListenAddr      string
	SummaryWindow   time.Duration
	MaxBodyBytes    int64
	MaxSeries       int
	LogLevel        slog.Level
	ShutdownTimeout time.Duration
	DrainDelay      time.Duration
}

// Sites are the values SITE accepts.
var Sites = []string{"aws", "onprem"}

// FromEnv reads the process environment; see Load.
func FromEnv() (Config, error) {
	return Load(os.Getenv, os.Hostname)
}

// Load builds a Config from getenv, reporting every bad value at once. hostname supplies the
// NODE_NAME default.
func Load(getenv func(string) string, hostname func() (string, error)) (Config, error) {
	p := parser{getenv: getenv}
	c := Config{
		Site:            p.oneOf("SITE", "", Sites),
		NodeName:        strings.TrimSpace(getenv("NODE_NAME")),
		PodName:         strings.TrimSpace(getenv("POD_NAME")),
		ListenAddr:      p.listenAddr("LISTEN_ADDR", ":8080"),
		SummaryWindow:   p.duration("SUMMARY_WINDOW", 5*time.Minute, time.Second, 24*time.Hour),
		MaxBodyBytes:    int64(p.integer("MAX_BODY_BYTES", 65536, 1024, 64<<20)),
		MaxSeries:       p.integer("MAX_SERIES", 10000, 1, 1_000_000),
		LogLevel:        p.logLevel("LOG_LEVEL", slog.LevelInfo),
		ShutdownTimeout: p.duration("SHUTDOWN_TIMEOUT", 20*time.Second, 0, 10*time.Minute),
		DrainDelay:      p.duration("DRAIN_DELAY", 5*time.Second, 0, 10*time.Minute),
	}
	if c.NodeName == "" {
		h, err := hostname()
		if err != nil || h == "" {
			p.fail("NODE_NAME", "", "is not set and the hostname is unknown")
		}
		c.NodeName = h
	}
	if len(c.NodeName) > 253 {
		p.fail("NODE_NAME", c.NodeName[:20]+"…", "must be at most 253 characters")
	}
	if len(c.PodName) > 253 {
		p.fail("POD_NAME", c.PodName[:20]+"…", "must be at most 253 characters")
	}
	return c, errors.Join(p.errs...)
}

type parser struct {
	getenv func(string) string
	errs   []error
}

func (p *parser) fail(name, value, problem string) {
	if value == "" {
		p.errs = append(p.errs, fmt.Errorf("%s %s", name, problem))
		return
	}
	p.errs = append(p.errs, fmt.Errorf("%s=%q %s", name, value, problem))
}

func (p *parser) oneOf(name, def string, allowed []string) string {
	v := strings.TrimSpace(p.getenv(name))
	if v == "" && def == "" {
		p.fail(name, "", "is required (one of "+strings.Join(allowed, ", ")+")")
		return ""
	}
	if v == "" {
		return def
	}
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	p.fail(name, v, "must be one of "+strings.Join(allowed, ", "))
	return ""
}

func (p *parser) listenAddr(name, def string) string {
	v := strings.TrimSpace(p.getenv(name))
	if v == "" {
		return def
	}
	_, port, err := net.SplitHostPort(v)
	if err != nil {
		p.fail(name, v, "must be host:port or :port")
		return ""
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		p.fail(name, v, "has a bad port (0-65535)")
	}
	return v
}

func (p *parser) duration(name string, def, lo, hi time.Duration) time.Duration {
	v := strings.TrimSpace(p.getenv(name))
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		p.fail(name, v, "is not a Go duration (examples: 500ms, 20s, 5m)")
		return def
	}
	if d < lo || d > hi {
		p.fail(name, v, fmt.Sprintf("must be between %s and %s", lo, hi))
	}
	return d
}

func (p *parser) integer(name string, def, lo, hi int) int {
	v := strings.TrimSpace(p.getenv(name))
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		p.fail(name, v, "is not a whole number")
		return def
	}
	if n < lo || n > hi {
		p.fail(name, v, fmt.Sprintf("must be between %d and %d", lo, hi))
	}
	return n
}

func (p *parser) logLevel(name string, def slog.Level) slog.Level {
	v := strings.ToLower(strings.TrimSpace(p.getenv(name)))
	switch v {
	case "":
		return def
	case "debug":
		return slog.LevelDebug
	case "info":
		return slog.LevelInfo
	case "warn", "warning":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	p.fail(name, v, "must be one of debug, info, warn, error")
	return def
}
