// Package server runs the HTTP server and its graceful shutdown: readiness off, a drain
// delay for load balancers to notice, then in-flight requests finish.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// Options configure a Server.
type Options struct {
	Handler         http.Handler
	Log             *slog.Logger
	DrainDelay      time.Duration
	ShutdownTimeout time.Duration
	// Ready is set while the server takes traffic; the readiness probe reads it.
	Ready *atomic.Bool
}

// Server is an http.Server with the service's timeouts and shutdown sequence.
type Server struct {
	opts Options
	http *http.Server
}

// New makes a server; Run starts it.
func New(o Options) *Server {
	return &Server{opts: o, http: &http.Server{
		Handler:           o.Handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(o.Log.Handler(), slog.LevelWarn),
	}}
}

// Run serves on ln until ctx is done, then shuts down gracefully. It returns nil after a
// clean shutdown.
func (s *Server) Run(ctx context.Context, ln net.Listener) error {
	served := make(chan error, 1)
	go func() { served <- s.http.Serve(ln) }()
	s.opts.Ready.Store(true)
	s.opts.Log.Info("listening", "addr", ln.Addr().String())

	select {
	case err := <-served:
		s.opts.Ready.Store(false)
		return fmt.Errorf("serving: %w", err)
	case <-ctx.Done():
	}

	s.opts.Ready.Store(false)
	// Answers now close their connections, so clients reconnect, soon to other replicas.
	s.http.SetKeepAlivesEnabled(false)
	s.opts.Log.Info("draining", "drain_delay", s.opts.DrainDelay.String())
	time.Sleep(s.opts.DrainDelay)

	s.opts.Log.Info("shutting down", "timeout", s.opts.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), s.opts.ShutdownTimeout)
	defer cancel()
	if err := s.http.Shutdown(sctx); err != nil {
		_ = s.http.Close()
		return fmt.Errorf("in-flight requests did not finish within %s: %w", s.opts.ShutdownTimeout, err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serving: %w", err)
	}
	s.opts.Log.Info("stopped")
	return nil
}
