//go:build integration

package main

import (
	"bufio"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

const listen = "127.0.20.11"

// TestDeploymentBecomesReady starts the binary with two fake nodes, rolls out a
// two-replica Deployment, and checks that real scheduling leaves an unsatisfiable pod Pending.
func TestDeploymentBecomesReady(t *testing.T) {
	tb := startTestbed(t)
	client := tb.client
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := client.AppsV1().Deployments("default").Create(ctx, deployment("web", 2), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitForReadyPods(ctx, t, client, "app=web", 2)
	t.Logf("2 pods ready after %s", time.Since(tb.started).Round(time.Millisecond))

	if _, err := client.CoreV1().Pods("default").Create(ctx, unschedulablePod(), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitForUnschedulable(ctx, t, client, "nowhere")

	tb.stop(t)
	checkAuditLog(t, tb.audit)
}

// runningTestbed is a kube-testbed with nodes talos-10-40-0-5 (control plane) and talos-10-40-0-6.
type runningTestbed struct {
	cmd                     *exec.Cmd
	data, kubeconfig, audit string
	client                  kubernetes.Interface
	started                 time.Time
}

func startTestbed(t *testing.T, extraArgs ...string) *runningTestbed {
	dir := t.TempDir()
	tb := &runningTestbed{data: filepath.Join(dir, "data"), kubeconfig: filepath.Join(dir, "admin.kubeconfig"), audit: filepath.Join(dir, "audit.log")}
	args := append([]string{"--dir", tb.data, "--listen", listen,
		"--port", freePort(t), "--cluster", "site-a", "--san", "lb.example.test",
		"--node", "talos-10-40-0-5:controlplane", "--node", "talos-10-40-0-6",
		"--kubeconfig-out", tb.kubeconfig, "--audit-log", tb.audit}, extraArgs...)
	tb.cmd = exec.Command(testbedBinary(t), args...)
	tb.cmd.Stderr = os.Stderr
	stdout, err := tb.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	tb.started = time.Now()
	if err := tb.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tb.cmd.Process.Kill() })
	waitForReady(t, stdout)
	t.Logf("ready after %s", time.Since(tb.started).Round(time.Millisecond))
	tb.client = clientFor(t, tb.kubeconfig)
	return tb
}

// stop stops the test bed with SIGTERM, which it must obey.
func (tb *runningTestbed) stop(t *testing.T) {
	if err := tb.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := tb.cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}
	t.Logf("stopped after %s", time.Since(tb.started).Round(time.Millisecond))
}

// built is the binary the tests build once when KUBE_TESTBED_BIN is unset.
var built struct {
	once     sync.Once
	dir, bin string
	err      error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		_ = os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

func testbedBinary(t *testing.T) string {
	if bin := os.Getenv("KUBE_TESTBED_BIN"); bin != "" {
		if !filepath.IsAbs(bin) {
			// Relative to the module, where go test runs, not to this package's directory.
			bin = filepath.Join("..", "..", bin)
		}
		return bin
	}
	built.once.Do(func() {
		if built.dir, built.err = os.MkdirTemp("", "kube-testbed-"); built.err != nil {
			return
		}
		built.bin = filepath.Join(built.dir, "kube-testbed")
		build := exec.Command("go", "build", "-o", built.bin, ".")
		build.Stderr = os.Stderr
		built.err = build.Run()
	})
	if built.err != nil {
		t.Fatalf("go build: %v", built.err)
	}
	return built.bin
}

func freePort(t *testing.T) string {
	l, err := net.Listen("tcp", listen+":0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port
}

func waitForReady(t *testing.T, stdout interface{ Read([]byte) (int, error) }) {
	lines := make(chan string)
	go func() {
		scanner := bufio.NewScanner(stdout)
		for scanner.Scan() {
			lines <- scanner.Text()
		}
		close(lines)
	}()
	select {
	case line, ok := <-lines:
		if !ok || line != "ready" {
			t.Fatalf("first stdout line %q (open %v), want ready", line, ok)
		}
	case <-time.After(3 * time.Minute):
		t.Fatal("no ready line within 3 minutes")
	}
}

func clientFor(t *testing.T, kubeconfig string) kubernetes.Interface {
	info, err := os.Stat(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("kubeconfig mode %v, want 0600", info.Mode().Perm())
	}
	raw, err := clientcmd.LoadFromFile(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	if raw.CurrentContext != "admin@site-a" || raw.Contexts["admin@site-a"].Cluster != "site-a" {
		t.Errorf("kubeconfig names: current context %q, contexts %v", raw.CurrentContext, raw.Contexts)
	}
	cfg, err := clientcmd.NewDefaultClientConfig(*raw, nil).ClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	return kubernetes.NewForConfigOrDie(cfg)
}

func deployment(name string, replicas int32) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name:           "web",
					Image:          "registry.example.test/web:1",
					ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromInt32(8080)}}},
				}}},
			},
		},
	}
}

func unschedulablePod() *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "nowhere"},
		Spec: corev1.PodSpec{
			NodeSelector: map[string]string{"example.test/missing": "true"},
			Containers:   []corev1.Container{{Name: "c", Image: "registry.example.test/c:1"}},
		},
	}
}

func waitForReadyPods(ctx context.Context, t *testing.T, client kubernetes.Interface, selector string, want int) {
	err := wait.PollUntilContextCancel(ctx, 250*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		pods, err := client.CoreV1().Pods("default").List(ctx, metav1.ListOptions{LabelSelector: selector})
		if err != nil {
			return false, err
		}
		ready := 0
		for _, p := range pods.Items {
			if p.Status.Phase == corev1.PodRunning && podCondition(&p, corev1.PodReady) == corev1.ConditionTrue {
				if p.Spec.NodeName != "talos-10-40-0-6" {
					t.Errorf("pod %s on %s: the control plane's taint should keep it off", p.Name, p.Spec.NodeName)
				}
				ready++
			}
		}
		return ready == want, nil
	})
	if err != nil {
		t.Fatalf("waiting for %d ready pods: %v", want, err)
	}
}

func waitForUnschedulable(ctx context.Context, t *testing.T, client kubernetes.Interface, name string) {
	err := wait.PollUntilContextCancel(ctx, 250*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		p, err := client.CoreV1().Pods("default").Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		if p.Spec.NodeName != "" {
			t.Fatalf("pod %s was scheduled to %s", name, p.Spec.NodeName)
		}
		return podCondition(p, corev1.PodScheduled) == corev1.ConditionFalse, nil
	})
	if err != nil {
		t.Fatalf("waiting for %s to be unschedulable: %v", name, err)
	}
}

func podCondition(p *corev1.Pod, kind corev1.PodConditionType) corev1.ConditionStatus {
	for _, c := range p.Status.Conditions {
		if c.Type == kind {
			return c.Status
		}
	}
	return corev1.ConditionUnknown
}

func checkAuditLog(t *testing.T, path string) {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"verb":"create","user":{"username":"admin"`) {
		t.Errorf("audit log has no create by admin")
	}
}
