package fakenodes

import (
	"context"
	"os"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"
	configv1alpha1 "sigs.k8s.io/kwok/pkg/apis/config/v1alpha1"
	"sigs.k8s.io/kwok/pkg/client/clientset/versioned"
	"sigs.k8s.io/kwok/pkg/kwok/controllers"
	"sigs.k8s.io/kwok/pkg/log"
	"sigs.k8s.io/kwok/pkg/utils/client"
)

// leaseSeconds matches kwokctl: nodes keep a 40 s lease, renewed about every 10 s,
// which keeps the node lifecycle controller from marking them NotReady.
const leaseSeconds = 40

// KwokOptions configures the fake kubelets.
type KwokOptions struct {
	Kubeconfig string
	PodCIDR    string
	// NodeIP is the address of nodes whose name does not carry one.
	NodeIP string
	// NodePort, if set, is the kubelet port every node advertises.
	NodePort int
	// Skip, if its key is set, is the label of pods kwok must leave alone.
	Skip Label
}

// StartKwok starts kwok's controller for every node annotated by Create; it runs until ctx is done.
func StartKwok(ctx context.Context, o KwokOptions) error {
	stages, err := defaultStages(o.Skip)
	if err != nil {
		return err
	}
	id, err := controllers.Identity()
	if err != nil {
		return err
	}
	ctx, clients, restConfig, err := kwokClients(ctx, o.Kubeconfig)
	if err != nil {
		return err
	}
	dynamicClient, err := clients.ToDynamicClient()
	if err != nil {
		return err
	}
	restMapper, err := clients.ToRESTMapper()
	if err != nil {
		return err
	}
	restClient, err := rest.RESTClientFor(restConfig)
	if err != nil {
		return err
	}
	typedClient, err := kubernetes.NewForConfig(restConfig)
	if err != nil {
		return err
	}
	kwokClient, err := versioned.NewForConfig(restConfig)
	if err != nil {
		return err
	}

	defaults := &configv1alpha1.KwokConfiguration{}
	configv1alpha1.SetObjectDefaults_KwokConfiguration(defaults)
	opts := defaults.Options

	ctr, err := controllers.NewController(controllers.Config{
		Clock:                             clock.RealClock{},
		DynamicClient:                     dynamicClient,
		RESTClient:                        restClient,
		RESTMapper:                        restMapper,
		ImpersonatingDynamicClient:        clients.ToImpersonatingDynamicClient(),
		ImpersonatingTypedClient:          clients.ToImpersonatingTypedClient(),
		TypedClient:                       typedClient,
		TypedKwokClient:                   kwokClient,
		ManageNodesWithAnnotationSelector: manageSelector,
		CIDR:                              o.PodCIDR,
		NodeIP:                            o.NodeIP,
		NodePort:                          o.NodePort,
		LocalStages:                       stages,
		PodPlayStageParallelism:           opts.PodPlayStageParallelism,
		NodePlayStageParallelism:          opts.NodePlayStageParallelism,
		NodeLeaseParallelism:              opts.NodeLeaseParallelism,
		NodeLeaseDurationSeconds:          leaseSeconds,
		PodsOnNodeSyncParallelism:         opts.PodsOnNodeSyncParallelism,
		EnablePodsOnNodeSyncListPager:     *opts.EnablePodsOnNodeSyncListPager,
		EnablePodsOnNodeSyncStreamWatch:   *opts.EnablePodsOnNodeSyncStreamWatch,
		ID:                                id,
	})
	if err != nil {
		return err
	}
	return ctr.Start(ctx)
}

// kwokClients are kwok's clients for the kubeconfig, and a context that gives kwok's own logging
// (warnings and worse, on stderr).
func kwokClients(ctx context.Context, kubeconfig string) (context.Context, client.Clientset, *rest.Config, error) {
	ctx = log.NewContext(ctx, log.NewLogger(os.Stderr, log.LevelWarn))
	clients, err := client.NewClientset("", kubeconfig)
	if err != nil {
		return ctx, nil, nil, err
	}
	restConfig, err := clients.ToRESTConfig()
	return ctx, clients, restConfig, err
}
