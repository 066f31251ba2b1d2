// Package kubeconfig writes client-certificate kubeconfigs for the testbed's users.
package kubeconfig

import (
	"os"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Params names the kubeconfig's entries the way Talos does: cluster NAME,
// user and context admin@NAME (or another user prefix for internal components).
type Params struct {
	Cluster string
	User    string
	Server  string
	CA      []byte
	Cert    []byte
	Key     []byte
}

// Write stores the kubeconfig at path with mode 0600.
func Write(path string, p Params) error {
	context := p.User
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[p.Cluster] = &clientcmdapi.Cluster{Server: p.Server, CertificateAuthorityData: p.CA}
	cfg.AuthInfos[p.User] = &clientcmdapi.AuthInfo{ClientCertificateData: p.Cert, ClientKeyData: p.Key}
	cfg.Contexts[context] = &clientcmdapi.Context{Cluster: p.Cluster, AuthInfo: p.User}
	cfg.CurrentContext = context
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		return err
	}
	return os.Chmod(path, 0o600)
}
