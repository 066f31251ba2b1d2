package controlplane

import (
	"context"

	"k8s.io/kubernetes/cmd/kube-scheduler/app"
	"k8s.io/kubernetes/cmd/kube-scheduler/app/options"
)

// RunScheduler runs kube-scheduler with the given flags until ctx is done.
func RunScheduler(ctx context.Context, args []string) error {
	opts := options.NewOptions()
	if err := parseFlags("kube-scheduler", *opts.Flags, args); err != nil {
		return err
	}
	if err := opts.ComponentGlobalsRegistry.Set(); err != nil {
		return err
	}
	cc, sched, err := app.Setup(ctx, opts)
	if err != nil {
		return err
	}
	return app.Run(ctx, cc, sched)
}
