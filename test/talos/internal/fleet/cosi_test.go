package fleet_test

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cosi-project/runtime/api/v1alpha1"
	"github.com/cosi-project/runtime/pkg/resource"
	"github.com/cosi-project/runtime/pkg/resource/meta"
	"github.com/cosi-project/runtime/pkg/safe"
	machinetype "github.com/siderolabs/talos/pkg/machinery/config/machine"
	"github.com/siderolabs/talos/pkg/machinery/nethelpers"
	"github.com/siderolabs/talos/pkg/machinery/resources/network"
	"github.com/siderolabs/talos/pkg/machinery/role"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"

	"hybridctl.dev/test/talos/internal/fleet"
	"hybridctl.dev/test/talos/internal/talosmode"
)

// gatewayConfig is a control plane config with a WireGuard link to a peer
// and DHCP kept on eth0.
func gatewayConfig(t *testing.T, c *cluster) []byte {
	t.Helper()

	wg := wireguardDoc("wg0", keyA, 51820, "10.200.0.1/24", []string{"10.201.0.0/16"},
		wgPeer{publicKey: pubB, endpoint: "192.0.2.2:51820", keepalive: "25s", allowed: []string{"10.200.0.2/32", "10.201.0.0/16"}})

	return withDocs(c.config(t, machinetype.TypeControlPlane), wg, dhcp4Doc("eth0"))
}

func ids[T resource.Resource](list safe.List[T]) []string {
	var out []string
	for r := range list.All() {
		out = append(out, r.Metadata().ID())
	}

	return out
}

func TestResourceAPI(t *testing.T) {
	const ip = "127.77.30.1"

	demo := newCluster(t, "demo")
	startFleet(t, fleet.NodeSpec{IP: ip, Role: "controlplane", Mode: talosmode.Metal, Preconfigured: gatewayConfig(t, demo)})

	conn := dialConn(t, ip, demo.tlsConfig(t, role.Reader))
	st := cosiState(conn)

	links, err := safe.StateListAll[*network.LinkStatus](ctx(t), st)
	if err != nil {
		t.Fatal(err)
	}

	if got := ids(links); !slices.Equal(got, []string{"eth0", "lo", "wg0"}) {
		t.Fatalf("links %v", got)
	}

	wg, err := safe.StateGetByID[*network.LinkStatus](ctx(t), st, "wg0")
	if err != nil {
		t.Fatal(err)
	}

	spec := wg.TypedSpec()
	if spec.Kind != "wireguard" || spec.Type != nethelpers.LinkNone || spec.OperationalState != nethelpers.OperStateUnknown || spec.MTU != 1420 {
		t.Fatalf("wg0 %+v", spec)
	}

	wantPeer := network.WireguardPeer{
		PublicKey:                   pubB,
		Endpoint:                    "192.0.2.2:51820",
		PersistentKeepaliveInterval: 25 * time.Second,
		AllowedIPs:                  []netip.Prefix{netip.MustParsePrefix("10.200.0.2/32"), netip.MustParsePrefix("10.201.0.0/16")},
	}

	if w := spec.Wireguard; w.PublicKey != pubA || w.ListenPort != 51820 || len(w.Peers) != 1 || !w.Peers[0].Equal(&wantPeer) {
		t.Fatalf("wg0 wireguard %+v", w)
	}

	eth0, err := safe.StateGetByID[*network.LinkStatus](ctx(t), st, "eth0")
	if err != nil {
		t.Fatal(err)
	}

	if !eth0.TypedSpec().Physical() || eth0.TypedSpec().OperationalState != nethelpers.OperStateUp || len(eth0.TypedSpec().HardwareAddr) != 6 {
		t.Fatalf("eth0 %+v", eth0.TypedSpec())
	}

	// On the wire: cosi's protobuf server, owner, YAML and proto specs.
	raw, err := v1alpha1.NewStateClient(conn).Get(ctx(t), &v1alpha1.GetRequest{Namespace: "network", Type: network.LinkStatusType, Id: "wg0"})
	if err != nil {
		t.Fatal(err)
	}

	md, yamlSpec := raw.GetResource().GetMetadata(), raw.GetResource().GetSpec().GetYamlSpec()
	if md.GetOwner() != "network.LinkStatusController" || md.GetType() != "LinkStatuses.net.talos.dev" || md.GetPhase() != "running" ||
		len(raw.GetResource().GetSpec().GetProtoSpec()) == 0 {
		t.Fatalf("metadata %v", md)
	}

	for _, want := range []string{"type: nohdr\n", "kind: wireguard\n", "operationalState: unknown\n", "publicKey: " + pubA, "endpoint: 192.0.2.2:51820", "persistentKeepaliveInterval: 25s"} {
		if !strings.Contains(yamlSpec, want) {
			t.Fatalf("YAML spec lacks %q:\n%s", want, yamlSpec)
		}
	}

	t.Logf("LinkStatus wg0 YAML spec:\n%s", yamlSpec)

	// Merged address specs: the node's DHCP address (operator), the WireGuard link's (configuration).
	specs, err := safe.StateListAll[*network.AddressSpec](ctx(t), st)
	if err != nil {
		t.Fatal(err)
	}

	layers := map[string]network.ConfigLayer{}
	for r := range specs.All() {
		layers[r.Metadata().ID()] = r.TypedSpec().ConfigLayer
	}

	if layers["eth0/127.77.30.1/24"] != network.ConfigOperator || layers["wg0/10.200.0.1/24"] != network.ConfigMachineConfiguration ||
		layers["lo/127.0.0.1/8"] != network.ConfigDefault || len(layers) != 3 {
		t.Fatalf("address specs %v", layers)
	}

	rawSpec, err := v1alpha1.NewStateClient(conn).Get(ctx(t), &v1alpha1.GetRequest{Namespace: "network", Type: network.AddressSpecType, Id: "eth0/127.77.30.1/24"})
	if err != nil {
		t.Fatal(err)
	}

	t.Logf("AddressSpec eth0/127.77.30.1/24 YAML spec:\n%s", rawSpec.GetResource().GetSpec().GetYamlSpec())

	addresses, err := safe.StateListAll[*network.AddressStatus](ctx(t), st)
	if err != nil {
		t.Fatal(err)
	}

	if got := ids(addresses); !slices.Contains(got, "eth0/127.77.30.1/24") || !slices.Contains(got, "wg0/10.200.0.1/24") {
		t.Fatalf("addresses %v", got)
	}

	routes, err := safe.StateListAll[*network.RouteStatus](ctx(t), st)
	if err != nil {
		t.Fatal(err)
	}

	if got := ids(routes); !slices.Equal(got, []string{"inet4//10.201.0.0/16/1024"}) {
		t.Fatalf("routes %v", got)
	}

	// Resource definitions, so clients resolve "links" as talosctl does.
	rds, err := safe.StateListAll[*meta.ResourceDefinition](ctx(t), st)
	if err != nil {
		t.Fatal(err)
	}

	if got := ids(rds); !slices.Contains(got, "linkstatuses.net.talos.dev") || !slices.Contains(got, "addressspecs.net.talos.dev") {
		t.Fatalf("resource definitions %v", got)
	}
}

func TestResourceAPIErrors(t *testing.T) {
	const ip = "127.77.30.2"

	demo := newCluster(t, "demo")
	startFleet(t, fleet.NodeSpec{IP: ip, Role: "controlplane", Mode: talosmode.Metal, Preconfigured: gatewayConfig(t, demo)})

	admin := v1alpha1.NewStateClient(dialConn(t, ip, demo.tlsConfig(t)))

	_, err := admin.Get(ctx(t), &v1alpha1.GetRequest{Namespace: "network", Type: network.LinkStatusType, Id: "wg9"})
	wantStatusContaining(t, err, codes.NotFound, "doesn't exist")

	_, err = admin.Destroy(ctx(t), &v1alpha1.DestroyRequest{Namespace: "network", Type: network.LinkStatusType, Id: "wg0"})
	wantStatus(t, err, codes.PermissionDenied, "write access is not allowed")

	_, err = admin.Get(ctx(t), &v1alpha1.GetRequest{Namespace: "runtime", Type: "ExtensionStatuses.runtime.talos.dev", Id: "0"})
	wantStatus(t, err, codes.PermissionDenied, `resource type "ExtensionStatuses.runtime.talos.dev" is not supported`)

	// The machine's stage, as machined reports it: running, ready.
	got, err := admin.Get(ctx(t), &v1alpha1.GetRequest{Namespace: "runtime", Type: "MachineStatuses.runtime.talos.dev", Id: "machine"})
	if err != nil {
		t.Fatalf("machine status: %v", err)
	}
	if spec := got.GetResource().GetSpec().GetYamlSpec(); !strings.Contains(spec, "stage: running") || !strings.Contains(spec, "ready: true") {
		t.Fatalf("machine status spec = %q, want stage running and ready", spec)
	}

	_, err = admin.Get(ctx(t), &v1alpha1.GetRequest{Namespace: "nope", Type: network.LinkStatusType, Id: "wg0"})
	wantStatus(t, err, codes.PermissionDenied, `namespace "nope" is not supported`)

	watch, err := admin.Watch(ctx(t), &v1alpha1.WatchRequest{Namespace: "network", Type: network.LinkStatusType})
	if err == nil {
		_, err = watch.Recv()
	}

	wantStatusContaining(t, err, codes.Unimplemented, "Watch")

	// Reading needs os:reader or more.
	backup := v1alpha1.NewStateClient(dialConn(t, ip, demo.tlsConfig(t, role.EtcdBackup)))

	_, err = backup.Get(ctx(t), &v1alpha1.GetRequest{Namespace: "network", Type: network.LinkStatusType, Id: "wg0"})
	wantStatus(t, err, codes.PermissionDenied, "not authorized")

	reader := v1alpha1.NewStateClient(dialConn(t, ip, demo.tlsConfig(t, role.Reader)))

	_, err = reader.Create(ctx(t), &v1alpha1.CreateRequest{})
	wantStatus(t, err, codes.PermissionDenied, "not authorized")
}

// In maintenance mode anyone may read network resources (talosctl get links --insecure).
func TestResourceAPIMaintenance(t *testing.T) {
	const ip = "127.77.30.3"

	startFleet(t, fleet.NodeSpec{IP: ip, Role: "controlplane", Mode: talosmode.Metal})

	st := cosiState(dialConn(t, ip, insecureTLS()))

	links, err := safe.StateListAll[*network.LinkStatus](ctx(t), st)
	if err != nil {
		t.Fatal(err)
	}

	if got := ids(links); !slices.Equal(got, []string{"eth0", "lo"}) {
		t.Fatalf("links %v", got)
	}

	spec, err := safe.StateGetByID[*network.AddressSpec](ctx(t), st, "eth0/127.77.30.3/24")
	if err != nil {
		t.Fatal(err)
	}

	if spec.TypedSpec().ConfigLayer != network.ConfigOperator || spec.TypedSpec().Priority != 1024 {
		t.Fatalf("spec %+v", spec.TypedSpec())
	}
}

// `node` metadata sends a read to another node; `nodes` is MachineService-only.
func TestResourceAPIRouting(t *testing.T) {
	const (
		gateway = "127.77.30.4"
		other   = "127.77.30.5"
	)

	demo := newCluster(t, "demo")
	otherCfg := withDocs(demo.config(t, machinetype.TypeWorker), wireguardDoc("wg1", keyC, 0, "10.202.0.1/24", nil), dhcp4Doc("ens5"))

	f := startFleet(t,
		fleet.NodeSpec{IP: gateway, Role: "controlplane", Mode: talosmode.Metal, Preconfigured: gatewayConfig(t, demo)},
		fleet.NodeSpec{IP: other, Role: "worker", Mode: talosmode.Metal, Preconfigured: otherCfg, Link: "ens5", Prefix: 20, Address: "static"},
	)
	waitListening(t, f, other)

	conn := dialConn(t, gateway, demo.tlsConfig(t, role.Reader))
	st := cosiState(conn)

	toOther := metadata.AppendToOutgoingContext(ctx(t), "node", other)

	links, err := safe.StateListAll[*network.LinkStatus](toOther, st)
	if err != nil {
		t.Fatal(err)
	}

	if got := ids(links); !slices.Equal(got, []string{"ens5", "lo", "wg1"}) {
		t.Fatalf("other's links %v", got)
	}

	spec, err := safe.StateGetByID[*network.AddressSpec](toOther, st, "ens5/127.77.30.5/20")
	if err != nil {
		t.Fatal(err)
	}

	if spec.TypedSpec().ConfigLayer != network.ConfigCmdline {
		t.Fatalf("static address %+v", spec.TypedSpec())
	}

	wg1, err := safe.StateGetByID[*network.LinkStatus](toOther, st, "wg1")
	if err != nil {
		t.Fatal(err)
	}

	if w := wg1.TypedSpec().Wireguard; w.PublicKey != pubC || len(w.Peers) != 0 {
		t.Fatalf("wg1 %+v", w)
	}

	toBoth := metadata.AppendToOutgoingContext(ctx(t), "nodes", gateway, "nodes", other)

	_, err = safe.StateListAll[*network.LinkStatus](toBoth, st)
	wantStatus(t, err, codes.InvalidArgument, "one-2-many proxying is not supported for method /cosi.resource.State/List")

	// Failure injection and call counts name COSI methods SERVICE/METHOD.
	if err = f.Fail(other, "cosi.resource.State/Get", 1); err != nil {
		t.Fatal(err)
	}

	_, err = safe.StateGetByID[*network.LinkStatus](toOther, st, "wg1")
	wantStatus(t, err, codes.Unavailable, "injected failure of cosi.resource.State/Get on "+other)

	if calls := f.Status().Node(other).Calls; calls["cosi.resource.State/List"] != 1 || calls["cosi.resource.State/Get"] != 2 || calls["List"] != 0 {
		t.Fatalf("calls %v", calls)
	}
}
