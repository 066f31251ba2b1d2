package fleet_test

import (
	"strings"
	"testing"
	"time"

	"github.com/siderolabs/talos/pkg/machinery/api/machine"
	machinetype "github.com/siderolabs/talos/pkg/machinery/config/machine"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/emptypb"

	"hybridctl.dev/test/talos/internal/fleet"
	"hybridctl.dev/test/talos/internal/talosmode"
)

// A worker gets its API certificate from a control plane (trustd): until one
// of its cluster is configured, its API does not listen.
func TestWorkerWaitsForControlPlane(t *testing.T) {
	demo := newCluster(t, "demo")
	f := startFleet(t,
		fleet.NodeSpec{IP: "127.77.8.1", Role: "controlplane", Mode: talosmode.Metal},
		fleet.NodeSpec{IP: "127.77.8.2", Role: "worker", Mode: talosmode.Metal, Preconfigured: demo.config(t, machinetype.TypeWorker)},
	)

	if st := f.Status().Node("127.77.8.2"); st.Mode != "configured" || st.Listening {
		t.Fatalf("worker %+v", st)
	}

	_, err := insecure(t, "127.77.8.1").ApplyConfiguration(ctx(t), &machine.ApplyConfigurationRequest{Data: demo.config(t, machinetype.TypeControlPlane)})
	if err != nil {
		t.Fatal(err)
	}

	waitMode(t, f, "127.77.8.1", "configured")

	deadline := time.Now().Add(5 * time.Second)
	for !f.Status().Node("127.77.8.2").Listening && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}

	if _, err = demo.client(t, "127.77.8.2").Version(ctx(t), &emptypb.Empty{}); err != nil {
		t.Fatal(err)
	}
}

func TestStagedTryAndReboot(t *testing.T) {
	const ip = "127.77.8.5"

	demo := newCluster(t, "demo")
	cfg := demo.config(t, machinetype.TypeControlPlane)
	f := startFleet(t, fleet.NodeSpec{IP: ip, Role: "controlplane", Mode: talosmode.Metal, Preconfigured: cfg})
	c := demo.client(t, ip)
	before := f.Status().Node(ip).ConfigHash

	changed := []byte(strings.Replace(string(cfg), "kind: HostnameConfig\nauto: stable\n", "kind: HostnameConfig\nhostname: cp-1\n", 1))

	resp, err := c.ApplyConfiguration(ctx(t), &machine.ApplyConfigurationRequest{Data: changed, Mode: machine.ApplyConfigurationRequest_TRY, TryModeTimeout: durationpb.New(200 * time.Millisecond)})
	if err != nil {
		t.Fatal(err)
	}

	if got := resp.Messages[0].ModeDetails; got != "Applied configuration without a reboot\nThe config is applied in 'try' mode and will be automatically reverted back in 200ms" {
		t.Fatalf("try: %q", got)
	}

	if f.Status().Node(ip).ConfigHash == before {
		t.Fatal("try did not apply")
	}

	time.Sleep(400 * time.Millisecond)

	if f.Status().Node(ip).ConfigHash != before {
		t.Fatal("try was not reverted")
	}

	resp, err = c.ApplyConfiguration(ctx(t), &machine.ApplyConfigurationRequest{Data: changed, Mode: machine.ApplyConfigurationRequest_STAGED})
	if err != nil || resp.Messages[0].ModeDetails != "Staged configuration to be applied after the next reboot" {
		t.Fatalf("staged: %v %v", resp, err)
	}

	if _, err = c.Reboot(ctx(t), &machine.RebootRequest{}); err != nil {
		t.Fatal(err)
	}

	waitMode(t, f, ip, "rebooting")
	waitMode(t, f, ip, "configured")

	if st := f.Status().Node(ip); st.ConfigHash == before || st.StagedConfig {
		t.Fatalf("staged config not active after reboot: %+v", st)
	}
}

func TestContainerModeCannotReboot(t *testing.T) {
	const ip = "127.77.8.9"

	demo := newCluster(t, "demo")
	startFleet(t, fleet.NodeSpec{IP: ip, Role: "controlplane", Mode: talosmode.Container, Preconfigured: demo.config(t, machinetype.TypeControlPlane)})

	_, err := demo.client(t, ip).Reboot(ctx(t), &machine.RebootRequest{})
	wantStatus(t, err, codes.FailedPrecondition, "method is not supported in container mode")
}
