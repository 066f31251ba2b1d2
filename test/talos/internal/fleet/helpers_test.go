package fleet_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log"
	"strings"
	"testing"
	"time"

	"github.com/siderolabs/talos/pkg/machinery/api/machine"
	"github.com/siderolabs/talos/pkg/machinery/config"
	"github.com/siderolabs/talos/pkg/machinery/config/encoder"
	"github.com/siderolabs/talos/pkg/machinery/config/generate"
	"github.com/siderolabs/talos/pkg/machinery/config/generate/secrets"
	machinetype "github.com/siderolabs/talos/pkg/machinery/config/machine"
	"github.com/siderolabs/talos/pkg/machinery/role"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"

	"hybridctl.dev/test/talos/internal/fleet"
)

const rebootDelay = 100 * time.Millisecond

type cluster struct {
	name   string
	bundle *secrets.Bundle
}

func newCluster(t *testing.T, name string) *cluster {
	t.Helper()

	bundle, err := secrets.NewBundle(secrets.NewFixedClock(time.Now()), config.TalosVersionCurrent)
	if err != nil {
		t.Fatal(err)
	}

	return &cluster{name: name, bundle: bundle}
}

// config generates a machine config the way talosctl gen config does.
func (c *cluster) config(t *testing.T, machineType machinetype.Type, opts ...generate.Option) []byte {
	t.Helper()

	opts = append([]generate.Option{generate.WithSecretsBundle(c.bundle), generate.WithInstallDisk("/dev/sda")}, opts...)

	input, err := generate.NewInput(c.name, "https://10.9.9.9:6443", "1.36.3", opts...)
	if err != nil {
		t.Fatal(err)
	}

	cfg, err := input.Config(machineType)
	if err != nil {
		t.Fatal(err)
	}

	data, err := cfg.EncodeBytes(encoder.WithComments(encoder.CommentsDisabled))
	if err != nil {
		t.Fatal(err)
	}

	return data
}

// clientCert issues a Talos API client certificate, as talosctl gen config does.
func (c *cluster) clientCert(t *testing.T, roles ...role.Role) tls.Certificate {
	t.Helper()

	pem, err := c.bundle.GenerateTalosAPIClientCertificate(role.MakeSet(roles...))
	if err != nil {
		t.Fatal(err)
	}

	cert, err := tls.X509KeyPair(pem.Crt, pem.Key)
	if err != nil {
		t.Fatal(err)
	}

	return cert
}

func (c *cluster) caPool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(c.bundle.Certs.OS.Crt)

	return pool
}

func startFleet(t *testing.T, specs ...fleet.NodeSpec) *fleet.Fleet {
	t.Helper()

	f, err := fleet.New(fleet.Options{RebootDelay: rebootDelay, Logger: log.New(io.Discard, "", 0)}, specs)
	if err != nil {
		t.Fatal(err)
	}

	t.Cleanup(f.Close)

	if err = f.Start(); err != nil {
		t.Fatal(err)
	}

	return f
}

func dial(t *testing.T, ip string, tlsConfig *tls.Config) machine.MachineServiceClient {
	t.Helper()

	return machine.NewMachineServiceClient(dialConn(t, ip, tlsConfig))
}

func dialConn(t *testing.T, ip string, tlsConfig *tls.Config, opts ...grpc.DialOption) *grpc.ClientConn {
	t.Helper()

	opts = append([]grpc.DialOption{grpc.WithTransportCredentials(credentials.NewTLS(tlsConfig))}, opts...)

	conn, err := grpc.NewClient(ip+":50000", opts...)
	if err != nil {
		t.Fatal(err)
	}

	t.Cleanup(func() { conn.Close() }) //nolint:errcheck

	return conn
}

// tlsConfig is a client's TLS configuration with a certificate of these roles (admin by default).
func (c *cluster) tlsConfig(t *testing.T, roles ...role.Role) *tls.Config {
	t.Helper()

	if len(roles) == 0 {
		roles = []role.Role{role.Admin}
	}

	return &tls.Config{RootCAs: c.caPool(), Certificates: []tls.Certificate{c.clientCert(t, roles...)}}
}

// insecure is talosctl --insecure.
func insecure(t *testing.T, ip string) machine.MachineServiceClient {
	t.Helper()

	return dial(t, ip, insecureTLS())
}

func insecureTLS() *tls.Config {
	return &tls.Config{InsecureSkipVerify: true} //nolint:gosec
}

func (c *cluster) client(t *testing.T, ip string, roles ...role.Role) machine.MachineServiceClient {
	t.Helper()

	return dial(t, ip, c.tlsConfig(t, roles...))
}

func waitMode(t *testing.T, f *fleet.Fleet, ip, mode string) {
	t.Helper()

	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if f.Status().Node(ip).Mode == mode {
			return
		}

		time.Sleep(10 * time.Millisecond)
	}

	t.Fatalf("node %s: mode %s, want %s", ip, f.Status().Node(ip).Mode, mode)
}

func wantStatus(t *testing.T, err error, code codes.Code, msg string) {
	t.Helper()

	st, _ := status.FromError(err)
	if st.Code() != code || (msg != "" && st.Message() != msg) {
		t.Fatalf("got %v, want code %s message %q", err, code, msg)
	}
}

func wantStatusContaining(t *testing.T, err error, code codes.Code, part string) {
	t.Helper()

	st, _ := status.FromError(err)
	if st.Code() != code || !strings.Contains(st.Message(), part) {
		t.Fatalf("got %v, want code %s with %q", err, code, part)
	}
}

func ctx(t *testing.T) context.Context {
	t.Helper()

	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)

	return c
}
