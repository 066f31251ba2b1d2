package fleet_test

import (
	"slices"
	"testing"

	machinetype "github.com/siderolabs/talos/pkg/machinery/config/machine"
	"github.com/siderolabs/talos/pkg/machinery/role"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/emptypb"

	"hybridctl.dev/test/talos/internal/fleet"
	"hybridctl.dev/test/talos/internal/talosmode"
)

func TestNetworkDeviceStats(t *testing.T) {
	const (
		gateway = "127.77.31.1"
		plain   = "127.77.31.2"
	)

	demo := newCluster(t, "demo")
	startFleet(t,
		fleet.NodeSpec{IP: gateway, Role: "controlplane", Mode: talosmode.Metal, Preconfigured: gatewayConfig(t, demo)},
		fleet.NodeSpec{IP: plain, Role: "controlplane", Mode: talosmode.Metal, Preconfigured: demo.config(t, machinetype.TypeControlPlane)},
	)

	resp, err := demo.client(t, gateway, role.Reader).NetworkDeviceStats(ctx(t), &emptypb.Empty{})
	if err != nil {
		t.Fatal(err)
	}

	stats := resp.Messages[0]

	var names []string
	for _, dev := range stats.Devices {
		names = append(names, dev.Name)
	}

	if !slices.Equal(names, []string{"lo", "eth0", "wg0"}) || stats.Total.Name != "eth0, lo, wg0" || stats.Total.RxBytes != 0 {
		t.Fatalf("stats %v", stats)
	}

	// One message per node through `nodes`, stamped with its name.
	both := metadata.AppendToOutgoingContext(ctx(t), "nodes", gateway, "nodes", plain)

	resp, err = demo.client(t, gateway, role.Reader).NetworkDeviceStats(both, &emptypb.Empty{})
	if err != nil {
		t.Fatal(err)
	}

	if len(resp.Messages) != 2 || resp.Messages[1].Metadata.Hostname != plain || resp.Messages[1].Total.Name != "eth0, lo" {
		t.Fatalf("fanned out %v", resp.Messages)
	}

	_, err = demo.client(t, gateway, role.EtcdBackup).NetworkDeviceStats(ctx(t), &emptypb.Empty{})
	wantStatus(t, err, codes.PermissionDenied, "not authorized")
}
