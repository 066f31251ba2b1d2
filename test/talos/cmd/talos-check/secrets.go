package main

import (
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/siderolabs/crypto/x509"
	"github.com/siderolabs/talos/pkg/machinery/config/generate/secrets"

	"hybridctl.dev/test/talos/internal/keyinfo"
)

func runSecrets(args []string) error {
	if len(args) != 1 {
		return usageError("secrets takes one FILE")
	}

	bundle, err := secrets.LoadBundle(args[0])
	if err != nil {
		return fmt.Errorf("%s: %w", args[0], err)
	}

	if err = bundle.Validate(); err != nil {
		return fmt.Errorf("%s: %w", args[0], err)
	}

	summary := map[string]string{}

	for name, ca := range map[string]*x509.PEMEncodedCertificateAndKey{
		"os":            bundle.Certs.OS,
		"etcd":          bundle.Certs.Etcd,
		"k8s":           bundle.Certs.K8s,
		"k8saggregator": bundle.Certs.K8sAggregator,
	} {
		algorithm, err := checkCA(ca)
		if err != nil {
			return fmt.Errorf("%s: certs.%s: %w", args[0], name, err)
		}

		summary[name] = algorithm
	}

	saKey, err := keyinfo.PrivateKeyPEM(bundle.Certs.K8sServiceAccount.Key)
	if err != nil {
		return fmt.Errorf("%s: certs.k8sserviceaccount: %w", args[0], err)
	}

	summary["k8sserviceaccount"] = keyinfo.Name(saKey)

	return json.NewEncoder(os.Stdout).Encode(summary)
}

// checkCA goes beyond Bundle.Validate, which parses the certificate and the key
// separately: the key must belong to the certificate, and the certificate must be a CA.
func checkCA(ca *x509.PEMEncodedCertificateAndKey) (string, error) {
	if _, err := tls.X509KeyPair(ca.Crt, ca.Key); err != nil {
		return "", err
	}

	cert, err := ca.GetCert()
	if err != nil {
		return "", err
	}

	if !cert.IsCA {
		return "", errors.New("certificate is not a CA")
	}

	return keyinfo.Name(cert.PublicKey), nil
}
