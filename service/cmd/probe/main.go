// Command probe checks that HTTP targets answer, typically the other site's service across the
// site-to-site tunnel, and reports the outcome as JSON on stdout and in the container's
// termination message. See internal/probe.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"hybridctl.dev/service/internal/probe"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	code := probe.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
