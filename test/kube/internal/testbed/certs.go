package testbed

import (
	"cmp"
	"net"
	"os"
	"path/filepath"
	"strconv"

	"hybridctl.dev/test/kube/internal/kubeconfig"
	"hybridctl.dev/test/kube/internal/pki"
)

// client is one user of the apiserver; the apiserver's bootstrap RBAC policy
// already grants the controller manager's and the scheduler's users what they need.
type client struct {
	file string
	// entry names the kubeconfig's user and context; user is the certificate's common name.
	entry, user string
	groups      []string
}

// writeCredentials makes (or reuses) the CA and the service account key, and
// issues the serving certificate and every component's kubeconfig.
func writeCredentials(c Config, p paths) error {
	for _, dir := range []string{filepath.Dir(p.ca), p.certDir, filepath.Dir(p.admin)} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
	}
	ca, err := pki.LoadOrCreateCA(p.ca, p.caKey, "kubernetes")
	if err != nil {
		return err
	}
	if err := pki.EnsureSigningKey(p.saKey, p.saPub); err != nil {
		return err
	}
	dns := []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"}
	ips := []net.IP{c.Listen, net.IPv4(127, 0, 0, 1)}
	for _, san := range c.SANs {
		if ip := net.ParseIP(san); ip != nil {
			ips = append(ips, ip)
		} else {
			dns = append(dns, san)
		}
	}
	serving, err := ca.ServingCert("kube-apiserver", dns, ips)
	if err != nil {
		return err
	}
	if err := serving.Write(p.serving, p.servingKey); err != nil {
		return err
	}
	if err := writeKubeletCerts(c, p, ca); err != nil {
		return err
	}
	clients := []client{
		{p.admin, "admin@" + c.Cluster, "admin", []string{"system:masters"}},
		{p.controllerManager, "", "system:kube-controller-manager", nil},
		{p.scheduler, "", "system:kube-scheduler", nil},
		{p.kwok, "", "kwok-controller", []string{"system:masters"}},
		{p.execKubelet, "", "exec-kubelet", []string{"system:masters"}},
	}
	for _, cl := range clients {
		if err := writeKubeconfig(c, ca, cl); err != nil {
			return err
		}
	}
	if c.KubeconfigOut != "" {
		admin, err := os.ReadFile(p.admin)
		if err != nil {
			return err
		}
		if err := os.WriteFile(c.KubeconfigOut, admin, 0o600); err != nil {
			return err
		}
		return os.Chmod(c.KubeconfigOut, 0o600)
	}
	return nil
}

// writeKubeletCerts issues the kubelet API's serving certificate (for the nodes' address)
// and the API server's client certificate for it, user kube-apiserver-kubelet-client.
func writeKubeletCerts(c Config, p paths, ca *pki.KeyPair) error {
	serving, err := ca.ServingCert("kubelet", []string{"localhost"}, []net.IP{c.Listen})
	if err != nil {
		return err
	}
	if err := serving.Write(p.kubelet, p.kubeletKey); err != nil {
		return err
	}
	client, err := ca.ClientCert("kube-apiserver-kubelet-client", "kubeadm:cluster-admins")
	if err != nil {
		return err
	}
	return client.Write(p.kubeletClient, p.kubeletClientKey)
}

func writeKubeconfig(c Config, ca *pki.KeyPair, cl client) error {
	cert, err := ca.ClientCert(cl.user, cl.groups...)
	if err != nil {
		return err
	}
	return kubeconfig.Write(cl.file, kubeconfig.Params{
		Cluster: c.Cluster,
		User:    cmp.Or(cl.entry, cl.user),
		Server:  c.server(),
		CA:      ca.CertPEM,
		Cert:    cert.CertPEM,
		Key:     cert.KeyPEM,
	})
}

func itoa(n int) string { return strconv.Itoa(n) }
