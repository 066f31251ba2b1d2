package execkubelet

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestTerminationMessage(t *testing.T) {
	const fallback, file = corev1.TerminationMessageFallbackToLogsOnError, corev1.TerminationMessageReadFile
	var logLines []string
	for i := 1; i <= 100; i++ {
		logLines = append(logLines, fmt.Sprintf("line %d", i))
	}
	log := []byte(strings.Join(logLines, "\n") + "\n")
	last80 := strings.Join(logLines[20:], "\n") + "\n"
	long := strings.Repeat("x", 5000)
	for _, c := range []struct {
		name      string
		file, log string
		code      int32
		policy    corev1.TerminationMessagePolicy
		want      string
	}{
		{"file wins", `{"ok":true}`, "noise\n", 1, fallback, `{"ok":true}`},
		{"success keeps an empty file", "", "noise\n", 0, fallback, ""},
		{"policy File never reads the log", "", "noise\n", 1, file, ""},
		{"failure falls back to the log", "", "boom\n", 2, fallback, "boom\n"},
		{"last 80 lines", "", string(log), 1, fallback, last80},
		{"a last line without newline counts", "", "a\nb\nc", 1, fallback, "a\nb\nc"},
		{"file capped to its last 4096 bytes", long + "END", "", 0, file, (long + "END")[5003-4096:]},
		{"log capped to its last 2048 bytes", "", long + "\n", 1, fallback, long[5000-2047:] + "\n"},
	} {
		got := terminationMessage([]byte(c.file), []byte(c.log), c.code, c.policy)
		if got != c.want {
			t.Errorf("%s: got %.60q (%d bytes), want %.60q (%d bytes)", c.name, got, len(got), c.want, len(c.want))
		}
	}
}

func TestLastLines(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int
		want string
	}{
		{"", 2, ""},
		{"a\n", 1, "a\n"},
		{"a\nb\nc\n", 2, "b\nc\n"},
		{"a\nb\nc", 2, "b\nc"},
		{"a\nb\n", 5, "a\nb\n"},
		{"\n\n\n", 2, "\n\n"},
	} {
		if got := string(lastLines([]byte(c.in), c.n)); got != c.want {
			t.Errorf("lastLines(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
	}
}

func TestExit(t *testing.T) {
	exited3 := syscall.WaitStatus(3 << 8)
	killed := syscall.WaitStatus(syscall.SIGKILL)
	if got := exitCode(exited3); got != 3 {
		t.Errorf("exit 3 gave %d", got)
	}
	if got := exitCode(killed); got != 137 {
		t.Errorf("SIGKILL gave %d", got)
	}
	for _, c := range []struct {
		code     int32
		deadline bool
		want     string
	}{{0, false, "Completed"}, {1, false, "Error"}, {137, false, "Error"}, {137, true, "DeadlineExceeded"}} {
		if got := exitReason(c.code, c.deadline); got != c.want {
			t.Errorf("exitReason(%d, %v) = %s, want %s", c.code, c.deadline, got, c.want)
		}
	}
}

func testPod() *corev1.Pod {
	scheduled := metav1.NewTime(time.Unix(1000, 0))
	return &corev1.Pod{
		Spec: corev1.PodSpec{NodeName: "n1", Containers: []corev1.Container{{Name: "probe", Image: "reg.test/probe:1"}}},
		Status: corev1.PodStatus{
			Phase:      corev1.PodPending,
			Conditions: []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: scheduled}},
		},
	}
}

func TestRunningThenTerminated(t *testing.T) {
	pod := testPod()
	start, end := time.Unix(2000, 0), time.Unix(2005, 0)
	pod.Status = running(pod, "exec://42", start)
	if pod.Status.Phase != corev1.PodRunning || !pod.Status.StartTime.Time.Equal(start) {
		t.Errorf("running: phase %s, start %v", pod.Status.Phase, pod.Status.StartTime)
	}
	for _, c := range []corev1.PodConditionType{corev1.PodScheduled, corev1.PodInitialized, corev1.ContainersReady, corev1.PodReady} {
		if got := condition(pod, c); got == nil || got.Status != corev1.ConditionTrue {
			t.Errorf("running: condition %s = %+v", c, got)
		}
	}
	cs := pod.Status.ContainerStatuses
	if len(cs) != 1 || cs[0].Name != "probe" || !cs[0].Ready || !*cs[0].Started || cs[0].State.Running == nil {
		t.Errorf("running: container statuses %+v", cs)
	}

	failed := terminated(pod, exit{containerID: "exec://42", code: 137, reason: reasonDeadlineExceeded, message: "tail", started: start, finished: end})
	if failed.Phase != corev1.PodFailed || failed.Reason != "DeadlineExceeded" || failed.Message == "" {
		t.Errorf("deadline: phase %s, reason %q, message %q", failed.Phase, failed.Reason, failed.Message)
	}
	term := failed.ContainerStatuses[0].State.Terminated
	if term == nil || term.ExitCode != 137 || term.Reason != "DeadlineExceeded" || term.Message != "tail" ||
		!term.StartedAt.Time.Equal(start) || !term.FinishedAt.Time.Equal(end) || term.ContainerID != "exec://42" {
		t.Errorf("deadline: terminated %+v", term)
	}

	pod.Status = terminated(pod, exit{code: 0, reason: reasonCompleted, message: `{"ok":true}`, started: start, finished: end})
	if pod.Status.Phase != corev1.PodSucceeded || pod.Status.Reason != "" {
		t.Errorf("completed: phase %s, reason %q", pod.Status.Phase, pod.Status.Reason)
	}
	for _, c := range []corev1.PodConditionType{corev1.ContainersReady, corev1.PodReady} {
		got := condition(pod, c)
		if got == nil || got.Status != corev1.ConditionFalse || got.Reason != "PodCompleted" || !got.LastTransitionTime.Time.Equal(end) {
			t.Errorf("completed: condition %s = %+v", c, got)
		}
	}
	if got := condition(pod, corev1.PodScheduled); !got.LastTransitionTime.Time.Equal(time.Unix(1000, 0)) {
		t.Errorf("PodScheduled changed: %+v", got)
	}
	if cs := pod.Status.ContainerStatuses[0]; cs.Ready || *cs.Started || cs.State.Running != nil || cs.State.Terminated.Message != `{"ok":true}` {
		t.Errorf("completed: container status %+v", cs)
	}
}

func TestStartErrorWithoutRunning(t *testing.T) {
	pod := testPod()
	now := time.Unix(3000, 0)
	s := terminated(pod, exit{code: 128, reason: reasonStartError, message: "no command", finished: now})
	term := s.ContainerStatuses[0].State.Terminated
	if s.Phase != corev1.PodFailed || term.Reason != "StartError" || !term.StartedAt.Time.Equal(now) || !s.StartTime.Time.Equal(now) {
		t.Errorf("start error: phase %s, start %v, terminated %+v", s.Phase, s.StartTime, term)
	}
}

func condition(pod *corev1.Pod, t corev1.PodConditionType) *corev1.PodCondition {
	for i := range pod.Status.Conditions {
		if pod.Status.Conditions[i].Type == t {
			return &pod.Status.Conditions[i]
		}
	}
	return nil
}
