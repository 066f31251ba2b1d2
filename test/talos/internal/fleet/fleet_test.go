package fleet_test

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/siderolabs/talos/pkg/machinery/api/machine"
	"github.com/siderolabs/talos/pkg/machinery/client"
	clientconfig "github.com/siderolabs/talos/pkg/machinery/client/config"
	machinetype "github.com/siderolabs/talos/pkg/machinery/config/machine"
	"github.com/siderolabs/talos/pkg/machinery/role"
	"go.yaml.in/yaml/v4"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/emptypb"

	"hybridctl.dev/test/talos/internal/fleet"
	"hybridctl.dev/test/talos/internal/talosmode"
)

func TestMaintenanceMode(t *testing.T) {
	const ip = "127.77.1.1"

	startFleet(t, fleet.NodeSpec{IP: ip, Role: "controlplane", Mode: talosmode.Metal})
	c := insecure(t, ip)

	v, err := c.Version(ctx(t), &emptypb.Empty{})
	if err != nil {
		t.Fatal(err)
	}

	if got := v.Messages[0]; got.Version.Tag != "v1.13.9" || got.Platform.Mode != "metal" || got.Features != nil {
		t.Fatalf("version %v", got)
	}

	_, err = c.Bootstrap(ctx(t), &machine.BootstrapRequest{})
	wantStatus(t, err, codes.PermissionDenied, "not authorized")

	_, err = c.Reboot(ctx(t), &machine.RebootRequest{})
	wantStatus(t, err, codes.PermissionDenied, "not authorized")

	_, err = c.EtcdMemberList(ctx(t), &machine.EtcdMemberListRequest{})
	wantStatus(t, err, codes.Unimplemented, "member list is only available on control plane nodes")

	_, err = c.Containers(ctx(t), &machine.ContainersRequest{})
	wantStatus(t, err, codes.Unimplemented, "method Containers not implemented")

	stream, err := c.Kubeconfig(ctx(t), &emptypb.Empty{})
	if err == nil {
		_, err = stream.Recv()
	}

	wantStatus(t, err, codes.PermissionDenied, "not authorized")
}

func TestApplyFromMaintenance(t *testing.T) {
	const ip = "127.77.2.1"

	f := startFleet(t, fleet.NodeSpec{IP: ip, Role: "controlplane", Mode: talosmode.Metal})
	demo := newCluster(t, "demo")
	cfg := demo.config(t, machinetype.TypeControlPlane)
	c := insecure(t, ip)

	_, err := c.ApplyConfiguration(ctx(t), &machine.ApplyConfigurationRequest{Data: append([]byte("bogus: 1\n"), cfg...)})
	wantStatusContaining(t, err, codes.InvalidArgument, "unknown keys found during decoding:\nbogus: 1\n")

	noInstall := regexp.MustCompile(`(?m)^    install:\n(^        .*\n)+`).ReplaceAll(cfg, nil)
	_, err = c.ApplyConfiguration(ctx(t), &machine.ApplyConfigurationRequest{Data: noInstall})
	wantStatusContaining(t, err, codes.InvalidArgument, `install instructions are required in "metal" mode`)

	dry, err := c.ApplyConfiguration(ctx(t), &machine.ApplyConfigurationRequest{Data: cfg, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}

	details := dry.Messages[0].ModeDetails
	if !strings.HasPrefix(details, "Dry run summary:\nApplied configuration without a reboot (skipped in dry-run).\nConfig diff:\n\n") ||
		dry.Messages[0].Mode != machine.ApplyConfigurationRequest_NO_REBOOT {
		t.Fatalf("dry run: %v %q", dry.Messages[0].Mode, details)
	}

	if f.Status().Node(ip).ApplyCount != 0 {
		t.Fatal("dry run applied")
	}

	resp, err := c.ApplyConfiguration(ctx(t), &machine.ApplyConfigurationRequest{Data: cfg, Mode: machine.ApplyConfigurationRequest_REBOOT})
	if err != nil {
		t.Fatal(err)
	}

	if got := resp.Messages[0]; got.Mode != machine.ApplyConfigurationRequest_NO_REBOOT || got.ModeDetails != "Applied configuration without a reboot" {
		t.Fatalf("apply: %v", got)
	}

	waitMode(t, f, ip, "configured")

	st := f.Status().Node(ip)
	if st.ApplyCount != 1 || st.LastApplyMode != "REBOOT" || st.ClusterID != demo.bundle.Cluster.ID || st.ConfigHash == "" {
		t.Fatalf("status %+v", st)
	}

	if _, err = insecure(t, ip).Version(ctx(t), &emptypb.Empty{}); err == nil {
		t.Fatal("configured node answered without a client certificate")
	}

	v, err := demo.client(t, ip).Version(ctx(t), &emptypb.Empty{})
	if err != nil {
		t.Fatal(err)
	}

	if v.Messages[0].Features == nil || !v.Messages[0].Features.Rbac {
		t.Fatalf("features %v", v.Messages[0].Features)
	}
}

func TestApplyConfigured(t *testing.T) {
	const ip = "127.77.3.1"

	demo := newCluster(t, "demo")
	cfg := demo.config(t, machinetype.TypeControlPlane)
	f := startFleet(t, fleet.NodeSpec{IP: ip, Role: "controlplane", Mode: talosmode.Metal, Preconfigured: cfg})
	c := demo.client(t, ip)

	dry, err := c.ApplyConfiguration(ctx(t), &machine.ApplyConfigurationRequest{Data: cfg, Mode: machine.ApplyConfigurationRequest_AUTO, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}

	want := "Dry run summary:\nApplied configuration without a reboot (skipped in dry-run).\nConfig diff:\n\nNo changes."
	if got := dry.Messages[0].ModeDetails; got != want {
		t.Fatalf("dry run %q", got)
	}

	changed := strings.Replace(string(cfg), "machine:\n", "machine:\n    env:\n        FOO: bar\n", 1)

	dry, err = c.ApplyConfiguration(ctx(t), &machine.ApplyConfigurationRequest{Data: []byte(changed), Mode: machine.ApplyConfigurationRequest_AUTO, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}

	if got := dry.Messages[0]; got.Mode != machine.ApplyConfigurationRequest_REBOOT ||
		!strings.HasPrefix(got.ModeDetails, "Dry run summary:\nApplied configuration with a reboot (skipped in dry-run).\nConfig diff:\n\n") ||
		!strings.Contains(got.ModeDetails, "+    env:") {
		t.Fatalf("dry run %v %q", got.Mode, got.ModeDetails)
	}

	_, err = c.ApplyConfiguration(ctx(t), &machine.ApplyConfigurationRequest{Data: []byte(changed), Mode: machine.ApplyConfigurationRequest_NO_REBOOT})
	wantStatusContaining(t, err, codes.InvalidArgument, "this config change can't be applied in immediate mode\ndiff:\n")

	_, err = demo.client(t, ip, role.Reader).ApplyConfiguration(ctx(t), &machine.ApplyConfigurationRequest{Data: cfg})
	wantStatus(t, err, codes.PermissionDenied, "not authorized")

	resp, err := c.ApplyConfiguration(ctx(t), &machine.ApplyConfigurationRequest{Data: []byte(changed), Mode: machine.ApplyConfigurationRequest_AUTO})
	if err != nil {
		t.Fatal(err)
	}

	if got := resp.Messages[0]; got.Mode != machine.ApplyConfigurationRequest_REBOOT ||
		!strings.HasPrefix(got.ModeDetails, "Applied configuration with a reboot: this config change can't be applied in immediate mode\ndiff:\n") {
		t.Fatalf("apply %v %q", got.Mode, got.ModeDetails)
	}

	waitMode(t, f, ip, "rebooting")
	waitMode(t, f, ip, "configured")

	if st := f.Status().Node(ip); st.LastApplyMode != "AUTO" || st.ApplyCount != 1 {
		t.Fatalf("status %+v", st)
	}
}

func TestBootstrapAndEtcd(t *testing.T) {
	demo := newCluster(t, "demo")
	cp := demo.config(t, machinetype.TypeControlPlane)
	worker := demo.config(t, machinetype.TypeWorker)

	f := startFleet(t,
		fleet.NodeSpec{IP: "127.77.4.1", Role: "controlplane", Mode: talosmode.Metal, Preconfigured: cp},
		fleet.NodeSpec{IP: "127.77.4.2", Role: "controlplane", Mode: talosmode.Metal, Preconfigured: cp},
		fleet.NodeSpec{IP: "127.77.4.3", Role: "worker", Mode: talosmode.Metal, Preconfigured: worker},
	)

	cp1, cp2 := demo.client(t, "127.77.4.1"), demo.client(t, "127.77.4.2")

	_, err := cp1.EtcdMemberList(ctx(t), &machine.EtcdMemberListRequest{})
	wantStatus(t, err, codes.Unknown, "no controlplane endpoints discovered yet")

	_, err = cp1.EtcdMemberList(ctx(t), &machine.EtcdMemberListRequest{QueryLocal: true})
	wantStatus(t, err, codes.DeadlineExceeded, "error building etcd client: context deadline exceeded")

	_, err = demo.client(t, "127.77.4.3").Bootstrap(ctx(t), &machine.BootstrapRequest{})
	wantStatus(t, err, codes.Unimplemented, "bootstrap is only available on control plane nodes")

	if _, err = cp1.Bootstrap(ctx(t), &machine.BootstrapRequest{}); err != nil {
		t.Fatal(err)
	}

	_, err = cp2.Bootstrap(ctx(t), &machine.BootstrapRequest{})
	wantStatus(t, err, codes.AlreadyExists, "etcd data directory is not empty")

	members, err := cp2.EtcdMemberList(ctx(t), &machine.EtcdMemberListRequest{})
	if err != nil {
		t.Fatal(err)
	}

	if got := members.Messages[0].Members; len(got) != 2 || got[0].ClientUrls[0] != "https://127.77.4.1:2379" {
		t.Fatalf("members %v", got)
	}

	services, err := cp1.ServiceList(ctx(t), &emptypb.Empty{})
	if err != nil {
		t.Fatal(err)
	}

	var ids []string
	for _, s := range services.Messages[0].Services {
		ids = append(ids, s.Id+"="+s.State)
	}

	if strings.Join(ids, " ") != "apid=Running etcd=Running kubelet=Running machined=Running trustd=Running" {
		t.Fatalf("services %v", ids)
	}

	if st := f.Status().Node("127.77.4.1"); st.BootstrapCount != 1 || !st.Bootstrapped || st.Calls["Bootstrap"] != 1 {
		t.Fatalf("status %+v", st)
	}

	// Reset the control planes: the cluster's etcd is gone.
	for _, ip := range []string{"127.77.4.1", "127.77.4.2"} {
		if _, err = demo.client(t, ip).Reset(ctx(t), &machine.ResetRequest{Reboot: true}); err != nil {
			t.Fatal(err)
		}

		waitMode(t, f, ip, "maintenance")
	}

	if f.Status().Node("127.77.4.3").Bootstrapped {
		t.Fatal("cluster still bootstrapped")
	}
}

func TestNodesMetadata(t *testing.T) {
	demo, other := newCluster(t, "demo"), newCluster(t, "other")
	cp := demo.config(t, machinetype.TypeControlPlane)

	startFleet(t,
		fleet.NodeSpec{IP: "127.77.5.1", Role: "controlplane", Mode: talosmode.Metal, Preconfigured: cp},
		fleet.NodeSpec{IP: "127.77.5.2", Role: "worker", Mode: talosmode.Metal, Preconfigured: demo.config(t, machinetype.TypeWorker)},
		fleet.NodeSpec{IP: "127.77.5.3", Role: "worker", Mode: talosmode.Metal},
		fleet.NodeSpec{IP: "127.77.5.4", Role: "controlplane", Mode: talosmode.Metal, Preconfigured: other.config(t, machinetype.TypeControlPlane)},
	)

	c := demo.client(t, "127.77.5.1")
	nodes := client.WithNodes(ctx(t), "127.77.5.1", "127.77.5.2", "127.77.5.3", "127.77.5.4", "127.77.5.99")

	v, err := c.Version(nodes, &emptypb.Empty{})
	if err != nil {
		t.Fatal(err)
	}

	tlsErr := "rpc error: code = Unavailable desc = connection error: desc = \"transport: authentication handshake failed: tls: failed to verify certificate: x509: certificate signed by unknown authority\""
	want := []struct{ host, err string }{
		{"127.77.5.1", ""},
		{"127.77.5.2", ""},
		{"127.77.5.3", tlsErr},
		{"127.77.5.4", tlsErr},
		{"127.77.5.99", "rpc error: code = Unavailable desc = connection error: desc = \"transport: Error while dialing: dial tcp 127.77.5.99:50000: connect: connection refused\""},
	}

	if len(v.Messages) != len(want) {
		t.Fatalf("%d messages", len(v.Messages))
	}

	for i, w := range want {
		md := v.Messages[i].Metadata
		if md.Hostname != w.host || md.Error != w.err || (w.err == "") != (v.Messages[i].Version != nil) {
			t.Fatalf("message %d: %v", i, v.Messages[i])
		}
	}

	_, err = c.Version(client.WithNodes(ctx(t), "127.77.5.2:50000"), &emptypb.Empty{})
	wantStatus(t, err, codes.Internal, `invalid target "127.77.5.2:50000"`)

	// Per-node denials come back in metadata; the call itself succeeds.
	b, err := demo.client(t, "127.77.5.1", role.Reader).Bootstrap(client.WithNodes(ctx(t), "127.77.5.1"), &machine.BootstrapRequest{})
	if err != nil || b.Messages[0].Metadata.Error != "rpc error: code = PermissionDenied desc = not authorized" {
		t.Fatalf("bootstrap %v %v", b, err)
	}

	// Talos's own client reads the fan-out of a streaming call.
	talos, err := client.New(ctx(t), client.WithConfig(talosconfig(t, demo, "127.77.5.1")))
	if err != nil {
		t.Fatal(err)
	}

	defer talos.Close() //nolint:errcheck

	kubeconfig, err := talos.Kubeconfig(client.WithNodes(ctx(t), "127.77.5.1"))
	if err != nil {
		t.Fatal(err)
	}

	var parsed struct {
		CurrentContext string `yaml:"current-context"`
		Clusters       []struct {
			Cluster map[string]string `yaml:"cluster"`
		} `yaml:"clusters"`
	}

	if err = yaml.Unmarshal(kubeconfig, &parsed); err != nil || parsed.CurrentContext != "admin@demo" || parsed.Clusters[0].Cluster["server"] != "https://10.9.9.9:6443" {
		t.Fatalf("kubeconfig %s %v", kubeconfig, err)
	}
}

func talosconfig(t *testing.T, c *cluster, endpoint string) *clientconfig.Config {
	t.Helper()

	pem, err := c.bundle.GenerateTalosAPIClientCertificate(role.MakeSet(role.Admin))
	if err != nil {
		t.Fatal(err)
	}

	return clientconfig.NewConfig(c.name, []string{endpoint}, c.bundle.Certs.OS.Crt, pem)
}

func TestClientCertificates(t *testing.T) {
	const ip = "127.77.6.1"

	demo, other := newCluster(t, "demo"), newCluster(t, "other")
	startFleet(t, fleet.NodeSpec{IP: ip, Role: "controlplane", Mode: talosmode.Metal, Preconfigured: demo.config(t, machinetype.TypeControlPlane)})

	if _, err := demo.client(t, ip, role.Reader).Version(ctx(t), &emptypb.Empty{}); err != nil {
		t.Fatal(err)
	}

	_, err := demo.client(t, ip, "hybridctl:nobody").Version(ctx(t), &emptypb.Empty{})
	wantStatus(t, err, codes.PermissionDenied, "not authorized")

	foreign := dial(t, ip, &tls.Config{RootCAs: demo.caPool(), Certificates: []tls.Certificate{other.clientCert(t, role.Admin)}})
	_, err = foreign.Version(ctx(t), &emptypb.Empty{})
	wantStatus(t, err, codes.Unavailable, "")
}

func TestStatusEndpoint(t *testing.T) {
	const ip = "127.77.7.1"

	f := startFleet(t, fleet.NodeSpec{IP: ip, Role: "worker", Mode: talosmode.Cloud})
	srv := httptest.NewServer(f.Handler())
	t.Cleanup(srv.Close)

	resp, err := http.Post(srv.URL+"/fail?ip="+ip+"&method=Version&count=2", "", nil)
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("fail: %v %v", resp, err)
	}

	c := insecure(t, ip)
	for range 2 {
		_, err = c.Version(ctx(t), &emptypb.Empty{})
		wantStatus(t, err, codes.Unavailable, "")
	}

	v, err := c.Version(ctx(t), &emptypb.Empty{})
	if err != nil || v.Messages[0].Platform.Mode != "cloud" {
		t.Fatalf("version %v %v", v, err)
	}

	resp, err = http.Get(srv.URL + "/status")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("status: %v %v", resp, err)
	}

	resp.Body.Close() //nolint:errcheck
}
