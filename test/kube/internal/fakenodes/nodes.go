package fakenodes

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// The annotation kwok's controller selects the nodes it manages by.
const (
	manageAnnotation = "kwok.x-k8s.io/node"
	manageValue      = "fake"
	manageSelector   = manageAnnotation + "=" + manageValue
)

const controlPlaneRole = "node-role.kubernetes.io/control-plane"

// Create registers the nodes the way a kubelet on Talos would: hostname, OS and
// architecture labels, and for control planes the role label and NoSchedule taint.
func Create(ctx context.Context, client kubernetes.Interface, specs []Spec) error {
	for _, spec := range specs {
		_, err := client.CoreV1().Nodes().Create(ctx, node(spec), metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create node %s: %w", spec.Name, err)
		}
	}
	return nil
}

func node(spec Spec) *corev1.Node {
	n := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name: spec.Name,
			Labels: map[string]string{
				corev1.LabelHostname:   spec.Name,
				corev1.LabelOSStable:   "linux",
				corev1.LabelArchStable: "amd64",
				"type":                 "kwok",
			},
			Annotations: map[string]string{manageAnnotation: manageValue},
		},
	}
	if spec.Role == ControlPlane {
		n.Labels[controlPlaneRole] = ""
		n.Spec.Taints = []corev1.Taint{{Key: controlPlaneRole, Effect: corev1.TaintEffectNoSchedule}}
	}
	if ip := addressFromName(spec.Name); ip != nil {
		n.Status.Addresses = []corev1.NodeAddress{
			{Type: corev1.NodeInternalIP, Address: ip.String()},
			{Type: corev1.NodeHostName, Address: spec.Name},
		}
	}
	return n
}
