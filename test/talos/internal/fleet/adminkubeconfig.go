package fleet

import (
	"bytes"
	stdx509 "crypto/x509"
	"encoding/base64"
	"errors"
	"time"

	"github.com/siderolabs/crypto/x509"
	"github.com/siderolabs/talos/pkg/machinery/config/config"
	"go.yaml.in/yaml/v4"
)

// generateAdminKubeconfig follows pkg/kubeconfig/generate.go: an admin client
// certificate from the Kubernetes CA, every accepted CA as the server's CA data,
// user admin@NAME, context admin@NAME in namespace default.
func generateAdminKubeconfig(cluster config.ClusterConfig) ([]byte, error) {
	issuing := cluster.IssuingCA()
	if issuing == nil || len(issuing.Key) == 0 {
		return nil, errors.New("error getting Kubernetes CA: cluster.ca has no key")
	}

	ca, err := x509.NewCertificateAuthorityFromCertificateAndKey(issuing)
	if err != nil {
		return nil, err
	}

	admin := cluster.AdminKubeconfig()

	// Talos allows for 10 seconds of clock skew.
	pair, err := x509.NewKeyPair(ca,
		x509.CommonName(admin.CommonName()),
		x509.Organization(admin.CertOrganization()),
		x509.NotBefore(time.Now().Add(-10*time.Second)),
		x509.NotAfter(time.Now().Add(admin.CertLifetime())),
		x509.KeyUsage(stdx509.KeyUsageDigitalSignature|stdx509.KeyUsageKeyEncipherment),
		x509.ExtKeyUsage([]stdx509.ExtKeyUsage{stdx509.ExtKeyUsageClientAuth}),
	)
	if err != nil {
		return nil, err
	}

	var serverCAs []byte
	for _, accepted := range cluster.AcceptedCAs() {
		serverCAs = append(serverCAs, accepted.Crt...)
	}

	serverCAs = append(serverCAs, issuing.Crt...)

	name := cluster.Name()
	user := "admin@" + name
	b64 := base64.StdEncoding.EncodeToString

	// Field order and layout follow clientcmd.Write's output.
	type (
		namedCluster struct {
			Cluster struct {
				CAData string `yaml:"certificate-authority-data"`
				Server string `yaml:"server"`
			} `yaml:"cluster"`
			Name string `yaml:"name"`
		}
		namedContext struct {
			Context struct {
				Cluster   string `yaml:"cluster"`
				Namespace string `yaml:"namespace"`
				User      string `yaml:"user"`
			} `yaml:"context"`
			Name string `yaml:"name"`
		}
		namedUser struct {
			Name string `yaml:"name"`
			User struct {
				CertData string `yaml:"client-certificate-data"`
				KeyData  string `yaml:"client-key-data"`
			} `yaml:"user"`
		}
		kubeconfig struct {
			APIVersion     string         `yaml:"apiVersion"`
			Clusters       []namedCluster `yaml:"clusters"`
			Contexts       []namedContext `yaml:"contexts"`
			CurrentContext string         `yaml:"current-context"`
			Kind           string         `yaml:"kind"`
			Preferences    struct{}       `yaml:"preferences"`
			Users          []namedUser    `yaml:"users"`
		}
	)

	kc := kubeconfig{APIVersion: "v1", Kind: "Config", CurrentContext: user,
		Clusters: make([]namedCluster, 1), Contexts: make([]namedContext, 1), Users: make([]namedUser, 1)}
	kc.Clusters[0].Name = name
	kc.Clusters[0].Cluster.Server = cluster.Endpoint().String()
	kc.Clusters[0].Cluster.CAData = b64(serverCAs)
	kc.Contexts[0].Name = user
	kc.Contexts[0].Context.Cluster = name
	kc.Contexts[0].Context.Namespace = "default"
	kc.Contexts[0].Context.User = user
	kc.Users[0].Name = user
	kc.Users[0].User.CertData = b64(pair.CrtPEM)
	kc.Users[0].User.KeyData = b64(pair.KeyPEM)

	var buf bytes.Buffer

	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	enc.CompactSeqIndent()

	if err = enc.Encode(kc); err != nil {
		return nil, err
	}

	if err = enc.Close(); err != nil {
		return nil, err
	}

	return buf.Bytes(), nil
}
