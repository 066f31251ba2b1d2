package fleet_test

import (
	"strings"
	"testing"
	"time"

	"github.com/siderolabs/talos/pkg/machinery/api/machine"
	machinetype "github.com/siderolabs/talos/pkg/machinery/config/machine"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/emptypb"

	"hybridctl.dev/test/talos/internal/fleet"
	"hybridctl.dev/test/talos/internal/talosmode"
)

func waitStatus(t *testing.T, f *fleet.Fleet, name string, ok func(fleet.NodeStatus) bool) fleet.NodeStatus {
	t.Helper()

	deadline := time.Now().Add(10 * time.Second)
	for {
		st := f.Status().Node(name)
		if ok(st) {
			return st
		}

		if time.Now().After(deadline) {
			t.Fatalf("node %s: %+v", name, st)
		}

		time.Sleep(10 * time.Millisecond)
	}
}

// A WireguardConfig without a DHCPv4Config for eth0 turns Talos's default
// DHCP off: a metal node addressed by DHCP drops off the network. A TRY apply
// reverts, and the node comes back.
func TestApplyThatLosesTheAddress(t *testing.T) {
	const (
		metal = "127.77.32.1"
		cloud = "127.77.32.2"
	)

	demo := newCluster(t, "demo")
	cfg := demo.config(t, machinetype.TypeControlPlane)
	f := startFleet(t,
		fleet.NodeSpec{IP: metal, Role: "controlplane", Mode: talosmode.Metal, Preconfigured: cfg},
		fleet.NodeSpec{IP: cloud, Role: "controlplane", Mode: talosmode.Cloud, Preconfigured: cfg},
	)

	cutOff := withDocs(cfg, wireguardDoc("wg0", keyA, 51820, "10.200.0.1/24", nil))

	// AWS's platform DHCP on eth0 does not depend on the machine config.
	if _, err := demo.client(t, cloud).ApplyConfiguration(ctx(t), &machine.ApplyConfigurationRequest{Data: cutOff, Mode: machine.ApplyConfigurationRequest_NO_REBOOT}); err != nil {
		t.Fatal(err)
	}

	if st := f.Status().Node(cloud); st.LostAddress != "" || !st.Listening || len(st.Links) != 1 || st.Links[0] != "wg0" {
		t.Fatalf("cloud node %+v", st)
	}

	// The apply answers; then the node is gone.
	resp, err := demo.client(t, metal).ApplyConfiguration(ctx(t), &machine.ApplyConfigurationRequest{
		Data: cutOff, Mode: machine.ApplyConfigurationRequest_TRY, TryModeTimeout: durationpb.New(time.Second),
	})
	if err != nil {
		t.Fatal(err)
	}

	if resp.Messages[0].Mode != machine.ApplyConfigurationRequest_TRY {
		t.Fatalf("apply %v", resp)
	}

	st := waitStatus(t, f, metal, func(st fleet.NodeStatus) bool { return !st.Listening })
	if st.Mode != "configured" || !strings.Contains(st.LostAddress, "WireguardConfig/wg0") || !strings.Contains(st.LostAddress, "DHCPv4Config") {
		t.Fatalf("cut off %+v", st)
	}

	// Gone: refused, or reset when the call raced the listener's close.
	_, err = demo.client(t, metal).Version(ctx(t), &emptypb.Empty{})
	if st, _ := status.FromError(err); st.Code() != codes.Unavailable || !(strings.Contains(st.Message(), "connection refused") || strings.Contains(st.Message(), "connection reset")) {
		t.Fatalf("got %v, want Unavailable: connection refused or reset", err)
	}

	st = waitStatus(t, f, metal, func(st fleet.NodeStatus) bool { return st.Listening })
	if st.LostAddress != "" {
		t.Fatalf("reverted %+v", st)
	}

	// With a DHCPv4Config for eth0 the same link is fine.
	kept := withDocs(cfg, wireguardDoc("wg0", keyA, 51820, "10.200.0.1/24", nil), dhcp4Doc("eth0"))

	if _, err = demo.client(t, metal).ApplyConfiguration(ctx(t), &machine.ApplyConfigurationRequest{Data: kept, Mode: machine.ApplyConfigurationRequest_NO_REBOOT}); err != nil {
		t.Fatal(err)
	}

	if st = f.Status().Node(metal); st.LostAddress != "" || !st.Listening || len(st.Links) != 1 {
		t.Fatalf("kept %+v", st)
	}
}
