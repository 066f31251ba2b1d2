package fleet_test

import (
	"errors"
	"fmt"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cosi-project/runtime/pkg/safe"
	"github.com/siderolabs/talos/pkg/machinery/api/machine"
	machinetype "github.com/siderolabs/talos/pkg/machinery/config/machine"
	"github.com/siderolabs/talos/pkg/machinery/nethelpers"
	"github.com/siderolabs/talos/pkg/machinery/resources/network"
	"github.com/siderolabs/talos/pkg/machinery/role"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/emptypb"

	"hybridctl.dev/test/talos/internal/fleet"
	"hybridctl.dev/test/talos/internal/talosmode"
)

// Two sites in two namespaces joined by a veth (eth0 on each side). Site A
// is a --node node listening inside its namespace, site B an instance added
// through the API (listening on loopback in the fleet's namespace, its
// private address 10.99.1.2 on its namespace's lo, routed from A by a
// LinkConfig route). A knows B's endpoint and keeps the tunnel alive; B
// learns A's.
func TestWireguardBetweenNamespaces(t *testing.T) {
	requireNetns(t)

	nsA, nsB := fmt.Sprintf("hwt%da", os.Getpid()), fmt.Sprintf("hwt%db", os.Getpid())

	makeNetns(t, nsA)
	makeNetns(t, nsB)
	sh(t, "ip", "-n", nsA, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0", "netns", nsB)
	sh(t, "ip", "-n", nsA, "addr", "add", "10.99.0.1/24", "dev", "eth0")
	sh(t, "ip", "-n", nsB, "addr", "add", "10.99.0.2/24", "dev", "eth0")
	sh(t, "ip", "-n", nsA, "link", "set", "eth0", "up")
	sh(t, "ip", "-n", nsB, "link", "set", "eth0", "up")

	demo := newCluster(t, "demo")

	cfgA := withDocs(demo.config(t, machinetype.TypeControlPlane),
		wireguardDoc("wg0", keyA, 51820, "10.200.0.1/24", nil,
			wgPeer{publicKey: pubB, endpoint: "10.99.1.2:51821", keepalive: "1s", allowed: []string{"10.200.0.2/32"}}),
		linkConfigDoc("eth0", nil, "10.99.1.0/24=10.99.0.2"),
		dhcp4Doc("eth0"))

	wgB := func(peerKey string) string {
		return wireguardDoc("wg0", keyB, 51821, "10.200.0.2/24", nil, wgPeer{publicKey: peerKey, allowed: []string{"10.200.0.1/32"}})
	}
	cfgB := withDocs(demo.config(t, machinetype.TypeControlPlane), wgB(pubA))

	logs := &logBuffer{}

	f, err := fleet.New(fleet.Options{RebootDelay: rebootDelay, Logger: log.New(logs, "", 0)},
		[]fleet.NodeSpec{{IP: "10.99.0.1", Role: "controlplane", Mode: talosmode.Metal, Preconfigured: cfgA, Netns: nsA}})
	if err != nil {
		t.Fatal(err)
	}

	closed := false
	t.Cleanup(func() {
		if !closed {
			f.Close()
		}

		if t.Failed() || os.Getenv("FLEET_LOG") != "" {
			t.Logf("fleet log:\n%s", logs.String())
		}
	})

	if err = f.Start(); err != nil {
		t.Fatal(err)
	}

	base := statusServer(t, f)
	addNode(t, base, map[string]any{
		"listen": "127.77.33.2", "name": "10.99.1.2", "role": "controlplane", "platform": "cloud",
		"config": string(cfgB), "netns": nsB,
	}, http.StatusCreated)

	for _, name := range []string{"10.99.0.1", "10.99.1.2"} {
		st := waitStatus(t, f, name, func(st fleet.NodeStatus) bool { return len(st.Links) == 1 })
		if st.Links[0] != "wg0" || st.RealiseError != "" || st.LostAddress != "" {
			t.Fatalf("%s %+v", name, st)
		}
	}

	ifaceA, ifaceB := wgIface(t, nsA), wgIface(t, nsB)
	if ifaceA == "" || ifaceB == "" || !strings.HasPrefix(ifaceA, "hw") || len(ifaceA) > 15 {
		t.Fatalf("interfaces %q %q", ifaceA, ifaceB)
	}

	if out := sh(t, "ip", "-n", nsB, "addr", "show", "dev", "lo"); !strings.Contains(out, "10.99.1.2/32") {
		t.Fatalf("B's private address not on its lo:\n%s", out)
	}

	if out := sh(t, "ip", "-n", nsA, "route", "show", "10.99.1.0/24"); !strings.Contains(out, "via 10.99.0.2 dev eth0") || !strings.Contains(out, "metric 1024") {
		t.Fatalf("A's LinkConfig route: %q", out)
	}

	if out := sh(t, "ip", "netns", "exec", nsA, "cat", "/proc/sys/net/ipv4/ip_forward"); strings.TrimSpace(out) != "1" {
		t.Fatalf("ip_forward %q", out)
	}

	eventually(t, 15*time.Second, "handshake", func() error {
		if latestHandshake(t, ifaceA).IsZero() || latestHandshake(t, ifaceB).IsZero() {
			return errors.New("no handshake yet")
		}

		return nil
	})

	eventually(t, 10*time.Second, "TCP from A to B through the tunnel", func() error {
		return tcpAcross(t, nsA, nsB, "10.200.0.2:7777")
	})

	// B, reached on loopback, has learned A's endpoint; A, reached inside its
	// namespace, shows the one configured.
	stB := cosiState(dialConn(t, "127.77.33.2", demo.tlsConfig(t, role.Reader)))

	linkB, err := safe.StateGetByID[*network.LinkStatus](ctx(t), stB, "wg0")
	if err != nil {
		t.Fatal(err)
	}

	if s := linkB.TypedSpec(); s.Kind != "wireguard" || s.OperationalState != nethelpers.OperStateUnknown ||
		s.Wireguard.PublicKey != pubB || s.Wireguard.ListenPort != 51821 || len(s.Wireguard.Peers) != 1 ||
		s.Wireguard.Peers[0].Endpoint != "10.99.0.1:51820" || s.Wireguard.Peers[0].PublicKey != pubA {
		t.Fatalf("B's wg0 %+v", s)
	}

	connA := dialConn(t, "10.99.0.1", demo.tlsConfig(t, role.Reader), grpc.WithContextDialer(dialIn(t, nsA)))
	stA := cosiState(connA)

	linkA, err := safe.StateGetByID[*network.LinkStatus](ctx(t), stA, "wg0")
	if err != nil {
		t.Fatal(err)
	}

	if s := linkA.TypedSpec(); s.Kind != "wireguard" || s.Wireguard.Peers[0].Endpoint != "10.99.1.2:51821" ||
		s.Wireguard.Peers[0].PersistentKeepaliveInterval != time.Second || s.MTU != 1420 {
		t.Fatalf("A's wg0 %+v", s)
	}

	eth0, err := safe.StateGetByID[*network.LinkStatus](ctx(t), stA, "eth0")
	if err != nil {
		t.Fatal(err)
	}

	if !eth0.TypedSpec().Physical() {
		t.Fatalf("A's eth0 %+v", eth0.TypedSpec())
	}

	// The counters are the interfaces' own, and they grow.
	statsB := func() uint64 {
		resp, err := demo.client(t, "127.77.33.2", role.Reader).NetworkDeviceStats(ctx(t), &emptypb.Empty{})
		if err != nil {
			t.Fatal(err)
		}

		for _, dev := range resp.Messages[0].Devices {
			if dev.Name == "wg0" {
				return dev.RxBytes + dev.TxBytes
			}
		}

		t.Fatalf("no wg0 in %v", resp.Messages[0])

		return 0
	}

	before := statsB()
	if before == 0 {
		t.Fatal("no traffic counted on B's wg0")
	}

	if err = tcpAcross(t, nsA, nsB, "10.200.0.2:7778"); err != nil {
		t.Fatal(err)
	}

	if after := statsB(); after <= before {
		t.Fatalf("wg0 counters %d then %d", before, after)
	}

	// An apply that leaves the WireGuard document alone leaves the link alone.
	adminB := demo.client(t, "127.77.33.2")
	handshake := latestHandshake(t, ifaceB)

	withRoute := withDocs(cfgB, linkConfigDoc("eth0", nil, "10.99.9.0/24=10.99.0.1"))
	if _, err = adminB.ApplyConfiguration(ctx(t), &machine.ApplyConfigurationRequest{Data: withRoute, Mode: machine.ApplyConfigurationRequest_NO_REBOOT}); err != nil {
		t.Fatal(err)
	}

	eventually(t, 5*time.Second, "B's LinkConfig route", func() error {
		if out := sh(t, "ip", "-n", nsB, "route", "show", "10.99.9.0/24"); !strings.Contains(out, "via 10.99.0.1") {
			return fmt.Errorf("routes %q", out)
		}

		return nil
	})

	if got := wgIface(t, nsB); got != ifaceB || latestHandshake(t, ifaceB).Before(handshake) {
		t.Fatalf("the link was replaced: %q (was %q)", got, ifaceB)
	}

	// A wrong peer key: B's link comes back anew, and no handshake happens.
	if _, err = adminB.ApplyConfiguration(ctx(t), &machine.ApplyConfigurationRequest{Data: withDocs(cfgBase(cfgB), wgB(pubC)), Mode: machine.ApplyConfigurationRequest_NO_REBOOT}); err != nil {
		t.Fatal(err)
	}

	var newIfaceB string

	eventually(t, 10*time.Second, "B's new link", func() error {
		newIfaceB = wgIface(t, nsB)
		if newIfaceB == "" || newIfaceB == ifaceB {
			return fmt.Errorf("interface %q", newIfaceB)
		}

		if st := f.Status().Node("10.99.1.2"); len(st.Links) != 1 || st.RealiseError != "" {
			return fmt.Errorf("status %+v", st)
		}

		return nil
	})

	time.Sleep(3 * time.Second) // A keeps trying (keepalive 1s, handshake retries every 5s)

	if hs := latestHandshake(t, newIfaceB); !hs.IsZero() {
		t.Fatalf("handshake with a wrong key at %v", hs)
	}

	if err = tcpAcross(t, nsA, nsB, "10.200.0.2:7779"); err == nil {
		t.Fatal("TCP crossed with a wrong key")
	}

	linkB, err = safe.StateGetByID[*network.LinkStatus](ctx(t), stB, "wg0")
	if err != nil {
		t.Fatal(err)
	}

	if p := linkB.TypedSpec().Wireguard.Peers; len(p) != 1 || p[0].PublicKey != pubC || p[0].Endpoint != "" {
		t.Fatalf("B's peers %+v", p)
	}

	// A config without DHCPv4Config for eth0 takes A's address away (Talos
	// stops DHCP); TRY reverts it and A answers again.
	adminA := machine.NewMachineServiceClient(dialConn(t, "10.99.0.1", demo.tlsConfig(t), grpc.WithContextDialer(dialIn(t, nsA))))

	cutOff := withDocs(cfgBase(cfgA), wireguardDoc("wg0", keyA, 51820, "10.200.0.1/24", nil,
		wgPeer{publicKey: pubB, endpoint: "10.99.1.2:51821", keepalive: "1s", allowed: []string{"10.200.0.2/32"}}))
	if _, err = adminA.ApplyConfiguration(ctx(t), &machine.ApplyConfigurationRequest{
		Data: cutOff, Mode: machine.ApplyConfigurationRequest_TRY, TryModeTimeout: durationpb.New(2 * time.Second),
	}); err != nil {
		t.Fatal(err)
	}

	eventually(t, 5*time.Second, "A losing 10.99.0.1", func() error {
		if out := sh(t, "ip", "-n", nsA, "addr", "show", "dev", "eth0"); strings.Contains(out, "10.99.0.1/24") {
			return errors.New("still there")
		}

		if st := f.Status().Node("10.99.0.1"); st.LostAddress == "" || st.Listening {
			return fmt.Errorf("status %+v", st)
		}

		return nil
	})

	eventually(t, 10*time.Second, "A back after the try", func() error {
		if out := sh(t, "ip", "-n", nsA, "addr", "show", "dev", "eth0"); !strings.Contains(out, "10.99.0.1/24") {
			return errors.New("no address")
		}

		_, err := machine.NewMachineServiceClient(dialConn(t, "10.99.0.1", demo.tlsConfig(t), grpc.WithContextDialer(dialIn(t, nsA)))).Version(ctx(t), &emptypb.Empty{})

		return err
	})

	// Removing B stops its wireguard-go and takes its address off lo; Close does A.
	sockB := filepath.Join("/var/run/wireguard", newIfaceB+".sock")

	if code, body := call(t, http.MethodDelete, base+"/nodes?name=10.99.1.2", nil); code != http.StatusNoContent {
		t.Fatalf("delete: %d %s", code, body)
	}

	if out := sh(t, "ip", "-n", nsB, "addr", "show", "dev", "lo"); strings.Contains(out, "10.99.1.2") || wgIface(t, nsB) != "" {
		t.Fatalf("B left behind:\n%s", out)
	}

	if _, err = os.Stat(sockB); err == nil {
		t.Fatalf("%s left behind", sockB)
	}

	ifaceA = wgIface(t, nsA)
	f.Close()

	closed = true

	if got := wgIface(t, nsA); got != "" {
		t.Fatalf("A's %s left behind", got)
	}

	if _, err = os.Stat(filepath.Join("/var/run/wireguard", ifaceA+".sock")); err == nil {
		t.Fatalf("A's socket left behind")
	}

	if out := sh(t, "ip", "-n", nsA, "addr", "show", "dev", "eth0"); !strings.Contains(out, "10.99.0.1/24") {
		t.Fatalf("A's address not given back:\n%s", out)
	}
}

// cfgBase is a config without its WireguardConfig, LinkConfig and
// DHCPv4Config documents: the generated config, as withDocs found it.
func cfgBase(cfg []byte) []byte {
	docs := strings.Split(string(cfg), "\n---\n")

	var kept []string

	for _, doc := range docs {
		if strings.Contains(doc, "kind: WireguardConfig") || strings.Contains(doc, "kind: LinkConfig") || strings.Contains(doc, "kind: DHCPv4Config") {
			continue
		}

		kept = append(kept, doc)
	}

	return []byte(strings.Join(kept, "\n---\n"))
}

// logBuffer collects the fleet's log, written from many goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()

	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()

	return b.buf.String()
}
