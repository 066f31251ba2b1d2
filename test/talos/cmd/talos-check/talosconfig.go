package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"sort"
	"time"

	clientconfig "github.com/siderolabs/talos/pkg/machinery/client/config"

	"hybridctl.dev/test/talos/internal/keyinfo"
)

type contextSummary struct {
	Endpoints     []string `json:"endpoints"`
	Nodes         []string `json:"nodes"`
	KeyAlgorithm  string   `json:"keyAlgorithm"`
	Organizations []string `json:"organizations"`
	ExtKeyUsages  []string `json:"extKeyUsages"`
	NotBefore     string   `json:"notBefore"`
	NotAfter      string   `json:"notAfter"`
}

type talosconfigSummary struct {
	Context  string                     `json:"context"`
	Contexts map[string]*contextSummary `json:"contexts"`
}

func runTalosconfig(args []string) error {
	if len(args) != 1 {
		return usageError("talosconfig takes one FILE")
	}

	data, err := os.ReadFile(args[0])
	if err != nil {
		return err
	}

	// clientconfig.Open would create a missing file; FromBytes only reads.
	cfg, err := clientconfig.FromBytes(data)
	if err != nil {
		return fmt.Errorf("%s: %w", args[0], err)
	}

	if len(cfg.Contexts) == 0 {
		return fmt.Errorf("%s: no contexts", args[0])
	}

	if _, ok := cfg.Contexts[cfg.Context]; !ok {
		return fmt.Errorf("%s: current context %q is not defined", args[0], cfg.Context)
	}

	summary := talosconfigSummary{Context: cfg.Context, Contexts: map[string]*contextSummary{}}

	names := make([]string, 0, len(cfg.Contexts))
	for name := range cfg.Contexts {
		names = append(names, name)
	}

	sort.Strings(names)

	for _, name := range names {
		ctxSummary, err := checkContext(cfg.Contexts[name])
		if err != nil {
			return fmt.Errorf("%s: context %q: %w", args[0], name, err)
		}

		summary.Contexts[name] = ctxSummary
	}

	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")

	return enc.Encode(summary)
}

func checkContext(ctx *clientconfig.Context) (*contextSummary, error) {
	if len(ctx.Endpoints) == 0 {
		return nil, fmt.Errorf("no endpoints")
	}

	caPEM, err := decodeField("ca", ctx.CA)
	if err != nil {
		return nil, err
	}

	crtPEM, err := decodeField("crt", ctx.Crt)
	if err != nil {
		return nil, err
	}

	keyPEM, err := decodeField("key", ctx.Key)
	if err != nil {
		return nil, err
	}

	cas, err := keyinfo.CertificatesPEM(caPEM)
	if err != nil {
		return nil, fmt.Errorf("ca: %w", err)
	}

	pair, err := tls.X509KeyPair(crtPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("crt/key: %w", err)
	}

	cert, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return nil, fmt.Errorf("crt: %w", err)
	}

	roots := x509.NewCertPool()
	for _, ca := range cas {
		roots.AddCert(ca)
	}

	if _, err = cert.Verify(x509.VerifyOptions{
		Roots:     roots,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}); err != nil {
		return nil, fmt.Errorf("crt does not chain to ca: %w", err)
	}

	// apid's verifyExtKeyUsage (internal/app/apid/service.go) demands exactly this.
	if !slices.Equal(cert.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}) {
		return nil, fmt.Errorf("certificate %q is missing the client auth extended key usage", cert.Subject)
	}

	return &contextSummary{
		Endpoints:     ctx.Endpoints,
		Nodes:         nonNil(ctx.Nodes),
		KeyAlgorithm:  keyinfo.Name(cert.PublicKey),
		Organizations: nonNil(cert.Subject.Organization),
		ExtKeyUsages:  extKeyUsageNames(cert.ExtKeyUsage),
		NotBefore:     cert.NotBefore.UTC().Format(time.RFC3339),
		NotAfter:      cert.NotAfter.UTC().Format(time.RFC3339),
	}, nil
}

func decodeField(name, value string) ([]byte, error) {
	if value == "" {
		return nil, fmt.Errorf("%s is empty", name)
	}

	decoded, err := base64.StdEncoding.DecodeString(value)
	if err != nil {
		return nil, fmt.Errorf("%s is not base64: %w", name, err)
	}

	return decoded, nil
}

func extKeyUsageNames(usages []x509.ExtKeyUsage) []string {
	names := map[x509.ExtKeyUsage]string{
		x509.ExtKeyUsageAny:        "any",
		x509.ExtKeyUsageServerAuth: "serverAuth",
		x509.ExtKeyUsageClientAuth: "clientAuth",
	}

	out := []string{}

	for _, usage := range usages {
		name, ok := names[usage]
		if !ok {
			name = fmt.Sprintf("other(%d)", usage)
		}

		out = append(out, name)
	}

	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}

	return s
}
