package fleet

import (
	"crypto/tls"
	stdx509 "crypto/x509"
	"errors"
	"fmt"
	"net"
	"slices"
	"time"

	"github.com/siderolabs/crypto/x509"
	"github.com/siderolabs/talos/pkg/machinery/constants"
)

var errNoCAKey = errors.New("no OS CA key to sign the API certificate")

// maintenanceTLS is the maintenance service's: a throwaway CA, a server
// certificate for the node's addresses, no client certificate asked for
// (internal/app/machined/pkg/controllers/secrets/maintenance_*.go, api.go).
func maintenanceTLS(ips []net.IP) (*tls.Config, error) {
	ca, err := x509.NewSelfSignedCertificateAuthority()
	if err != nil {
		return nil, err
	}

	pair, err := x509.NewKeyPair(ca,
		x509.IPAddresses(ips),
		x509.CommonName(constants.MaintenanceServiceCommonName),
		x509.NotAfter(time.Now().Add(x509.DefaultCertificateValidityDuration)),
		x509.KeyUsage(stdx509.KeyUsageDigitalSignature),
		x509.ExtKeyUsage([]stdx509.ExtKeyUsage{stdx509.ExtKeyUsageServerAuth}),
	)
	if err != nil {
		return nil, err
	}

	return &tls.Config{
		Certificates: []tls.Certificate{*pair.Certificate},
		ClientAuth:   tls.NoClientCert,
		MinVersion:   tls.VersionTLS13,
		NextProtos:   []string{"h2"},
	}, nil
}

// apiTLSLocked is apid's: a server certificate signed by the OS CA (machine.ca),
// client certificates required and verified against machine.ca and machine.acceptedCAs.
func (n *Node) apiTLSLocked() (*tls.Config, error) {
	security := n.cfg.Machine().Security()

	issuing := security.IssuingCA()
	if issuing == nil || len(issuing.Crt) == 0 {
		return nil, errors.New("machine.ca is missing")
	}

	key := issuing.Key
	if len(key) == 0 {
		key = n.f.caKeyLocked(issuing.Crt)
	}

	if len(key) == 0 {
		return nil, errNoCAKey
	}

	ca, err := x509.NewCertificateAuthorityFromCertificateAndKey(&x509.PEMEncodedCertificateAndKey{Crt: issuing.Crt, Key: key})
	if err != nil {
		return nil, fmt.Errorf("machine.ca: %w", err)
	}

	ips := n.certIPs()

	var dnsNames []string

	for _, san := range security.CertSANs() {
		if ip := net.ParseIP(san); ip != nil {
			ips = append(ips, ip)
		} else {
			dnsNames = append(dnsNames, san)
		}
	}

	hostname := n.hostnameLocked()

	pair, err := x509.NewKeyPair(ca,
		x509.IPAddresses(ips),
		x509.DNSNames(append(dnsNames, hostname)),
		x509.CommonName(hostname),
		x509.NotAfter(time.Now().Add(x509.DefaultCertificateValidityDuration)),
		x509.KeyUsage(stdx509.KeyUsageDigitalSignature),
		x509.ExtKeyUsage([]stdx509.ExtKeyUsage{stdx509.ExtKeyUsageServerAuth}),
	)
	if err != nil {
		return nil, err
	}

	clientCAs := stdx509.NewCertPool()
	clientCAs.AppendCertsFromPEM(issuing.Crt)

	for _, accepted := range security.AcceptedCAs() {
		clientCAs.AppendCertsFromPEM(accepted.Crt)
	}

	return &tls.Config{
		Certificates:          []tls.Certificate{*pair.Certificate},
		ClientAuth:            tls.RequireAndVerifyClientCert,
		ClientCAs:             clientCAs,
		MinVersion:            tls.VersionTLS13,
		NextProtos:            []string{"h2"},
		VerifyPeerCertificate: verifyExtKeyUsage,
	}, nil
}

// verifyExtKeyUsage is apid's check (internal/app/apid/service.go): client
// certificates must have exactly the client auth extended key usage.
func verifyExtKeyUsage(_ [][]byte, verifiedChains [][]*stdx509.Certificate) error {
	if len(verifiedChains) == 0 {
		return errors.New("no verified chains")
	}

	for _, cert := range verifiedChains[0] {
		if cert.IsCA {
			continue
		}

		if !slices.Equal(cert.ExtKeyUsage, []stdx509.ExtKeyUsage{stdx509.ExtKeyUsageClientAuth}) {
			return fmt.Errorf("certificate %q is missing the client auth extended key usage", cert.Subject)
		}
	}

	return nil
}

// trustsLocked tells whether the node's API accepts certificates issued by caCrt.
func (n *Node) trustsLocked(caCrt []byte) bool {
	if n.cfg == nil || n.cfg.Machine() == nil || len(caCrt) == 0 {
		return false
	}

	if slices.Equal(n.caCrtLocked(), caCrt) {
		return true
	}

	for _, accepted := range n.cfg.Machine().Security().AcceptedCAs() {
		if slices.Equal(accepted.Crt, caCrt) {
			return true
		}
	}

	return false
}

func (n *Node) caCrtLocked() []byte {
	if n.cfg == nil || n.cfg.Machine() == nil || n.cfg.Machine().Security().IssuingCA() == nil {
		return nil
	}

	return n.cfg.Machine().Security().IssuingCA().Crt
}
