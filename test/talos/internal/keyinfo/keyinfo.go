// Package keyinfo names key algorithms the way the test suite compares them:
// "Ed25519", "ECDSA-P256", "RSA-4096".
package keyinfo

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
)

// Name returns the algorithm name of a public or private key.
func Name(key any) string {
	if signer, ok := key.(crypto.Signer); ok {
		key = signer.Public()
	}

	switch k := key.(type) {
	case ed25519.PublicKey:
		return "Ed25519"
	case *ecdsa.PublicKey:
		return "ECDSA-" + strings.ReplaceAll(k.Curve.Params().Name, "-", "")
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA-%d", k.N.BitLen())
	default:
		return fmt.Sprintf("unknown(%T)", key)
	}
}

// PrivateKeyPEM parses the first PEM block as PKCS#8, SEC 1 or PKCS#1, whatever
// its label says: Talos labels Ed25519 PKCS#8 keys "ED25519 PRIVATE KEY".
func PrivateKeyPEM(data []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block found")
	}

	if key, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
		if signer, ok := key.(crypto.Signer); ok {
			return signer, nil
		}
	}

	if key, err := x509.ParseECPrivateKey(block.Bytes); err == nil {
		return key, nil
	}

	if key, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return key, nil
	}

	return nil, fmt.Errorf("unsupported private key in PEM block %q", block.Type)
}

// CertificatesPEM parses every CERTIFICATE block.
func CertificatesPEM(data []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate

	for {
		var block *pem.Block

		block, data = pem.Decode(data)
		if block == nil {
			break
		}

		if block.Type != "CERTIFICATE" {
			continue
		}

		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, err
		}

		certs = append(certs, cert)
	}

	if len(certs) == 0 {
		return nil, errors.New("no certificate found")
	}

	return certs, nil
}
