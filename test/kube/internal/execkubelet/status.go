package execkubelet

import (
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// The kubelet's limits on a termination message (k8s.io/kubernetes/pkg/kubelet/container):
// the end of the message file, or of the log's last lines.
const (
	maxMessageBytes    = 4 * 1024
	maxLogMessageBytes = 2 * 1024
	maxLogMessageLines = 80
)

// Container and pod reasons the exec kubelet reports.
const (
	reasonCompleted        = "Completed"
	reasonError            = "Error"
	reasonDeadlineExceeded = "DeadlineExceeded"
	reasonStartError       = "StartError"
	reasonUnknown          = "ContainerStatusUnknown"
	reasonPodCompleted     = "PodCompleted"

	deadlineMessage = "Pod was active on the node longer than the specified deadline"
)

// exit is how a pod's container ended.
type exit struct {
	containerID       string
	code              int32
	reason, message   string
	started, finished time.Time
}

// exitCode is a process's exit status the way container runtimes report it: 128+N if signal N killed it.
func exitCode(ws syscall.WaitStatus) int32 {
	if ws.Signaled() {
		return 128 + int32(ws.Signal())
	}
	return int32(ws.ExitStatus())
}

// exitReason is the container's terminated reason.
func exitReason(code int32, deadlineExceeded bool) string {
	switch {
	case deadlineExceeded:
		return reasonDeadlineExceeded
	case code == 0:
		return reasonCompleted
	}
	return reasonError
}

// terminationMessage follows the kubelet: the last 4096 bytes of the message file; if
// those are empty, the container failed and its policy is FallbackToLogsOnError, the
// log's last 80 lines, of which at most the last 2048 bytes.
func terminationMessage(file, log []byte, code int32, policy corev1.TerminationMessagePolicy) string {
	if len(file) > 0 || code == 0 || policy != corev1.TerminationMessageFallbackToLogsOnError {
		return string(tail(file, maxMessageBytes))
	}
	return string(tail(lastLines(log, maxLogMessageLines), maxLogMessageBytes))
}

func tail(b []byte, n int) []byte {
	return b[max(0, len(b)-n):]
}

// lastLines is the end of b from the start of its nth line from the end.
func lastLines(b []byte, n int) []byte {
	end := len(b)
	if end > 0 && b[end-1] == '\n' {
		end-- // the last line's own newline
	}
	for i := end - 1; i >= 0; i-- {
		if b[i] == '\n' {
			if n--; n == 0 {
				return b[i+1:]
			}
		}
	}
	return b
}

// running is the status of pod once its container has started.
func running(pod *corev1.Pod, containerID string, started time.Time) corev1.PodStatus {
	s := *pod.Status.DeepCopy()
	at := metav1.NewTime(started)
	s.Phase = corev1.PodRunning
	if s.StartTime == nil {
		s.StartTime = &at
	}
	for _, t := range []corev1.PodConditionType{corev1.PodReadyToStartContainers, corev1.PodInitialized, corev1.ContainersReady, corev1.PodReady} {
		setCondition(&s, t, corev1.ConditionTrue, "", at)
	}
	c := pod.Spec.Containers[0]
	s.ContainerStatuses = []corev1.ContainerStatus{{
		Name:        c.Name,
		Image:       c.Image,
		ContainerID: containerID,
		Ready:       true,
		Started:     ptr.To(true),
		State:       corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: at}},
	}}
	return s
}

// terminated is the status of pod once its container has ended, which ends the pod:
// the exec kubelet runs a container once, as for restartPolicy Never.
func terminated(pod *corev1.Pod, e exit) corev1.PodStatus {
	s := *pod.Status.DeepCopy()
	finished := metav1.NewTime(e.finished)
	started := finished
	if !e.started.IsZero() {
		started = metav1.NewTime(e.started)
	}
	s.Phase = corev1.PodSucceeded
	if e.code != 0 {
		s.Phase = corev1.PodFailed
	}
	if e.reason == reasonDeadlineExceeded {
		s.Reason, s.Message = reasonDeadlineExceeded, deadlineMessage
	}
	if s.StartTime == nil {
		s.StartTime = &started
	}
	setCondition(&s, corev1.PodInitialized, corev1.ConditionTrue, "", finished)
	setCondition(&s, corev1.ContainersReady, corev1.ConditionFalse, reasonPodCompleted, finished)
	setCondition(&s, corev1.PodReady, corev1.ConditionFalse, reasonPodCompleted, finished)
	c := pod.Spec.Containers[0]
	s.ContainerStatuses = []corev1.ContainerStatus{{
		Name:        c.Name,
		Image:       c.Image,
		ContainerID: e.containerID,
		Started:     ptr.To(false),
		State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
			ExitCode:    e.code,
			Reason:      e.reason,
			Message:     e.message,
			StartedAt:   started,
			FinishedAt:  finished,
			ContainerID: e.containerID,
		}},
	}}
	return s
}

// setCondition sets a pod condition, moving its transition time only when its status changes.
func setCondition(s *corev1.PodStatus, t corev1.PodConditionType, status corev1.ConditionStatus, reason string, at metav1.Time) {
	for i := range s.Conditions {
		if c := &s.Conditions[i]; c.Type == t {
			if c.Status != status {
				c.Status, c.LastTransitionTime = status, at
			}
			c.Reason = reason
			return
		}
	}
	s.Conditions = append(s.Conditions, corev1.PodCondition{Type: t, Status: status, Reason: reason, LastTransitionTime: at})
}
