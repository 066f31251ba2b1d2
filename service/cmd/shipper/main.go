// Command shipper ships its site's metrics, logs and system states to the S3 data lake
// (docs/DATA.md): one window at a time, restart-safe, one shipper per site.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"hybridctl.dev/service/internal/shipper"
	"k8s.io/client-go/kubernetes"
)

func main() { os.Exit(run()) }

func run() int {
	cfg, err := shipper.ParseConfig(os.Args[1:], os.LookupEnv)
	if err != nil {
		fmt.Fprintf(os.Stderr, "shipper: bad configuration:\n  %s\n", strings.ReplaceAll(err.Error(), "\n", "\n  "))
		return 2
	}
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil)).With("site", cfg.Site, "shipper", cfg.Name)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	s, err := assemble(ctx, cfg, log)
	if err != nil {
		log.Error("cannot start", "err", err.Error())
		return 1
	}
	if cfg.Listen != "" && !cfg.Once {
		server := &http.Server{Addr: cfg.Listen, Handler: s.Self.Handler(), ReadHeaderTimeout: 5 * time.Second}
		go func() {
			if err := server.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error("metrics listener failed", "err", err.Error())
			}
		}()
		defer server.Close()
	}
	if cfg.TalosListen != "" && !cfg.Once {
		ln, err := net.Listen("tcp", cfg.TalosListen)
		if err != nil {
			log.Error("cannot listen for Talos logs", "addr", cfg.TalosListen, "err", err.Error())
			return 1
		}
		receiver := &shipper.TalosReceiver{Spool: s.Talos, Log: log, Received: s.Self.TalosLines.Inc, Now: time.Now}
		go receiver.Serve(ctx, ln)
	}
	log.Info("starting", "bucket", cfg.Bucket, "interval", cfg.Interval.String(), "lag", cfg.Lag.String(), "once", cfg.Once)
	if err := s.Run(ctx, cfg.Once); err != nil {
		log.Error("stopped with an error", "err", err.Error())
		return 1
	}
	return 0
}

// assemble builds the shipper and its sources from the configuration.
func assemble(ctx context.Context, cfg shipper.Config, log *slog.Logger) (*shipper.Shipper, error) {
	endpoint := os.Getenv("AWS_ENDPOINT_URL")
	if endpoint == "" {
		endpoint = os.Getenv("AWS_ENDPOINT_URL_S3")
	}
	store, err := shipper.NewS3Store(ctx, cfg.Bucket, endpoint)
	if err != nil {
		return nil, err
	}
	s := &shipper.Shipper{Site: cfg.Site, Name: cfg.Name, Interval: cfg.Interval, Lag: cfg.Lag, Store: store,
		Self: shipper.NewSelfMetrics(), Log: log, Now: time.Now}
	if cfg.Prometheus != "" {
		if s.Metrics, err = shipper.NewPromMetrics(cfg.Prometheus, cfg.Series, cfg.Step); err != nil {
			return nil, err
		}
	}
	var kube kubernetes.Interface
	if cfg.States || cfg.LogFile == "" {
		if kube, err = shipper.KubeClient(); err != nil {
			return nil, err
		}
	}
	if cfg.LogFile != "" {
		s.Logs = []shipper.LogSource{&shipper.LogFile{Path: cfg.LogFile,
			Origin: shipper.LogOrigin{Source: "service", Namespace: cfg.LogNamespace, Pod: "file", Container: "readings"}}}
	} else {
		s.Logs = []shipper.LogSource{&shipper.PodLogs{Client: kube, Namespace: cfg.LogNamespace, Selector: cfg.LogSelector}}
	}
	if cfg.States {
		states := shipper.AllStates{&shipper.KubeStates{Client: kube, Namespaces: cfg.StateNamespaces}}
		if cfg.TalosConfig != "" {
			nodes := shipper.KubeTalosNodes(kube)
			if len(cfg.TalosNodes) > 0 {
				nodes = func(context.Context) ([]shipper.TalosNode, error) { return cfg.TalosNodes, nil }
			}
			unanswered := func(err error) { log.Warn("talos snapshot incomplete", "error", err.Error()) }
			states = append(states, &shipper.TalosStates{ConfigFile: cfg.TalosConfig, Nodes: nodes, Unanswered: unanswered})
		}
		s.States = states
	}
	if _, statErr := os.Stat(cfg.Spool); cfg.TalosListen != "" || (cfg.Once && statErr == nil) {
		// --once still ships what an earlier run spooled.
		if s.Talos, err = shipper.OpenSpool(cfg.Spool, cfg.Interval); err != nil {
			return nil, fmt.Errorf("spool %s: %w", cfg.Spool, err)
		}
	}
	return s, nil
}
