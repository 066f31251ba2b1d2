package testbed

import (
	"context"
	"fmt"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"hybridctl.dev/test/kube/internal/etcd"
	"hybridctl.dev/test/kube/internal/fakenodes"
)

// check reports whether something is ready, and if not, why.
type check func(ctx context.Context) (ok bool, why string)

func waitUntil(ctx context.Context, failed <-chan error, db *etcd.Server, what string, ready check) error {
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	why := "not checked yet"
	for {
		ok, reason := ready(ctx)
		if ok {
			return nil
		}
		why = reason
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w (last: %s)", what, ctx.Err(), why)
		case err := <-failed:
			return err
		case err := <-db.Err():
			return fmt.Errorf("etcd: %w", err)
		case <-tick.C:
		}
	}
}

func apiserverReady(client kubernetes.Interface) check {
	return func(ctx context.Context) (bool, string) {
		_, err := client.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		if err != nil {
			return false, err.Error()
		}
		return true, ""
	}
}

// clusterReady holds once every fake node is Ready and free of the node lifecycle
// taints, and workloads can be created in the default namespace.
func clusterReady(client kubernetes.Interface, nodes []fakenodes.Spec) check {
	return func(ctx context.Context) (bool, string) {
		for _, spec := range nodes {
			node, err := client.CoreV1().Nodes().Get(ctx, spec.Name, metav1.GetOptions{})
			if err != nil {
				return false, err.Error()
			}
			if why := nodeNotReady(node); why != "" {
				return false, spec.Name + ": " + why
			}
		}
		if _, err := client.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{}); err != nil {
			return false, err.Error()
		}
		if _, err := client.CoreV1().ConfigMaps("default").Get(ctx, "kube-root-ca.crt", metav1.GetOptions{}); err != nil {
			return false, err.Error()
		}
		return true, ""
	}
}

func nodeNotReady(node *corev1.Node) string {
	ready := slices.ContainsFunc(node.Status.Conditions, func(c corev1.NodeCondition) bool {
		return c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue
	})
	if !ready {
		return "not Ready"
	}
	for _, t := range node.Spec.Taints {
		if t.Key == corev1.TaintNodeNotReady || t.Key == corev1.TaintNodeUnreachable {
			return "tainted " + t.Key
		}
	}
	return ""
}
