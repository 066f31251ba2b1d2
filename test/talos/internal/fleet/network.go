package fleet

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// Address sources of a node's physical address.
const (
	addressDHCP   = "dhcp"
	addressStatic = "static"
)

// defaultLink is the physical link's name unless a spec says otherwise.
const defaultLink = "eth0"

// nodeNetwork is a node's network identity, set once when it is made.
type nodeNetwork struct {
	// netns is the Linux network namespace holding the node's network ("": none).
	netns string
	// link is the physical link's name.
	link string
	// prefix is the length of the node's address prefix.
	prefix int
	// static: the address comes from the kernel command line, not DHCP.
	static bool
}

// checkNetwork validates a spec's network options and fills in defaults.
func checkNetwork(spec NodeSpec) (nodeNetwork, error) {
	nw := nodeNetwork{netns: spec.Netns, link: spec.Link, prefix: spec.Prefix}

	if nw.link == "" {
		nw.link = defaultLink
	}

	if len(nw.link) > 15 || strings.ContainsAny(nw.link, " \t\n/:") {
		return nw, fmt.Errorf("link %q is not an interface name", nw.link)
	}

	switch spec.Address {
	case "", addressDHCP:
	case addressStatic:
		nw.static = true
	default:
		return nw, fmt.Errorf("address %q: want dhcp or static", spec.Address)
	}

	bits := 32
	if ip := net.ParseIP(spec.IP); ip != nil && ip.To4() == nil {
		bits = 128
	}

	switch {
	case nw.prefix == 0 && bits == 32:
		nw.prefix = 24
	case nw.prefix == 0:
		nw.prefix = 64
	case nw.prefix < 0 || nw.prefix > bits:
		return nw, fmt.Errorf("prefix %d: want 1 to %d", nw.prefix, bits)
	}

	if nw.netns != "" {
		if err := checkNetns(nw.netns); err != nil {
			return nw, err
		}

		if err := checkWireguardTools(); err != nil {
			return nw, err
		}
	}

	return nw, nil
}

// addressPrefix is the node's address on its physical link: its address
// (name if that is an IP, else where it listens) with the node's prefix length.
func (n *Node) addressPrefix() netip.Prefix {
	addr, err := netip.ParseAddr(n.address())
	if err != nil {
		return netip.Prefix{}
	}

	return netip.PrefixFrom(addr.Unmap(), n.network.prefix)
}

// listenNetns is where the node's API listens: inside its namespace for nodes
// of --node (New), in the fleet's own for nodes added through the API (cloud
// instances reached through the test's proxy).
func (n *Node) listenNetns() string {
	if n.createdBy == createdByFlag {
		return n.network.netns
	}

	return ""
}

// newNodeRealiser prepares the realiser of a netns-backed node. A node added
// through the API whose name is an IP gets it as a /32 on the namespace's lo,
// so traffic to its private address lands in the namespace.
func (n *Node) newNodeRealiser() *realiser {
	if n.network.netns == "" {
		return nil
	}

	addr := n.addressPrefix()
	owns := false

	if n.createdBy == createdByAPI {
		if _, err := netip.ParseAddr(n.name); err == nil {
			owns = true
		} else {
			addr = netip.Prefix{}
		}
	}

	return newRealiser(n.network.netns, n.network.link, addr, owns, n.logf)
}

// networkChangedLocked follows a change of the active config while the node
// runs: links are realised anew, and a node that loses its address goes off
// the network (its API stops answering) until a config gives it back.
func (n *Node) networkChangedLocked() {
	n.refreshNetworkLocked()

	switch {
	case n.lostAddress != "" && n.server != nil:
		srv := n.server
		n.server = nil

		go srv.stop()
	case n.lostAddress == "" && n.server == nil && (n.state == stateConfigured || n.state == stateMaintenance) && !n.removed:
		if err := n.serveLocked(); err != nil {
			n.logf("cannot come back on the network: %v", err)
		}
	}
}

// refreshNetworkLocked reads the active config's network and hands it to the
// realiser; it decides whether the node keeps its address.
func (n *Node) refreshNetworkLocked() {
	spec := readNetSpec(n.cfg, n.network.link)
	spec.LostAddress = lostAddress(n.cfg, nodeAddressing{
		link:    n.network.link,
		address: n.addressPrefix(),
		static:  n.network.static,
		mode:    n.mode,
	})

	if spec.LostAddress != n.lostAddress {
		if spec.LostAddress != "" {
			n.logf("lost its address, off the network: %s", spec.LostAddress)
		} else {
			n.logf("has its address again")
		}
	}

	n.lostAddress = spec.LostAddress

	if n.net != nil {
		n.net.set(spec, true)
	}
}

// wireguardLinksLocked are the node's WireGuard links that exist, in config
// order, with their interfaces: for a netns-backed node those realised, else
// every WireguardConfig document of the active config while the node is up.
func (n *Node) wireguardLinksLocked() ([]wgLinkSpec, map[string]string, string) {
	var (
		realised map[string]string
		lastErr  string
	)

	if n.net != nil {
		realised, lastErr = n.net.realisedLinks()
	}

	if n.state != stateConfigured && n.state != stateMaintenance {
		return nil, nil, lastErr
	}

	specs := readNetSpec(n.cfg, n.network.link).Wireguard

	if n.net == nil {
		return specs, nil, ""
	}

	var links []wgLinkSpec

	for _, spec := range specs {
		if _, ok := realised[spec.Name]; ok {
			links = append(links, spec)
		}
	}

	return links, realised, lastErr
}
