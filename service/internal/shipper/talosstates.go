package shipper

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cosi-project/runtime/pkg/safe"
	"github.com/siderolabs/talos/pkg/machinery/api/machine"
	"github.com/siderolabs/talos/pkg/machinery/client"
	talosruntime "github.com/siderolabs/talos/pkg/machinery/resources/runtime"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// TalosNode is a node whose Talos API the shipper asks.
type TalosNode struct {
	Address      string
	ControlPlane bool
}

// TalosStates snapshots, through each node's Talos API (apid, with an os:reader
// talosconfig), its Talos version and services and, from the control planes, etcd's members.
type TalosStates struct {
	ConfigFile string
	Nodes      func(ctx context.Context) ([]TalosNode, error)
	// Unanswered hears of a node left out of a snapshot (it did not answer).
	Unanswered func(error)
}

// Rows are the snapshot's rows. A node that does not answer is left out of it and reported,
// rather than holding the lake back: the snapshot is of what answered.
func (t *TalosStates) Rows(ctx context.Context, at time.Time) ([]StateRow, error) {
	nodes, err := t.Nodes(ctx)
	if err != nil {
		return nil, err
	}
	var rows []StateRow
	members := map[string]StateRow{}
	for _, node := range nodes {
		got, etcd, err := t.nodeRows(ctx, node)
		if err != nil {
			if t.Unanswered != nil {
				t.Unanswered(fmt.Errorf("talos node %s: %w", node.Address, err))
			}
			continue
		}
		rows = append(rows, got...)
		for _, m := range etcd {
			members[m.Name] = m
		}
	}
	for _, m := range members {
		rows = append(rows, m)
	}
	for i := range rows {
		rows[i].TS = at.UTC()
	}
	slices.SortFunc(rows, func(a, b StateRow) int { return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Name, b.Name)) })
	return rows, nil
}

func (t *TalosStates) nodeRows(ctx context.Context, node TalosNode) ([]StateRow, []StateRow, error) {
	c, err := client.New(ctx, client.WithConfigFromFile(t.ConfigFile), client.WithEndpoints(node.Address))
	if err != nil {
		return nil, nil, err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	version, err := c.Version(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("version: %w", err)
	}
	services, err := c.ServiceList(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("services: %w", err)
	}
	machineStatus, err := safe.StateGet[*talosruntime.MachineStatus](ctx, c.COSI, talosruntime.NewMachineStatus().Metadata())
	if err != nil {
		return nil, nil, fmt.Errorf("machine status: %w", err)
	}
	role := "worker"
	if node.ControlPlane {
		role = "controlplane"
	}
	var rows []StateRow
	for _, m := range version.GetMessages() {
		status := machineStatus.TypedSpec().Status
		ready := status.Ready
		unmet := []string{}
		for _, c := range status.UnmetConditions {
			unmet = append(unmet, c.Name+": "+c.Reason)
		}
		rows = append(rows, StateRow{Kind: "TalosMachine", Name: node.Address, Status: machineStatus.TypedSpec().Stage.String(), Ready: &ready,
			Detail: detail(map[string]any{"address": node.Address, "role": role, "version": m.GetVersion().GetTag(), "arch": m.GetVersion().GetArch(), "unmet_conditions": unmet})})
	}
	for _, m := range services.GetMessages() {
		for _, s := range m.GetServices() {
			rows = append(rows, serviceRow(node.Address, s))
		}
	}
	if !node.ControlPlane {
		return rows, nil, nil
	}
	list, err := c.EtcdMemberList(ctx, &machine.EtcdMemberListRequest{})
	if err != nil {
		return nil, nil, fmt.Errorf("etcd members: %w", err)
	}
	var members []StateRow
	for _, m := range list.GetMessages() {
		for _, member := range m.GetMembers() {
			status := "voter"
			if member.GetIsLearner() {
				status = "learner"
			}
			members = append(members, StateRow{Kind: "EtcdMember", Name: member.GetHostname(), Status: status,
				Detail: detail(map[string]any{"id": fmt.Sprintf("%x", member.GetId()), "peer_urls": member.GetPeerUrls(), "client_urls": member.GetClientUrls()})})
		}
	}
	return rows, members, nil
}

func serviceRow(node string, s *machine.ServiceInfo) StateRow {
	health := s.GetHealth()
	var ready *bool
	if health != nil && !health.GetUnknown() {
		healthy := health.GetHealthy()
		ready = &healthy
	}
	return StateRow{Kind: "TalosService", Name: node + "/" + s.GetId(), Status: s.GetState(), Ready: ready,
		Detail: detail(map[string]any{"node": node, "service": s.GetId(), "state": s.GetState(), "health": health.GetLastMessage()})}
}

// KubeTalosNodes lists the nodes to ask from the Kubernetes API: each node's InternalIP, and
// whether it carries the control-plane role.
func KubeTalosNodes(kube kubernetes.Interface) func(context.Context) ([]TalosNode, error) {
	return func(ctx context.Context) ([]TalosNode, error) {
		list, err := kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, fmt.Errorf("list nodes: %w", err)
		}
		var nodes []TalosNode
		for _, n := range list.Items {
			for _, a := range n.Status.Addresses {
				if a.Type == corev1.NodeInternalIP {
					_, cp := n.Labels["node-role.kubernetes.io/control-plane"]
					nodes = append(nodes, TalosNode{Address: a.Address, ControlPlane: cp})
					break
				}
			}
		}
		return nodes, nil
	}
}

// ParseTalosNodes reads SHIPPER_TALOS_NODES: `address=controlplane|worker,…`.
func ParseTalosNodes(text string) ([]TalosNode, error) {
	var nodes []TalosNode
	for _, item := range splitList(text) {
		address, role, _ := strings.Cut(item, "=")
		if role != "controlplane" && role != "worker" {
			return nil, fmt.Errorf("SHIPPER_TALOS_NODES: %q: expected address=controlplane or address=worker", item)
		}
		nodes = append(nodes, TalosNode{Address: address, ControlPlane: role == "controlplane"})
	}
	return nodes, nil
}

// AllStates is several state sources' rows together, in kind, namespace and name order.
type AllStates []StateSource

func (all AllStates) Rows(ctx context.Context, at time.Time) ([]StateRow, error) {
	var rows []StateRow
	var errs []error
	for _, source := range all {
		got, err := source.Rows(ctx, at)
		rows = append(rows, got...)
		errs = append(errs, err)
	}
	slices.SortFunc(rows, func(a, b StateRow) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	return rows, errors.Join(errs...)
}
