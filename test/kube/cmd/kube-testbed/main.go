// Command kube-testbed runs a real Kubernetes control plane with fake kwok nodes
// in one process, for hybridctl's integration tests. It prints "ready" on stdout
// once the cluster can take workloads, and stops cleanly on SIGTERM or SIGINT.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"k8s.io/client-go/rest"

	"hybridctl.dev/test/kube/internal/logging"
	"hybridctl.dev/test/kube/internal/testbed"
)

func main() {
	o, err := parseFlags(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "kube-testbed:", err)
		os.Exit(2)
	}
	if err := logging.Setup(o.logLevel); err != nil {
		fmt.Fprintln(os.Stderr, "kube-testbed:", err)
		os.Exit(2)
	}
	// The components' clients would otherwise log every deprecation warning they get.
	rest.SetDefaultWarningHandler(rest.NoWarnings{})

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	err = testbed.Run(ctx, o.Config, func() { fmt.Println("ready") })
	if err != nil {
		fmt.Fprintln(os.Stderr, "kube-testbed:", err)
		os.Exit(1)
	}
}
