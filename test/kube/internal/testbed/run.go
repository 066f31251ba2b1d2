package testbed

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"

	"hybridctl.dev/test/kube/internal/controlplane"
	"hybridctl.dev/test/kube/internal/etcd"
	"hybridctl.dev/test/kube/internal/execkubelet"
	"hybridctl.dev/test/kube/internal/fakenodes"
)

const (
	startTimeout = 3 * time.Minute
	stopTimeout  = 30 * time.Second
)

// Run starts the testbed, calls ready once it can be used, and stops it when ctx
// is done. It returns an error if a component fails.
func Run(ctx context.Context, c Config, ready func()) error {
	p := c.paths()
	if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return err
	}
	if err := writeCredentials(c, p); err != nil {
		return fmt.Errorf("credentials: %w", err)
	}
	if c.AuditLog != "" {
		if err := writeAuditPolicy(p); err != nil {
			return err
		}
	}
	db, err := etcd.Start(p.etcd, c.EtcdMetricsPort)
	if err != nil {
		return err
	}
	defer db.Stop()

	failed := make(chan error, 4)
	apiCtx, stopAPI := context.WithCancel(context.WithoutCancel(ctx))
	apiDone := goRun(apiCtx, "kube-apiserver", failed, func(ctx context.Context) error {
		return controlplane.RunAPIServer(ctx, apiserverArgs(c, p, db.ClientURL))
	})
	defer stopWithin(stopAPI, apiDone, "kube-apiserver")

	admin, err := clientFor(p.admin)
	if err != nil {
		return err
	}
	startCtx, cancelStart := context.WithTimeout(ctx, startTimeout)
	defer cancelStart()
	if err := waitUntil(startCtx, failed, db, "apiserver /readyz", apiserverReady(admin)); err != nil {
		return err
	}

	compCtx, stopComponents := context.WithCancel(context.WithoutCancel(ctx))
	kcmDone := goRun(compCtx, "kube-controller-manager", failed, func(ctx context.Context) error {
		return controlplane.RunControllerManager(ctx, controllerManagerArgs(c, p))
	})
	schedDone := goRun(compCtx, "kube-scheduler", failed, func(ctx context.Context) error {
		return controlplane.RunScheduler(ctx, schedulerArgs(p))
	})
	defer stopWithin(stopComponents, both(kcmDone, schedDone), "controller manager and scheduler")

	if err := fakenodes.Create(startCtx, admin, c.Nodes); err != nil {
		return err
	}
	kwokOpts := fakenodes.KwokOptions{Kubeconfig: p.kwok, PodCIDR: c.PodCIDR, NodeIP: c.Listen.String(), NodePort: c.KubeletPort,
		Skip: fakenodes.Label{Key: c.Exec.LabelKey, Value: c.Exec.LabelValue}}
	if c.KubeletPort != 0 {
		kubelet := fakenodes.KubeletServerOptions{Kubeconfig: p.kwok, Address: net.JoinHostPort(c.Listen.String(), itoa(c.KubeletPort)),
			CertFile: p.kubelet, KeyFile: p.kubeletKey}
		if err := fakenodes.StartKubeletServer(compCtx, kubelet, failed); err != nil {
			return fmt.Errorf("kubelet server: %w", err)
		}
	}
	if err := fakenodes.StartKwok(compCtx, kwokOpts); err != nil {
		return fmt.Errorf("kwok: %w", err)
	}
	if c.Exec.LabelKey != "" {
		exec := c.Exec
		exec.Kubeconfig, exec.Dir = p.execKubelet, p.pods
		execDone := goRun(compCtx, "exec kubelet", failed, func(ctx context.Context) error {
			return execkubelet.Run(ctx, exec)
		})
		// Stopping it kills the pods' processes and waits for them to end.
		defer stopWithin(stopComponents, execDone, "exec kubelet")
	}
	if err := waitUntil(startCtx, failed, db, "nodes and default service account", clusterReady(admin, c.Nodes)); err != nil {
		return err
	}
	ready()

	select {
	case <-ctx.Done():
		klog.InfoS("Stopping")
		return nil
	case err := <-failed:
		return err
	case err := <-db.Err():
		return fmt.Errorf("etcd: %w", err)
	}
}

// goRun runs a component; a component that returns while it should still be
// running reports on failed.
func goRun(ctx context.Context, name string, failed chan<- error, run func(context.Context) error) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		err := run(ctx)
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			err = errors.New("stopped")
		}
		failed <- fmt.Errorf("%s: %w", name, err)
	}()
	return done
}

func stopWithin(cancel context.CancelFunc, done <-chan struct{}, what string) {
	cancel()
	select {
	case <-done:
	case <-time.After(stopTimeout):
		klog.ErrorS(nil, "Gave up waiting for shutdown", "component", what)
	}
}

func both(a, b <-chan struct{}) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		<-a
		<-b
		close(done)
	}()
	return done
}

func clientFor(kubeconfig string) (*kubernetes.Clientset, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, err
	}
	return kubernetes.NewForConfig(cfg)
}
