// Package pki makes the testbed's certificate authority and the certificates signed by it.
package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"time"
)

const validity = 365 * 24 * time.Hour

// KeyPair is a certificate with its private key, both PEM encoded.
type KeyPair struct {
	Cert *x509.Certificate
	Key  crypto.Signer

	CertPEM []byte
	KeyPEM  []byte
}

// LoadOrCreateCA reuses the CA in certFile/keyFile if both exist, so kubeconfigs written
// by an earlier run against the same data directory stay valid; otherwise it makes one.
func LoadOrCreateCA(certFile, keyFile, commonName string) (*KeyPair, error) {
	ca, err := loadKeyPair(certFile, keyFile)
	if err == nil || !errors.Is(err, os.ErrNotExist) {
		return ca, err
	}
	key, err := NewKey()
	if err != nil {
		return nil, err
	}
	tmpl := template(commonName, nil)
	tmpl.IsCA = true
	tmpl.BasicConstraintsValid = true
	tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature | x509.KeyUsageCRLSign
	ca, err = sign(tmpl, key, tmpl, key)
	if err != nil {
		return nil, err
	}
	return ca, ca.Write(certFile, keyFile)
}

// ServingCert issues a TLS server certificate for the given DNS names and IPs.
func (ca *KeyPair) ServingCert(commonName string, dnsNames []string, ips []net.IP) (*KeyPair, error) {
	key, err := NewKey()
	if err != nil {
		return nil, err
	}
	tmpl := template(commonName, nil)
	tmpl.DNSNames = dnsNames
	tmpl.IPAddresses = ips
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	return sign(tmpl, key, ca.Cert, ca.Key)
}

// ClientCert issues a client certificate; the apiserver reads the user from the
// common name and the groups from the organisations.
func (ca *KeyPair) ClientCert(user string, groups ...string) (*KeyPair, error) {
	key, err := NewKey()
	if err != nil {
		return nil, err
	}
	tmpl := template(user, groups)
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	return sign(tmpl, key, ca.Cert, ca.Key)
}

// Write stores the certificate and key; the key is readable by the owner only.
func (kp *KeyPair) Write(certFile, keyFile string) error {
	if err := os.WriteFile(certFile, kp.CertPEM, 0o644); err != nil {
		return err
	}
	return os.WriteFile(keyFile, kp.KeyPEM, 0o600)
}

// NewKey makes an ECDSA P-256 key.
func NewKey() (*ecdsa.PrivateKey, error) {
	return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
}

func template(commonName string, organisations []string) *x509.Certificate {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 126))
	if err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	now := time.Now()
	return &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: commonName, Organization: organisations},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(validity),
	}
}

func sign(tmpl *x509.Certificate, key crypto.Signer, parent *x509.Certificate, parentKey crypto.Signer) (*KeyPair, error) {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), parentKey)
	if err != nil {
		return nil, fmt.Errorf("sign %s: %w", tmpl.Subject.CommonName, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	keyPEM, err := EncodeKey(key)
	if err != nil {
		return nil, err
	}
	return &KeyPair{
		Cert:    cert,
		Key:     key,
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		KeyPEM:  keyPEM,
	}, nil
}
