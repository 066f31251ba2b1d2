package fleet

import (
	"context"
	"fmt"
	"strings"

	"github.com/cosi-project/runtime/api/v1alpha1"
	"github.com/cosi-project/runtime/pkg/resource"
	"github.com/cosi-project/runtime/pkg/resource/meta"
	"github.com/cosi-project/runtime/pkg/safe"
	"github.com/cosi-project/runtime/pkg/state"
	"github.com/cosi-project/runtime/pkg/state/impl/inmem"
	"github.com/cosi-project/runtime/pkg/state/impl/namespaced"
	"github.com/cosi-project/runtime/pkg/state/protobuf/server"
	"github.com/cosi-project/runtime/pkg/state/registry"
	"github.com/siderolabs/talos/pkg/machinery/resources/network"
	talosruntime "github.com/siderolabs/talos/pkg/machinery/resources/runtime"
	"github.com/siderolabs/talos/pkg/machinery/role"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// cosiService is machined's COSI resource API (`cosi.resource.State`,
// registered next to MachineService in v1alpha1_server.go Register): cosi's
// own protobuf server over a state filtered by Talos's access policy
// (internal/app/resources/access.go). The state is built afresh from the
// node for every call, so reads always see its current network; Watch is
// not served.
type cosiService struct {
	v1alpha1.UnimplementedStateServer

	n *Node
}

func (s *cosiService) Get(ctx context.Context, req *v1alpha1.GetRequest) (*v1alpha1.GetResponse, error) {
	st, err := s.n.resourceState(ctx)
	if err != nil {
		return nil, err
	}

	return server.NewState(st).Get(ctx, req)
}

func (s *cosiService) List(req *v1alpha1.ListRequest, srv v1alpha1.State_ListServer) error {
	st, err := s.n.resourceState(srv.Context())
	if err != nil {
		return err
	}

	return server.NewState(st).List(req, srv)
}

// Create, Update and Destroy reach the access policy, which refuses writes.

func (s *cosiService) Create(ctx context.Context, req *v1alpha1.CreateRequest) (*v1alpha1.CreateResponse, error) {
	st, err := s.n.resourceState(ctx)
	if err != nil {
		return nil, err
	}

	return server.NewState(st).Create(ctx, req)
}

func (s *cosiService) Update(ctx context.Context, req *v1alpha1.UpdateRequest) (*v1alpha1.UpdateResponse, error) {
	st, err := s.n.resourceState(ctx)
	if err != nil {
		return nil, err
	}

	return server.NewState(st).Update(ctx, req)
}

func (s *cosiService) Destroy(ctx context.Context, req *v1alpha1.DestroyRequest) (*v1alpha1.DestroyResponse, error) {
	st, err := s.n.resourceState(ctx)
	if err != nil {
		return nil, err
	}

	return server.NewState(st).Destroy(ctx, req)
}

// Owners are the controllers that write these resources in Talos.
const (
	machineStatusOwner = "runtime.MachineStatusController"
	linkStatusOwner    = "network.LinkStatusController"
	addressStatusOwner = "network.AddressStatusController"
	routeStatusOwner   = "network.RouteStatusController"
	// GenericMergeController names itself after the type, "Spec" → "MergeController".
	addressSpecOwner = "AddressMergeControllers.net.talos.dev"
)

// resourceState is the node's resources as Talos's runtime state holds them
// (runtime/v1alpha2/v1alpha2_state.go): namespaces and resource definitions
// registered in `meta` (so clients resolve "links" as talosctl does), the
// network resources in `network`; behind the access policy.
func (n *Node) resourceState(ctx context.Context) (state.CoreState, error) {
	st := state.WrapCore(namespaced.NewState(inmem.Build))

	namespaces := registry.NewNamespaceRegistry(st)
	resources := registry.NewResourceRegistry(st)

	if err := namespaces.RegisterDefault(ctx); err != nil {
		return nil, err
	}

	if err := resources.RegisterDefault(ctx); err != nil {
		return nil, err
	}

	for _, ns := range []struct{ name, description string }{
		{network.NamespaceName, "Networking resources."},
		{network.ConfigNamespaceName, "Networking configuration resources."},
		{talosruntime.NamespaceName, "Talos runtime resources."},
	} {
		if err := namespaces.Register(ctx, ns.name, ns.description); err != nil {
			return nil, err
		}
	}

	for _, r := range []meta.ResourceWithRD{
		&network.AddressSpec{},
		&network.AddressStatus{},
		&network.LinkStatus{},
		&network.RouteStatus{},
		&talosruntime.MachineStatus{},
	} {
		if err := resources.Register(ctx, r); err != nil {
			return nil, err
		}
	}

	if err := n.createNetworkResources(ctx, st); err != nil {
		return nil, err
	}

	if err := st.Create(ctx, n.machineStatus(), state.WithCreateOwner(machineStatusOwner)); err != nil {
		return nil, err
	}

	return state.Filter(st, accessPolicy(st)), nil
}

func (n *Node) createNetworkResources(ctx context.Context, st state.State) error {
	snap := n.netSnapshot()
	links := snap.linkStatuses()

	create := func(r resource.Resource, owner string) error {
		if err := st.Create(ctx, r, state.WithCreateOwner(owner)); err != nil {
			return fmt.Errorf("%s: %w", r.Metadata(), err)
		}

		return nil
	}

	for _, link := range links {
		r := network.NewLinkStatus(network.NamespaceName, link.name)
		*r.TypedSpec() = link.status

		if err := create(r, linkStatusOwner); err != nil {
			return err
		}
	}

	for _, address := range snap.addressStatuses(links) {
		r := network.NewAddressStatus(network.NamespaceName, network.AddressID(address.LinkName, address.Address))
		*r.TypedSpec() = address

		if err := create(r, addressStatusOwner); err != nil {
			return err
		}
	}

	for _, spec := range snap.addressSpecs() {
		r := network.NewAddressSpec(network.NamespaceName, network.AddressID(spec.LinkName, spec.Address))
		*r.TypedSpec() = spec

		if err := create(r, addressSpecOwner); err != nil {
			return err
		}
	}

	for _, route := range snap.routeStatuses(links) {
		id := network.RouteID(route.Table, route.Family, route.Destination, route.Gateway, route.Priority, route.OutLinkName)
		r := network.NewRouteStatus(network.NamespaceName, id)
		*r.TypedSpec() = route

		if err := create(r, routeStatusOwner); err != nil {
			return err
		}
	}

	return nil
}

// machineStatus is the node's stage as machined reports it: running once configured (ready),
// maintenance before that.
func (n *Node) machineStatus() *talosruntime.MachineStatus {
	n.f.mu.Lock()
	defer n.f.mu.Unlock()

	r := talosruntime.NewMachineStatus()
	switch n.state {
	case stateConfigured:
		r.TypedSpec().Stage = talosruntime.MachineStageRunning
		r.TypedSpec().Status.Ready = true
	case stateMaintenance:
		r.TypedSpec().Stage = talosruntime.MachineStageMaintenance
	default:
		r.TypedSpec().Stage = talosruntime.MachineStageBooting
	}

	return r
}

// accessPolicy is Talos's resources.AccessPolicy: read-only; the type must
// have a resource definition (sensitive types need os:admin) and the
// namespace must exist.
func accessPolicy(st state.State) state.FilteringRule {
	return func(ctx context.Context, access state.Access) error {
		if !access.Verb.Readonly() {
			return status.Error(codes.PermissionDenied, "write access is not allowed")
		}

		rd, err := safe.StateGet[*meta.ResourceDefinition](ctx, st,
			resource.NewMetadata(meta.NamespaceName, meta.ResourceDefinitionType, strings.ToLower(access.ResourceType), resource.VersionUndefined))
		if err != nil {
			if state.IsNotFoundError(err) {
				return status.Error(codes.PermissionDenied, fmt.Sprintf("resource type %q is not supported", access.ResourceType))
			}

			return err
		}

		if rd.TypedSpec().Sensitivity == meta.Sensitive && !rolesFrom(ctx).Includes(role.Admin) {
			return errNotAuthorized
		}

		_, err = safe.StateGet[*meta.Namespace](ctx, st,
			resource.NewMetadata(meta.NamespaceName, meta.NamespaceType, access.ResourceNamespace, resource.VersionUndefined))
		if err != nil {
			if state.IsNotFoundError(err) {
				return status.Error(codes.PermissionDenied, fmt.Sprintf("namespace %q is not supported", access.ResourceNamespace))
			}

			return err
		}

		return nil
	}
}
