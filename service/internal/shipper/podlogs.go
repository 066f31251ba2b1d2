package shipper

import (
	"bufio"
	"context"
	"fmt"
	"io"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// PodLogs reads the service's lines from the Kubernetes API's pod log endpoint
// (GET /api/v1/namespaces/{ns}/pods/{name}/log?timestamps=true&sinceTime=…), not by tailing
// the nodes' log files: that would need a privileged DaemonSet with a hostPath mount on
// every node of both sites, while the endpoint needs only RBAC get on pods/log in one
// namespace and one shipper per site. The kubelet's timestamp of each line decides its
// window, so re-reading a window gives the same lines. Containers that restarted are read
// twice: the current instance and the previous one (previous=true), whose lines the
// current instance's log lacks. Pods deleted before their window is shipped are lost.
type PodLogs struct {
	Client    kubernetes.Interface
	Namespace string
	Selector  string
}

// Rows are the lines every container of the selected pods wrote in w.
func (p *PodLogs) Rows(ctx context.Context, w Window) ([]LogRow, error) {
	pods, err := p.Client.CoreV1().Pods(p.Namespace).List(ctx, metav1.ListOptions{LabelSelector: p.Selector})
	if err != nil {
		return nil, fmt.Errorf("list pods in %s: %w", p.Namespace, err)
	}
	var rows []LogRow
	for _, pod := range pods.Items {
		for _, status := range pod.Status.ContainerStatuses {
			origin := LogOrigin{Source: "service", Node: pod.Spec.NodeName, Namespace: pod.Namespace, Pod: pod.Name, Container: status.Name}
			if status.RestartCount > 0 {
				// The previous instance may be gone (its log rotated away): its lines are then lost, not the window.
				if previous, err := p.container(ctx, pod.Name, status.Name, true, origin, w); err == nil {
					rows = append(rows, previous...)
				}
			}
			current, err := p.container(ctx, pod.Name, status.Name, false, origin, w)
			if err != nil {
				return nil, err
			}
			rows = append(rows, current...)
		}
	}
	return rows, nil
}

func (p *PodLogs) container(ctx context.Context, pod, container string, previous bool, origin LogOrigin, w Window) ([]LogRow, error) {
	since := metav1.NewTime(w.Start)
	stream, err := p.Client.CoreV1().Pods(p.Namespace).GetLogs(pod, &corev1.PodLogOptions{
		Container: container, Timestamps: true, SinceTime: &since, Previous: previous,
	}).Stream(ctx)
	if err != nil {
		return nil, fmt.Errorf("logs of %s/%s/%s (previous %t): %w", p.Namespace, pod, container, previous, err)
	}
	defer stream.Close()
	return TimestampedRows(stream, origin, w)
}

// TimestampedRows reads the pod log endpoint's body and keeps the lines stamped in w,
// stopping at the first line stamped after it.
func TimestampedRows(body io.Reader, origin LogOrigin, w Window) ([]LogRow, error) {
	var rows []LogRow
	scanner := bufio.NewScanner(body)
	scanner.Buffer(make([]byte, 64<<10), 4<<20)
	for scanner.Scan() {
		ts, line, ok := SplitTimestamped(scanner.Text())
		if ok && !ts.Before(w.End) {
			break // the kubelet writes a container's lines in time order: the rest is later
		}
		if !ok || !w.Contains(ts) {
			continue
		}
		rows = append(rows, ServiceLogRow(origin, ts, line))
	}
	return rows, scanner.Err()
}
