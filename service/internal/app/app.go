// Package app assembles the service from its configuration.
package app

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"hybridctl.dev/service/internal/api"
	"hybridctl.dev/service/internal/config"
	"hybridctl.dev/service/internal/httpx"
	"hybridctl.dev/service/internal/metrics"
	"hybridctl.dev/service/internal/server"
	"hybridctl.dev/service/internal/store"
)

// App is the assembled service.
type App struct {
	Config  config.Config
	Log     *slog.Logger
	Store   *store.Store
	Metrics *metrics.Metrics
	Handler http.Handler
	Ready   *atomic.Bool
	server  *server.Server
}

// New builds the service, logging JSON lines to logOut. now is the clock (nil: time.Now).
func New(cfg config.Config, logOut io.Writer, now func() time.Time) *App {
	if now == nil {
		now = time.Now
	}
	attrs := []any{"site", cfg.Site, "node", cfg.NodeName}
	if cfg.PodName != "" {
		attrs = append(attrs, "pod", cfg.PodName)
	}
	log := slog.New(slog.NewJSONHandler(logOut, &slog.HandlerOptions{Level: cfg.LogLevel})).With(attrs...)
	st := store.New(cfg.SummaryWindow, cfg.MaxSeries, now)
	m := metrics.New(metrics.Options{
		MetricNames:   store.Metrics,
		RejectReasons: api.Reasons,
		SeriesTracked: func() float64 { return float64(st.SeriesCount()) },
	})
	ready := new(atomic.Bool)
	handlers := api.New(api.Options{
		Site: cfg.Site, Node: cfg.NodeName, MaxBodyBytes: cfg.MaxBodyBytes,
		Store: st, Metrics: m, Ready: ready.Load, Now: now,
	})
	h := handlers.Handler(&httpx.Stack{Log: log, Metrics: m, IDs: httpx.NewIDs(), Site: cfg.Site, Node: cfg.NodeName})
	return &App{
		Config: cfg, Log: log, Store: st, Metrics: m, Handler: h, Ready: ready,
		server: server.New(server.Options{
			Handler: h, Log: log, Ready: ready,
			DrainDelay: cfg.DrainDelay, ShutdownTimeout: cfg.ShutdownTimeout,
		}),
	}
}

// Run serves on ln until ctx is done, then drains and shuts down.
func (a *App) Run(ctx context.Context, ln net.Listener) error {
	return a.server.Run(ctx, ln)
}

// Listen opens the configured address.
func (a *App) Listen() (net.Listener, error) {
	return net.Listen("tcp", a.Config.ListenAddr)
}
