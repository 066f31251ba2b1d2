package shipper

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// KubeStates snapshots nodes (cluster-wide) and the pods, deployments and events of some
// namespaces (none: all) from the Kubernetes API.
type KubeStates struct {
	Client     kubernetes.Interface
	Namespaces []string
}

// Rows are one row per object, stamped at; sorted by kind, namespace and name.
func (k *KubeStates) Rows(ctx context.Context, at time.Time) ([]StateRow, error) {
	var rows []StateRow
	nodes, err := k.Client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list nodes: %w", err)
	}
	for _, n := range nodes.Items {
		rows = append(rows, nodeRow(n))
	}
	namespaces := k.Namespaces
	if len(namespaces) == 0 {
		namespaces = []string{metav1.NamespaceAll}
	}
	for _, ns := range namespaces {
		pods, err := k.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, fmt.Errorf("list pods: %w", err)
		}
		for _, p := range pods.Items {
			rows = append(rows, podRow(p))
		}
		deployments, err := k.Client.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, fmt.Errorf("list deployments: %w", err)
		}
		for _, d := range deployments.Items {
			rows = append(rows, deploymentRow(d))
		}
		events, err := k.Client.CoreV1().Events(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, fmt.Errorf("list events: %w", err)
		}
		for _, e := range events.Items {
			rows = append(rows, eventRow(e))
		}
	}
	for i := range rows {
		rows[i].TS = at.UTC()
	}
	slices.SortFunc(rows, func(a, b StateRow) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	return rows, nil
}

func detail(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func nodeRow(n corev1.Node) StateRow {
	ready, status := conditionReady(n.Status.Conditions)
	roles := []string{}
	for label := range n.Labels {
		if role, ok := strings.CutPrefix(label, "node-role.kubernetes.io/"); ok {
			roles = append(roles, role)
		}
	}
	sort.Strings(roles)
	return StateRow{Kind: "Node", Name: n.Name, Status: status, Ready: ready, Detail: detail(map[string]any{
		"roles": roles, "kubelet_version": n.Status.NodeInfo.KubeletVersion, "os_image": n.Status.NodeInfo.OSImage,
		"unschedulable": n.Spec.Unschedulable,
	})}
}

func conditionReady(conditions []corev1.NodeCondition) (*bool, string) {
	for _, c := range conditions {
		if c.Type == corev1.NodeReady {
			ready := c.Status == corev1.ConditionTrue
			if ready {
				return &ready, "Ready"
			}
			return &ready, "NotReady"
		}
	}
	return nil, "Unknown"
}

func podRow(p corev1.Pod) StateRow {
	var restarts int32
	images := []string{}
	for _, c := range p.Status.ContainerStatuses {
		restarts += c.RestartCount
		images = append(images, c.Image)
	}
	var ready *bool
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			r := c.Status == corev1.ConditionTrue
			ready = &r
		}
	}
	return StateRow{Kind: "Pod", Namespace: p.Namespace, Name: p.Name, Status: string(p.Status.Phase), Ready: ready, Detail: detail(map[string]any{
		"node": p.Spec.NodeName, "restarts": restarts, "images": images, "pod_ip": p.Status.PodIP,
	})}
}

func deploymentRow(d appsv1.Deployment) StateRow {
	desired := int32(1)
	if d.Spec.Replicas != nil {
		desired = *d.Spec.Replicas
	}
	ready := d.Status.AvailableReplicas >= desired
	status := "Available"
	if !ready {
		status = "Unavailable"
	}
	return StateRow{Kind: "Deployment", Namespace: d.Namespace, Name: d.Name, Status: status, Ready: &ready, Detail: detail(map[string]any{
		"desired": desired, "ready": d.Status.ReadyReplicas, "available": d.Status.AvailableReplicas, "updated": d.Status.UpdatedReplicas,
	})}
}

func eventRow(e corev1.Event) StateRow {
	return StateRow{Kind: "Event", Namespace: e.Namespace, Name: e.Name, Status: e.Reason, Detail: detail(map[string]any{
		"type": e.Type, "message": e.Message, "count": e.Count,
		"object": e.InvolvedObject.Kind + "/" + e.InvolvedObject.Name, "last_seen": e.LastTimestamp.UTC(),
	})}
}
