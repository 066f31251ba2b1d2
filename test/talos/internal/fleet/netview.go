package fleet

import (
	"crypto/sha256"
	"encoding/base64"
	"net/netip"

	"github.com/siderolabs/talos/pkg/machinery/nethelpers"
	"github.com/siderolabs/talos/pkg/machinery/resources/network"
	"golang.org/x/crypto/curve25519"

	"hybridctl.dev/test/talos/internal/talosmode"
)

// netSnapshot is a node's network at one moment, taken under Fleet.mu, for
// its resource API and NetworkDeviceStats.
type netSnapshot struct {
	netns   string
	link    string
	address netip.Prefix
	static  bool
	// container: the address is the container runtime's, without a Talos spec.
	container bool
	lost      bool
	// physical is the LinkConfig of the physical link.
	physical physicalLinkSpec
	// wireguard are the WireGuard links that exist; ifaces their interfaces
	// (netns-backed nodes); configured every WireguardConfig document.
	wireguard  []wgLinkSpec
	ifaces     map[string]string
	configured []wgLinkSpec
	logf       func(string, ...any)
}

func (n *Node) netSnapshot() netSnapshot {
	n.f.mu.Lock()
	defer n.f.mu.Unlock()

	spec := readNetSpec(n.cfg, n.network.link)
	wireguard, ifaces, _ := n.wireguardLinksLocked()

	return netSnapshot{
		netns:      n.network.netns,
		link:       n.network.link,
		address:    n.addressPrefix(),
		static:     n.network.static,
		container:  n.mode == talosmode.Container,
		lost:       n.lostAddress != "",
		physical:   spec.Physical,
		wireguard:  wireguard,
		ifaces:     ifaces,
		configured: spec.Wireguard,
		logf:       n.logf,
	}
}

// viewLink is one link: Talos's name, its interface in the namespace, its status.
type viewLink struct {
	name   string
	iface  string
	status network.LinkStatusSpec
}

// linkNames are the node's links with their interfaces: lo, the physical
// link, the WireGuard links (their interfaces only in a namespace).
func (s netSnapshot) linkNames() []viewLink {
	links := []viewLink{{name: "lo", iface: "lo"}, {name: s.link, iface: s.link}}

	for _, wg := range s.wireguard {
		links = append(links, viewLink{name: wg.Name, iface: s.ifaces[wg.Name]})
	}

	return links
}

// linkStatuses are the links with their status: read from the namespace for
// a netns-backed node (reported under Talos's names, the physical link as a
// physical one, WireGuard links as kind wireguard whatever wireguard-go's TUN
// says), else derived from the config.
func (s netSnapshot) linkStatuses() []viewLink {
	links := s.linkNames()

	var real map[string]ipLink

	if s.netns != "" {
		real, _ = readIPLinks(s.logf, s.netns) //nolint:errcheck // logged; derived statuses then
	}

	out := make([]viewLink, 0, len(links))

	for i, link := range links {
		switch {
		case i == 0:
			link.status = loopbackStatus()
			if r, ok := real["lo"]; ok {
				link.status = r.linkStatus()
			}
		case i == 1:
			link.status = physicalStatus(s.address, s.physical)
			if r, ok := real[s.link]; ok {
				link.status = r.linkStatus()
				link.status.Kind = ""
				link.status.PermanentAddr = link.status.HardwareAddr
				link.status.LinkState = link.status.OperationalState == nethelpers.OperStateUp
			}
		default:
			wg := s.wireguard[i-2]
			link.status = wireguardStatus(uint32(i+1), wg)

			if s.netns != "" {
				r, ok := real[link.iface]
				if !ok {
					continue
				}

				link.status = r.linkStatus()
				link.status.Kind = network.LinkKindWireguard
				link.status.Wireguard, _, _ = wgShow(s.logf, link.iface) //nolint:errcheck // logged
			}
		}

		out = append(out, link)
	}

	return out
}

func loopbackStatus() network.LinkStatusSpec {
	return network.LinkStatusSpec{
		Index:            1,
		Type:             nethelpers.LinkLoopbck,
		Flags:            linkFlags(nethelpers.LinkUp, nethelpers.LinkLoopback, nethelpers.LinkRunning, nethelpers.LinkLowerUp),
		HardwareAddr:     make(nethelpers.HardwareAddr, 6),
		BroadcastAddr:    make(nethelpers.HardwareAddr, 6),
		MTU:              65536,
		QueueDisc:        "noqueue",
		OperationalState: nethelpers.OperStateUnknown,
		Port:             nethelpers.Other,
		Duplex:           nethelpers.Unknown,
	}
}

func physicalStatus(address netip.Prefix, physical physicalLinkSpec) network.LinkStatusSpec {
	hw := hardwareAddr(address.Addr())
	up := !physical.Configured || physical.Up

	status := network.LinkStatusSpec{
		Index:            2,
		Type:             nethelpers.LinkEther,
		Flags:            linkFlags(nethelpers.LinkBroadcast, nethelpers.LinkMulticast),
		HardwareAddr:     hw,
		PermanentAddr:    hw,
		BroadcastAddr:    nethelpers.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
		MTU:              1500,
		QueueDisc:        "fq_codel",
		OperationalState: nethelpers.OperStateDown,
		Port:             nethelpers.Other,
		Duplex:           nethelpers.Unknown,
	}

	if physical.MTU != 0 {
		status.MTU = physical.MTU
	}

	if up {
		status.Flags |= linkFlags(nethelpers.LinkUp, nethelpers.LinkRunning, nethelpers.LinkLowerUp)
		status.OperationalState = nethelpers.OperStateUp
		status.LinkState = true
	}

	return status
}

// wireguardStatus is a WireGuard link as the kernel shows it: no hardware
// address, operational state unknown while up, the keys and peers configured.
func wireguardStatus(index uint32, wg wgLinkSpec) network.LinkStatusSpec {
	status := network.LinkStatusSpec{
		Index:            index,
		Type:             nethelpers.LinkNone,
		Flags:            linkFlags(nethelpers.LinkPointToPoint, nethelpers.LinkNoArp),
		MTU:              wg.MTU,
		QueueDisc:        "noqueue",
		OperationalState: nethelpers.OperStateDown,
		Kind:             network.LinkKindWireguard,
		Port:             nethelpers.Other,
		Duplex:           nethelpers.Unknown,
		Wireguard: network.WireguardSpec{
			PublicKey:    publicKey(wg.PrivateKey),
			ListenPort:   wg.ListenPort,
			FirewallMark: wg.FirewallMark,
			Peers:        []network.WireguardPeer{},
		},
	}

	if wg.Up {
		status.Flags |= linkFlags(nethelpers.LinkUp, nethelpers.LinkRunning, nethelpers.LinkLowerUp)
		status.OperationalState = nethelpers.OperStateUnknown
	}

	for _, peer := range wg.Peers {
		status.Wireguard.Peers = append(status.Wireguard.Peers, network.WireguardPeer{
			PublicKey:                   peer.PublicKey,
			PresharedKey:                peer.PresharedKey,
			Endpoint:                    peer.Endpoint,
			PersistentKeepaliveInterval: peer.Keepalive,
			AllowedIPs:                  peer.AllowedIPs,
		})
	}

	return status
}

func linkFlags(flags ...nethelpers.LinkFlag) nethelpers.LinkFlags {
	var out nethelpers.LinkFlags
	for _, flag := range flags {
		out |= nethelpers.LinkFlags(flag)
	}

	return out
}

// hardwareAddr is a stable, locally administered MAC for a node's address.
func hardwareAddr(addr netip.Addr) nethelpers.HardwareAddr {
	sum := sha256.Sum256(addr.AsSlice())

	return nethelpers.HardwareAddr{0x02, sum[0], sum[1], sum[2], sum[3], sum[4]}
}

// publicKey is WireGuard's public key for a base64 private key (Curve25519,
// as `wg pubkey`); "" for a bad key.
func publicKey(privateKey string) string {
	private, err := base64.StdEncoding.DecodeString(privateKey)
	if err != nil || len(private) != curve25519.ScalarSize {
		return ""
	}

	public, err := curve25519.X25519(private, curve25519.Basepoint)
	if err != nil {
		return ""
	}

	return base64.StdEncoding.EncodeToString(public)
}
