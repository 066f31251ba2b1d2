// Package testbed runs one site's whole control plane: etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler and kwok's fake kubelets.
package testbed

import (
	"net"
	"path/filepath"

	"hybridctl.dev/test/kube/internal/execkubelet"
	"hybridctl.dev/test/kube/internal/fakenodes"
)

// Config describes one testbed.
type Config struct {
	Dir           string
	Listen        net.IP
	Port          int
	SANs          []string
	Cluster       string
	Nodes         []fakenodes.Spec
	ServiceCIDR   string
	PodCIDR       string
	KubeconfigOut string
	AuditLog      string
	// KubeletPort, if set, is where the nodes' kubelet API (kwok's server) listens on Listen,
	// so the API server's pod log endpoint reaches it.
	KubeletPort int
	// EtcdMetricsPort, if set, is where etcd serves /metrics on 127.0.0.1.
	EtcdMetricsPort int
	// Exec runs pods with its label for real instead of kwok, if the label is set;
	// the test bed fills in its Kubeconfig and Dir.
	Exec execkubelet.Config
}

// paths are the files the testbed keeps in its data directory.
type paths struct {
	etcd, certDir                   string
	ca, caKey, serving, servingKey  string
	saKey, saPub                    string
	admin, controllerManager        string
	scheduler, kwok, auditPolicy    string
	execKubelet, pods               string
	kubelet, kubeletKey             string
	kubeletClient, kubeletClientKey string
}

func (c Config) paths() paths {
	pki := func(name string) string { return filepath.Join(c.Dir, "pki", name) }
	kc := func(name string) string { return filepath.Join(c.Dir, "kubeconfigs", name+".kubeconfig") }
	return paths{
		etcd:              filepath.Join(c.Dir, "etcd"),
		certDir:           pki("generated"),
		ca:                pki("ca.crt"),
		caKey:             pki("ca.key"),
		serving:           pki("apiserver.crt"),
		servingKey:        pki("apiserver.key"),
		saKey:             pki("sa.key"),
		saPub:             pki("sa.pub"),
		admin:             kc("admin"),
		controllerManager: kc("controller-manager"),
		scheduler:         kc("scheduler"),
		kwok:              kc("kwok"),
		auditPolicy:       filepath.Join(c.Dir, "audit-policy.yaml"),
		execKubelet:       kc("exec-kubelet"),
		pods:              filepath.Join(c.Dir, "pods"),
		kubelet:           pki("kubelet.crt"),
		kubeletKey:        pki("kubelet.key"),
		kubeletClient:     pki("apiserver-kubelet-client.crt"),
		kubeletClientKey:  pki("apiserver-kubelet-client.key"),
	}
}

func (c Config) server() string {
	return "https://" + net.JoinHostPort(c.Listen.String(), itoa(c.Port))
}
