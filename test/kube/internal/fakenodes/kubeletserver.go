package fakenodes

import (
	"context"
	"fmt"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensions "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/kwok/kustomize/crd"
	"sigs.k8s.io/kwok/pkg/apis/v1alpha1"
	"sigs.k8s.io/kwok/pkg/client/clientset/versioned"
	"sigs.k8s.io/kwok/pkg/kwok/server"
	"sigs.k8s.io/yaml"
)

// KubeletServerOptions configures the nodes' kubelet API: kwok's server, which answers
// the API server's GET /containerLogs/… from the files that kwok's Logs and ClusterLogs
// objects name, read by the kubelet's own CRI log reader (k8s.io/cri-client/pkg/logs).
type KubeletServerOptions struct {
	Kubeconfig string
	// Address is HOST:PORT; every node advertises PORT as its kubelet endpoint.
	Address           string
	CertFile, KeyFile string
}

// StartKubeletServer installs the Logs and ClusterLogs definitions, waits until the API
// serves them, and starts kwok's kubelet server; it runs until ctx is done, failures
// after the start going to failed.
func StartKubeletServer(ctx context.Context, o KubeletServerOptions, failed chan<- error) error {
	ctx, _, restConfig, err := kwokClients(ctx, o.Kubeconfig)
	if err != nil {
		return err
	}
	if err := installCRDs(ctx, restConfig, crd.Logs, crd.ClusterLogs); err != nil {
		return err
	}
	kwokClient, err := versioned.NewForConfig(restConfig)
	if err != nil {
		return err
	}
	svc, err := server.NewServer(server.Config{
		TypedKwokClient: kwokClient,
		EnableCRDs:      []string{v1alpha1.LogsKind, v1alpha1.ClusterLogsKind},
	})
	if err != nil {
		return err
	}
	svc.InstallHealthz()
	svc.InstallDebuggingHandlers()
	if err := svc.InstallCRD(ctx); err != nil {
		return fmt.Errorf("watch Logs: %w", err)
	}
	go func() {
		if err := svc.Run(ctx, o.Address, o.CertFile, o.KeyFile); err != nil && ctx.Err() == nil {
			failed <- fmt.Errorf("kubelet server: %w", err)
		}
	}()
	return nil
}

// installCRDs creates the definitions (YAML) and waits until each is Established.
func installCRDs(ctx context.Context, restConfig *rest.Config, definitions ...[]byte) error {
	api, err := apiextensions.NewForConfig(restConfig)
	if err != nil {
		return err
	}
	crds := api.ApiextensionsV1().CustomResourceDefinitions()
	for _, raw := range definitions {
		var def apiextensionsv1.CustomResourceDefinition
		if err := yaml.Unmarshal(raw, &def); err != nil {
			return err
		}
		if _, err := crds.Create(ctx, &def, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create %s: %w", def.Name, err)
		}
		err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
			got, err := crds.Get(ctx, def.Name, metav1.GetOptions{})
			if err != nil {
				return false, nil
			}
			for _, c := range got.Status.Conditions {
				if c.Type == apiextensionsv1.Established && c.Status == apiextensionsv1.ConditionTrue {
					return true, nil
				}
			}
			return false, nil
		})
		if err != nil {
			return fmt.Errorf("%s not established: %w", def.Name, err)
		}
	}
	return nil
}
