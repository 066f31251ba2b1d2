// Package etcd runs an embedded single-member etcd for the apiserver.
package etcd

import (
	"fmt"
	"net"
	"net/url"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

// Server is a running embedded etcd.
type Server struct {
	etcd     *embed.Etcd
	logLevel zap.AtomicLevel
	// ClientURL is where the apiserver reaches it (plain HTTP on loopback).
	ClientURL string
}

// Start runs etcd with its data in dir, on free loopback ports; metricsPort, if set, serves
// /metrics (etcd's own, as a Talos control plane's etcd serves them on 2381) on 127.0.0.1.
func Start(dir string, metricsPort int) (*Server, error) {
	clientURL, err := freeURL()
	if err != nil {
		return nil, err
	}
	peerURL, err := freeURL()
	if err != nil {
		return nil, err
	}
	cfg := embed.NewConfig()
	cfg.Name = "testbed"
	cfg.Dir = dir
	cfg.ListenClientUrls = []url.URL{*clientURL}
	cfg.AdvertiseClientUrls = []url.URL{*clientURL}
	cfg.ListenPeerUrls = []url.URL{*peerURL}
	cfg.AdvertisePeerUrls = []url.URL{*peerURL}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	if metricsPort != 0 {
		cfg.ListenMetricsUrls = []url.URL{{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", metricsPort)}}
	}
	level := zap.NewAtomicLevelAt(zap.ErrorLevel)
	logger, err := newLogger(level)
	if err != nil {
		return nil, err
	}
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(logger)
	cfg.EnableGRPCGateway = false
	// Test data is disposable; skipping fsync makes every apiserver write much cheaper.
	cfg.UnsafeNoFsync = true

	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, fmt.Errorf("start etcd: %w", err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		e.Close()
		return nil, fmt.Errorf("etcd: %w", err)
	case <-time.After(time.Minute):
		e.Close()
		return nil, fmt.Errorf("etcd did not become ready within a minute")
	}
	return &Server{etcd: e, logLevel: level, ClientURL: clientURL.String()}, nil
}

// Stop shuts etcd down, hiding the errors its listeners report when they are closed.
func (s *Server) Stop() {
	s.logLevel.SetLevel(zap.FatalLevel)
	s.etcd.Close()
}

// Err reports a fatal etcd error.
func (s *Server) Err() <-chan error { return s.etcd.Err() }

func freeURL() (*url.URL, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		return nil, err
	}
	return &url.URL{Scheme: "http", Host: addr}, nil
}

func newLogger(level zap.AtomicLevel) (*zap.Logger, error) {
	cfg := zap.NewProductionConfig()
	cfg.Level = level
	cfg.DisableStacktrace = true
	cfg.OutputPaths = []string{"stderr"}
	cfg.ErrorOutputPaths = []string{"stderr"}
	return cfg.Build()
}
