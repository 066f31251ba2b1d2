package fleet

import (
	"net/netip"
	"slices"
	"time"

	"github.com/siderolabs/talos/pkg/machinery/config"
	talosconfig "github.com/siderolabs/talos/pkg/machinery/config/config"
	"github.com/siderolabs/talos/pkg/machinery/nethelpers"
	"github.com/siderolabs/talos/pkg/machinery/resources/network"
)

// netSpec is the network a node's active config asks for, read the way
// Talos's network config controllers read it
// (internal/app/machined/pkg/controllers/network: link_config.go,
// address_config.go, route_config.go): a WireGuard link per WireguardConfig
// document, and the LinkConfig document of the node's physical link.
type netSpec struct {
	Wireguard []wgLinkSpec
	Physical  physicalLinkSpec
	// LostAddress says why the node lost its address under this config
	// (dhcp.go); empty while it keeps it.
	LostAddress string
}

// wgLinkSpec is one WireguardConfig document.
type wgLinkSpec struct {
	Name         string
	PrivateKey   string
	ListenPort   int
	FirewallMark int
	Peers        []wgPeerSpec
	MTU          uint32
	Up           bool
	Addresses    []netip.Prefix
	Routes       []netRoute
}

type wgPeerSpec struct {
	PublicKey    string
	PresharedKey string
	Endpoint     string
	Keepalive    time.Duration
	AllowedIPs   []netip.Prefix
}

// physicalLinkSpec is the LinkConfig document naming the physical link, if any.
type physicalLinkSpec struct {
	Configured bool
	Up         bool
	MTU        uint32
	Addresses  []netip.Prefix
	Routes     []netRoute
}

// netRoute is a route of a link document, with route_config.go's defaults
// (metric 1024, the main table).
type netRoute struct {
	// Destination is zero for the default route.
	Destination netip.Prefix
	Gateway     netip.Addr
	Source      netip.Addr
	Metric      uint32
	Table       nethelpers.RoutingTable
}

// defaultWireguardMTU is what the kernel gives a WireGuard link without an MTU.
const defaultWireguardMTU = 1420

// readNetSpec reads the WireGuard and physical link documents of cfg (nil: none).
func readNetSpec(cfg config.Provider, physicalLink string) netSpec {
	var spec netSpec

	if cfg == nil {
		return spec
	}

	for _, doc := range cfg.NetworkCommonLinkConfigs() {
		if wg, ok := doc.(talosconfig.NetworkWireguardConfig); ok {
			spec.Wireguard = append(spec.Wireguard, wgLinkOf(wg))

			continue
		}

		if _, ok := doc.(talosconfig.NetworkPhysicalLinkConfig); ok && doc.Name() == physicalLink {
			spec.Physical = physicalLinkSpec{
				Configured: true,
				Up:         doc.Up().ValueOr(true),
				MTU:        doc.MTU().ValueOrZero(),
				Addresses:  addressesOf(doc),
				Routes:     routesOf(doc),
			}
		}
	}

	return spec
}

func wgLinkOf(doc talosconfig.NetworkWireguardConfig) wgLinkSpec {
	link := wgLinkSpec{
		Name:         doc.Name(),
		PrivateKey:   doc.PrivateKey(),
		ListenPort:   doc.ListenPort().ValueOrZero(),
		FirewallMark: doc.FirewallMark().ValueOrZero(),
		MTU:          doc.MTU().ValueOr(defaultWireguardMTU),
		Up:           doc.Up().ValueOr(true),
		Addresses:    addressesOf(doc),
		Routes:       routesOf(doc),
	}

	for _, peer := range doc.Peers() {
		link.Peers = append(link.Peers, wgPeerSpec{
			PublicKey:    peer.PublicKey(),
			PresharedKey: peer.PresharedKey().ValueOrZero(),
			Endpoint:     peer.Endpoint().ValueOrZero(),
			Keepalive:    peer.PersistentKeepalive().ValueOrZero(),
			AllowedIPs:   slices.Clone(peer.AllowedIPs()),
		})
	}

	return link
}

func addressesOf(doc talosconfig.NetworkCommonLinkConfig) []netip.Prefix {
	var addresses []netip.Prefix

	for _, address := range doc.Addresses() {
		addresses = append(addresses, address.Address())
	}

	return addresses
}

func routesOf(doc talosconfig.NetworkCommonLinkConfig) []netRoute {
	var routes []netRoute

	for _, route := range doc.Routes() {
		routes = append(routes, netRoute{
			Destination: route.Destination().ValueOrZero(),
			Gateway:     route.Gateway().ValueOrZero(),
			Source:      route.Source().ValueOrZero(),
			Metric:      route.Metric().ValueOr(network.DefaultRouteMetric),
			Table:       route.Table().ValueOr(nethelpers.TableMain),
		})
	}

	return routes
}

// family is the route's address family, as route_config.go decides it.
func (r netRoute) family() nethelpers.Family {
	if (r.Gateway.IsValid() && r.Gateway.Is6()) || (r.Destination.IsValid() && r.Destination.Addr().Is6()) {
		return nethelpers.FamilyInet6
	}

	return nethelpers.FamilyInet4
}

// destination is the route's destination, 0.0.0.0/0 (or ::/0) for a default route.
func (r netRoute) destination() netip.Prefix {
	if r.Destination.IsValid() {
		return r.Destination
	}

	if r.family() == nethelpers.FamilyInet6 {
		return netip.PrefixFrom(netip.IPv6Unspecified(), 0)
	}

	return netip.PrefixFrom(netip.IPv4Unspecified(), 0)
}
