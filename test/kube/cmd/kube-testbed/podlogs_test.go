//go:build integration

package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/kwok/pkg/apis/v1alpha1"
	"sigs.k8s.io/kwok/pkg/client/clientset/versioned"
)

// TestPodLogsThroughTheAPIServer reads a pod's log the way kubectl logs does: from the API
// server, which proxies to the node's kubelet API (kwok's server, verified against the test
// bed's CA) and the kubelet's CRI log reader, from the file a kwok Logs object names.
func TestPodLogsThroughTheAPIServer(t *testing.T) {
	tb := startTestbed(t, "--node", "logs-1", "--kubelet-port", freePort(t))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	node, err := tb.client.CoreV1().Nodes().Get(ctx, "logs-1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if node.Status.DaemonEndpoints.KubeletEndpoint.Port == 0 {
		t.Fatalf("node logs-1 advertises no kubelet port: %+v", node.Status)
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: "default"},
		Spec:       corev1.PodSpec{NodeName: "logs-1", Containers: []corev1.Container{{Name: "main", Image: "app:test"}}},
	}
	if _, err := tb.client.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	// The CRI log format a container runtime writes: "<RFC3339Nano> <stream> <F|P> <text>".
	file := filepath.Join(t.TempDir(), "main.log")
	base := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	cri := strings.Join([]string{
		base.Format(time.RFC3339Nano) + " stdout F first",
		base.Add(time.Second).Format(time.RFC3339Nano) + " stdout P sec",
		base.Add(time.Second).Format(time.RFC3339Nano) + " stdout F ond",
		base.Add(2*time.Second).Format(time.RFC3339Nano) + " stderr F third",
	}, "\n") + "\n"
	if err := os.WriteFile(file, []byte(cri), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", tb.kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	kwok := versioned.NewForConfigOrDie(cfg)
	logs := &v1alpha1.Logs{
		ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: "default"},
		Spec:       v1alpha1.LogsSpec{Logs: []v1alpha1.Log{{Containers: []string{"main"}, LogsFile: &file}}},
	}
	if _, err := kwok.KwokV1alpha1().Logs("default").Create(ctx, logs, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	since := metav1.NewTime(base.Add(time.Second))
	var got string
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		body, err := tb.client.CoreV1().Pods("default").GetLogs("app", &corev1.PodLogOptions{Container: "main", Timestamps: true, SinceTime: &since}).DoRaw(ctx)
		got = string(body)
		if err != nil {
			got = err.Error()
		}
		return err == nil, nil
	})
	if err != nil {
		t.Fatalf("pod log: %v (last: %s)", err, got)
	}
	// The kubelet stamps lines with nine fractional digits, partial lines joined.
	const fixed = "2006-01-02T15:04:05.000000000Z07:00"
	want := base.Add(time.Second).Format(fixed) + " second\n" + base.Add(2*time.Second).Format(fixed) + " third\n"
	if got != want {
		t.Fatalf("pod log from %s:\ngot  %q\nwant %q", since, got, want)
	}
	tail := int64(1)
	body, err := tb.client.CoreV1().Pods("default").GetLogs("app", &corev1.PodLogOptions{Container: "main", TailLines: &tail}).DoRaw(ctx)
	if err != nil || string(body) != "third\n" {
		t.Fatalf("tail 1: %q, %v", body, err)
	}
}
