package fakenodes

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/kwok/pkg/apis/internalversion"
	"sigs.k8s.io/kwok/pkg/utils/lifecycle"
)

func TestStagesSkipLabelledPods(t *testing.T) {
	skip := Label{Key: "hybridctl.dev/vpn-probe", Value: "true"}
	grouped, err := defaultStages(skip)
	if err != nil {
		t.Fatal(err)
	}
	podStages := grouped[internalversion.StageResourceRef{APIGroup: "v1", Kind: "Pod"}]
	if len(podStages) != 3 {
		t.Fatalf("%d pod stages, want 3", len(podStages))
	}
	lc, err := lifecycle.NewLifecycle(podStages)
	if err != nil {
		t.Fatal(err)
	}
	now := metav1.Now()
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   bool
	}{
		{"unlabelled", nil, true},
		{"other value", map[string]string{skip.Key: "false"}, true},
		{"labelled", map[string]string{skip.Key: "true"}, false},
	} {
		pods := map[string]*corev1.Pod{
			"bound":    {Spec: corev1.PodSpec{NodeName: "n"}, Status: corev1.PodStatus{Phase: corev1.PodPending}},
			"deleting": {ObjectMeta: metav1.ObjectMeta{DeletionTimestamp: &now}},
		}
		for what, pod := range pods {
			pod.Labels = c.labels
			stages, err := lc.ListAllPossible(context.Background(), &lifecycle.Event{Labels: pod.Labels, Data: pod})
			if err != nil {
				t.Fatal(err)
			}
			if got := len(stages) > 0; got != c.want {
				t.Errorf("%s %s pod: a stage matches: %v, want %v", c.name, what, got, c.want)
			}
		}
	}
}
