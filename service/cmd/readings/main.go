// Command readings is the sensor-readings ingestion service hybridctl deploys to each site.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"

	"hybridctl.dev/service/internal/app"
	"hybridctl.dev/service/internal/config"
	"hybridctl.dev/service/internal/logbuf"
)

func main() { os.Exit(run()) }

func run() int {
	cfg, err := config.FromEnv()
	if err != nil {
		fmt.Fprintf(os.Stderr, "readings: bad configuration:\n  %s\n", strings.ReplaceAll(err.Error(), "\n", "\n  "))
		return 2
	}
	// One write system call per batch of log lines, not per request: a large share of the
	// CPU at high request rates otherwise.
	logs := logbuf.New(os.Stdout, 64<<10, 100*time.Millisecond)
	defer logs.Close()
	a := app.New(cfg, logs, nil)
	ln, err := a.Listen()
	if err != nil {
		a.Log.Error("cannot listen", "addr", cfg.ListenAddr, "err", err.Error())
		return 1
	}
	a.Log.Info("starting", "go", runtime.Version(), "gomaxprocs", runtime.GOMAXPROCS(0),
		"summary_window", cfg.SummaryWindow.String(), "log_level", cfg.LogLevel.String())

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-ctx.Done()
		stop() // a second signal ends the process at once
	}()
	if err := a.Run(ctx, ln); err != nil {
		a.Log.Error("stopped with an error", "err", err.Error())
		return 1
	}
	return 0
}
