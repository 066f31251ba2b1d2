//go:build integration

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
)

const (
	probeLabel = "hybridctl.dev/vpn-probe"
	execNode   = "talos-10-40-0-6" // has a network namespace; talos-10-40-0-5 has none
)

// probeSource is the container the exec kubelet runs: it logs 100 lines, reports
// what it sees (interfaces, user, PID, environment) on stderr and, unless told
// not to, in its termination message file, then exits with the code it is given.
const probeSource = `package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"time"
)

func main() {
	code := flag.Int("exit", 0, "exit code")
	message := flag.Bool("message", true, "write /dev/termination-log")
	sleep := flag.Duration("sleep", 0, "sleep before reporting")
	flag.Parse()
	for i := 1; i <= 100; i++ {
		fmt.Printf("log line %d\n", i)
	}
	time.Sleep(*sleep)
	var names []string
	ifaces, _ := net.Interfaces()
	for _, i := range ifaces {
		names = append(names, i.Name)
	}
	tmpErr := os.WriteFile("/tmp/probe", []byte("x"), 0o644)
	data, _ := json.Marshal(map[string]any{
		"interfaces": names, "uid": os.Getuid(), "gid": os.Getgid(), "pid": os.Getpid(),
		"site": os.Getenv("SITE"), "tmpWritable": tmpErr == nil,
	})
	fmt.Fprintf(os.Stderr, "result: %s\n", data)
	if *message {
		if err := os.WriteFile("/dev/termination-log", data, 0); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(99)
		}
	}
	os.Exit(*code)
}
`

type probeResult struct {
	Interfaces  []string
	UID, GID    int
	PID         int
	Site        string
	TmpWritable bool
}

// TestExecKubeletRunsLabelledPods runs labelled Jobs and pods for real in a
// network namespace standing for the node's, and checks what the API shows.
func TestExecKubeletRunsLabelledPods(t *testing.T) {
	netns := requireNetns(t)
	rootfs := probeRootfs(t)
	tb := startTestbed(t, "--exec-label", probeLabel+"=true", "--exec-netns", execNode+"="+netns, "--exec-rootfs", rootfs)
	client := tb.client
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	pods := client.CoreV1().Pods("default")

	// A Job that succeeds: the message is the file's, written from inside the namespace.
	create(ctx, t, client, probeJob("probe-ok", "--exit=0"))
	waitForJob(ctx, t, client, "probe-ok", batchv1.JobComplete)
	pod := jobPod(ctx, t, client, "probe-ok")
	term := terminatedState(t, pod)
	if pod.Status.Phase != corev1.PodSucceeded || term.ExitCode != 0 || term.Reason != "Completed" {
		t.Errorf("probe-ok: phase %s, terminated %+v", pod.Status.Phase, term)
	}
	var got probeResult
	if err := json.Unmarshal([]byte(term.Message), &got); err != nil {
		t.Fatalf("probe-ok message %q: %v", term.Message, err)
	}
	slices.Sort(got.Interfaces)
	want := probeResult{Interfaces: []string{"lo", "probe0", "probe1"}, UID: 65534, GID: 65534, PID: 1, Site: "a", TmpWritable: true}
	if !slices.Equal(got.Interfaces, want.Interfaces) || got.UID != want.UID || got.GID != want.GID || got.PID != want.PID || got.Site != want.Site || !got.TmpWritable {
		t.Errorf("probe-ok saw %+v, want %+v", got, want)
	}
	podDir := filepath.Join(tb.data, "pods", "default_"+pod.Name+"_"+string(pod.UID))
	if log, err := os.ReadFile(filepath.Join(podDir, "probe.log")); err != nil || !strings.Contains(string(log), "log line 100\nresult: {") {
		t.Errorf("probe-ok log: %v\n%s", err, log)
	}
	if _, err := os.Stat(filepath.Join(podDir, "rootfs")); !os.IsNotExist(err) {
		t.Errorf("probe-ok's root file system copy is still there: %v", err)
	}
	checkProcessGone(t, pod)

	// A Job that fails without a message: the message is the log's tail.
	create(ctx, t, client, probeJob("probe-fail", "--exit=3", "--message=false"))
	waitForJob(ctx, t, client, "probe-fail", batchv1.JobFailed)
	pod = jobPod(ctx, t, client, "probe-fail")
	term = terminatedState(t, pod)
	if pod.Status.Phase != corev1.PodFailed || term.ExitCode != 3 || term.Reason != "Error" {
		t.Errorf("probe-fail: phase %s, terminated %+v", pod.Status.Phase, term)
	}
	if !strings.HasPrefix(term.Message, "log line 22\n") || !strings.Contains(term.Message, "log line 100\nresult: {") {
		t.Errorf("probe-fail message is not the log's last 80 lines:\n%s", term.Message)
	}

	// A pod past its activeDeadlineSeconds is killed.
	deadline := probePod("probe-deadline", "--sleep=1h")
	deadline.Spec.ActiveDeadlineSeconds = ptr.To[int64](2)
	create(ctx, t, client, deadline)
	pod = waitForPod(ctx, t, client, "probe-deadline", func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodFailed })
	term = terminatedState(t, pod)
	if pod.Status.Reason != "DeadlineExceeded" || term.Reason != "DeadlineExceeded" || term.ExitCode != 137 || !strings.Contains(term.Message, "log line 100") {
		t.Errorf("probe-deadline: pod reason %q, terminated %+v", pod.Status.Reason, term)
	}
	checkProcessGone(t, pod)

	// A pod being deleted is killed and goes away at once, not after its 30 s grace period.
	create(ctx, t, client, probePod("probe-delete", "--sleep=1h"))
	pod = waitForPod(ctx, t, client, "probe-delete", func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodRunning })
	pid := containerPID(t, pod)
	if !processRunning(pid) {
		t.Errorf("probe-delete: process %d is not running", pid)
	}
	if err := pods.Delete(ctx, "probe-delete", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	deleted := time.Now()
	waitFor(ctx, t, "probe-delete to go", func(ctx context.Context) (bool, error) {
		_, err := pods.Get(ctx, "probe-delete", metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
	if took := time.Since(deleted); took > 10*time.Second {
		t.Errorf("probe-delete took %s to go", took)
	}
	if processRunning(pid) {
		t.Errorf("probe-delete: process %d still runs", pid)
	}

	// A pod bound to a node without a network namespace fails, saying why.
	nowhere := probePod("probe-no-netns")
	nowhere.Spec.NodeName = "talos-10-40-0-5"
	create(ctx, t, client, nowhere)
	pod = waitForPod(ctx, t, client, "probe-no-netns", func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodFailed })
	if term = terminatedState(t, pod); term.Reason != "StartError" || !strings.Contains(term.Message, "node talos-10-40-0-5 has no network namespace") {
		t.Errorf("probe-no-netns: terminated %+v", term)
	}

	// kwok still completes Jobs without the label.
	plain := probeJob("plain", "--exit=3")
	delete(plain.Spec.Template.Labels, probeLabel)
	create(ctx, t, client, plain)
	waitForJob(ctx, t, client, "plain", batchv1.JobComplete)
	if id := jobPod(ctx, t, client, "plain").Status.ContainerStatuses[0].ContainerID; id != "" {
		t.Errorf("plain: container ID %q, so not kwok's", id)
	}

	// SIGTERM kills what still runs.
	create(ctx, t, client, probePod("probe-sigterm", "--sleep=1h"))
	pod = waitForPod(ctx, t, client, "probe-sigterm", func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodRunning })
	pid = containerPID(t, pod)
	tb.stop(t)
	if processRunning(pid) {
		t.Errorf("probe-sigterm: process %d survived SIGTERM", pid)
	}
	if copies, _ := filepath.Glob(filepath.Join(tb.data, "pods", "*", "rootfs")); len(copies) > 0 {
		t.Errorf("root file system copies left: %v", copies)
	}
	checkExecKubeletAudit(t, tb.audit)
}

// TestExecPodsDieWithTheTestbed kills the test bed outright: the parent-death
// signal must take a container running as another user along.
func TestExecPodsDieWithTheTestbed(t *testing.T) {
	netns := requireNetns(t)
	rootfs := probeRootfs(t)
	tb := startTestbed(t, "--exec-label", probeLabel+"=true", "--exec-netns", execNode+"="+netns, "--exec-rootfs", rootfs)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	create(ctx, t, tb.client, probePod("probe-orphan", "--sleep=1h"))
	pod := waitForPod(ctx, t, tb.client, "probe-orphan", func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodRunning })
	pid := containerPID(t, pod)
	t.Cleanup(func() {
		if processRunning(pid) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	if err := tb.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = tb.cmd.Wait()
	ctx, cancel = context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	waitFor(ctx, t, "the orphan to die", func(context.Context) (bool, error) { return !processRunning(pid), nil })
}

// requireNetns skips the test unless it can make a network namespace; the one
// it makes has a veth pair probe0/probe1, and goes when the test ends.
func requireNetns(t *testing.T) string {
	if os.Geteuid() != 0 {
		t.Skip("needs root for network namespaces")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs ip (iproute2)")
	}
	name := fmt.Sprintf("kube-testbed-%d", os.Getpid())
	_ = exec.Command("ip", "netns", "del", name).Run() // left by a killed run
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Skipf("ip netns add: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil {
			t.Errorf("ip netns del: %v: %s", err, out)
		}
	})
	for _, args := range [][]string{
		{"link", "add", "probe0", "type", "veth", "peer", "name", "probe1"},
		{"address", "add", "10.99.0.1/24", "dev", "probe0"},
		{"link", "set", "probe0", "up"},
		{"link", "set", "lo", "up"},
	} {
		if out, err := exec.Command("ip", append([]string{"-n", name}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v: %s", args, err, out)
		}
	}
	return name
}

// probeRootfs is an image's root file system holding only the static binary /probe.
func probeRootfs(t *testing.T) string {
	src, rootfs := t.TempDir(), filepath.Join(t.TempDir(), "rootfs")
	for name, data := range map[string]string{"main.go": probeSource, "go.mod": "module probe\n\ngo 1.26\n"} {
		if err := os.WriteFile(filepath.Join(src, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(rootfs, 0o755); err != nil {
		t.Fatal(err)
	}
	build := exec.Command("go", "build", "-o", filepath.Join(rootfs, "probe"), ".")
	build.Dir = src
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-buildvcs=false")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the probe: %v\n%s", err, out)
	}
	return rootfs
}

func probePodSpec(args ...string) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{probeLabel: "true"}},
		Spec: corev1.PodSpec{
			RestartPolicy: corev1.RestartPolicyNever,
			SecurityContext: &corev1.PodSecurityContext{
				RunAsUser: ptr.To[int64](65534), RunAsGroup: ptr.To[int64](65534), RunAsNonRoot: ptr.To(true),
			},
			Containers: []corev1.Container{{
				Name:                     "probe",
				Image:                    "registry.example.test/hybridctl/service:1",
				Command:                  []string{"/probe"},
				Args:                     args,
				Env:                      []corev1.EnvVar{{Name: "SITE", Value: "a"}},
				TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
			}},
		},
	}
}

func probeJob(name string, args ...string) *batchv1.Job {
	return &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       batchv1.JobSpec{BackoffLimit: ptr.To[int32](0), Template: probePodSpec(args...)},
	}
}

func probePod(name string, args ...string) *corev1.Pod {
	tmpl := probePodSpec(args...)
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: tmpl.Labels}, Spec: tmpl.Spec}
}

func create(ctx context.Context, t *testing.T, client kubernetes.Interface, obj any) {
	t.Helper()
	var err error
	switch o := obj.(type) {
	case *batchv1.Job:
		_, err = client.BatchV1().Jobs("default").Create(ctx, o, metav1.CreateOptions{})
	case *corev1.Pod:
		_, err = client.CoreV1().Pods("default").Create(ctx, o, metav1.CreateOptions{})
	}
	if err != nil {
		t.Fatal(err)
	}
}

func waitFor(ctx context.Context, t *testing.T, what string, done wait.ConditionWithContextFunc) {
	t.Helper()
	if err := wait.PollUntilContextCancel(ctx, 200*time.Millisecond, true, done); err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}

func waitForJob(ctx context.Context, t *testing.T, client kubernetes.Interface, name string, want batchv1.JobConditionType) {
	t.Helper()
	waitFor(ctx, t, "Job "+name+" "+string(want), func(ctx context.Context) (bool, error) {
		job, err := client.BatchV1().Jobs("default").Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		for _, c := range job.Status.Conditions {
			if c.Status == corev1.ConditionTrue && (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) {
				if c.Type != want {
					return false, fmt.Errorf("job %s is %s: %s", name, c.Type, c.Message)
				}
				return true, nil
			}
		}
		return false, nil
	})
}

func waitForPod(ctx context.Context, t *testing.T, client kubernetes.Interface, name string, done func(*corev1.Pod) bool) *corev1.Pod {
	t.Helper()
	var pod *corev1.Pod
	waitFor(ctx, t, "pod "+name, func(ctx context.Context) (bool, error) {
		var err error
		pod, err = client.CoreV1().Pods("default").Get(ctx, name, metav1.GetOptions{})
		return err == nil && done(pod), err
	})
	return pod
}

func jobPod(ctx context.Context, t *testing.T, client kubernetes.Interface, job string) *corev1.Pod {
	t.Helper()
	pods, err := client.CoreV1().Pods("default").List(ctx, metav1.ListOptions{LabelSelector: batchv1.JobNameLabel + "=" + job})
	if err != nil {
		t.Fatal(err)
	}
	if len(pods.Items) != 1 {
		t.Fatalf("job %s has %d pods, want 1", job, len(pods.Items))
	}
	return &pods.Items[0]
}

func terminatedState(t *testing.T, pod *corev1.Pod) *corev1.ContainerStateTerminated {
	t.Helper()
	if len(pod.Status.ContainerStatuses) != 1 || pod.Status.ContainerStatuses[0].State.Terminated == nil {
		t.Fatalf("pod %s: container statuses %+v", pod.Name, pod.Status.ContainerStatuses)
	}
	return pod.Status.ContainerStatuses[0].State.Terminated
}

// containerPID is the host PID in the container ID exec://PID.
func containerPID(t *testing.T, pod *corev1.Pod) int {
	t.Helper()
	id := ""
	if len(pod.Status.ContainerStatuses) == 1 {
		id = pod.Status.ContainerStatuses[0].ContainerID
	}
	pid, err := strconv.Atoi(strings.TrimPrefix(id, "exec://"))
	if err != nil {
		t.Fatalf("pod %s: container ID %q", pod.Name, id)
	}
	return pid
}

func checkProcessGone(t *testing.T, pod *corev1.Pod) {
	t.Helper()
	if pid := containerPID(t, pod); processRunning(pid) {
		t.Errorf("pod %s: process %d still runs", pod.Name, pid)
	}
}

// processRunning says whether pid is a live process (not a zombie left to an init that does not reap).
func processRunning(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	return len(fields) > 0 && fields[0] != "Z" && fields[0] != "X"
}

// checkExecKubeletAudit checks the exec kubelet used its own identity to report pod status and delete pods.
func checkExecKubeletAudit(t *testing.T, path string) {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var event struct {
			Verb      string
			User      struct{ Username string }
			ObjectRef struct{ Resource, Subresource string }
		}
		if err := json.Unmarshal([]byte(line), &event); err != nil {
			t.Fatalf("audit line %q: %v", line, err)
		}
		if event.User.Username == "exec-kubelet" {
			seen[event.Verb+" "+event.ObjectRef.Resource+"/"+event.ObjectRef.Subresource] = true
		}
	}
	for _, want := range []string{"update pods/status", "delete pods/", "watch pods/"} {
		if !seen[want] {
			t.Errorf("audit log: no %q by exec-kubelet (saw %v)", want, seen)
		}
	}
}
