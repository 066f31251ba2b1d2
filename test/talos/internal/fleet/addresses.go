package fleet

import (
	"net/netip"
	"sort"

	"github.com/siderolabs/talos/pkg/machinery/nethelpers"
	"github.com/siderolabs/talos/pkg/machinery/resources/network"
)

var permanent = nethelpers.AddressFlags(nethelpers.AddressPermanent)

// addressStatuses are the addresses on the node's links, as Talos's address
// status controller reports them (controllers/network/address_status.go):
// loopback, the node's own (unless lost), the physical link's LinkConfig
// addresses, the addresses of the WireGuard links that exist.
func (s netSnapshot) addressStatuses(links []viewLink) []network.AddressStatusSpec {
	index := map[string]uint32{}
	for _, link := range links {
		index[link.name] = link.status.Index
	}

	status := func(link string, prefix netip.Prefix, scope nethelpers.Scope, priority uint32) network.AddressStatusSpec {
		spec := network.AddressStatusSpec{
			Address:   prefix,
			Local:     prefix.Addr(),
			LinkIndex: index[link],
			LinkName:  link,
			Family:    family(prefix.Addr()),
			Scope:     scope,
			Flags:     permanent,
			Priority:  priority,
		}

		if link != "lo" && prefix.Addr().Is4() && prefix.Bits() < 31 {
			spec.Broadcast = broadcast(prefix)
		}

		return spec
	}

	out := []network.AddressStatusSpec{
		status("lo", netip.MustParsePrefix("127.0.0.1/8"), nethelpers.ScopeHost, 0),
		status("lo", netip.MustParsePrefix("::1/128"), nethelpers.ScopeHost, 0),
	}

	if !s.lost && s.address.IsValid() {
		priority := uint32(network.DefaultRouteMetric)
		if s.static {
			priority = 0
		}

		out = append(out, status(s.link, s.address, nethelpers.ScopeGlobal, priority))
	}

	for _, address := range s.physical.Addresses {
		if address.Addr() != s.address.Addr() {
			out = append(out, status(s.link, address, nethelpers.ScopeGlobal, 0))
		}
	}

	for _, wg := range s.wireguard {
		if _, exists := index[wg.Name]; !exists {
			continue
		}

		for _, address := range wg.Addresses {
			out = append(out, status(wg.Name, address, nethelpers.ScopeGlobal, 0))
		}
	}

	return out
}

// addressSpecs are the merged address specs (namespace network), each from
// the highest layer that asks for it (controllers/network/address_merge.go):
// loopback (default), the node's own address from the DHCP operator
// (operator, priority 1024; operator/dhcp4.go) or the kernel command line
// (cmdline) — none in container mode, where Docker sets it — and the config's
// link addresses (configuration).
func (s netSnapshot) addressSpecs() []network.AddressSpecSpec {
	merged := map[string]network.AddressSpecSpec{}

	add := func(spec network.AddressSpecSpec) {
		spec.Family = family(spec.Address.Addr())
		if spec.Scope == 0 && spec.LinkName == "lo" {
			spec.Scope = nethelpers.ScopeHost
		}

		spec.Flags = permanent

		id := network.AddressID(spec.LinkName, spec.Address)
		if existing, ok := merged[id]; ok && existing.ConfigLayer > spec.ConfigLayer {
			return
		}

		merged[id] = spec
	}

	add(network.AddressSpecSpec{Address: netip.MustParsePrefix("127.0.0.1/8"), LinkName: "lo", ConfigLayer: network.ConfigDefault})

	if !s.lost && s.address.IsValid() && !s.container {
		if s.static {
			add(network.AddressSpecSpec{Address: s.address, LinkName: s.link, ConfigLayer: network.ConfigCmdline})
		} else {
			add(network.AddressSpecSpec{Address: s.address, LinkName: s.link, ConfigLayer: network.ConfigOperator, Priority: network.DefaultRouteMetric})
		}
	}

	for _, address := range s.physical.Addresses {
		add(network.AddressSpecSpec{Address: address, LinkName: s.link, ConfigLayer: network.ConfigMachineConfiguration})
	}

	for _, wg := range s.configured {
		for _, address := range wg.Addresses {
			add(network.AddressSpecSpec{Address: address, LinkName: wg.Name, ConfigLayer: network.ConfigMachineConfiguration})
		}
	}

	ids := make([]string, 0, len(merged))
	for id := range merged {
		ids = append(ids, id)
	}

	sort.Strings(ids)

	out := make([]network.AddressSpecSpec, 0, len(ids))
	for _, id := range ids {
		out = append(out, merged[id])
	}

	return out
}

// routeStatuses are the routes of the config's links that exist, as the
// route status controller reports them (controllers/network/route_status.go).
func (s netSnapshot) routeStatuses(links []viewLink) []network.RouteStatusSpec {
	index := map[string]uint32{}
	for _, link := range links {
		index[link.name] = link.status.Index
	}

	var out []network.RouteStatusSpec

	add := func(link string, route netRoute) {
		status := network.RouteStatusSpec{
			Family:       route.family(),
			Destination:  route.Destination,
			Source:       route.Source,
			Gateway:      route.Gateway,
			OutLinkIndex: index[link],
			OutLinkName:  link,
			Table:        route.Table,
			Priority:     route.Metric,
			Scope:        nethelpers.ScopeGlobal,
			Type:         nethelpers.TypeUnicast,
			Protocol:     nethelpers.ProtocolStatic,
		}

		if !route.Gateway.IsValid() {
			status.Scope = nethelpers.ScopeLink
		}

		out = append(out, status)
	}

	if !s.lost {
		for _, route := range s.physical.Routes {
			add(s.link, route)
		}
	}

	for _, wg := range s.wireguard {
		if _, exists := index[wg.Name]; !exists || !wg.Up {
			continue
		}

		for _, route := range wg.Routes {
			add(wg.Name, route)
		}
	}

	return out
}

func family(addr netip.Addr) nethelpers.Family {
	if addr.Is4() {
		return nethelpers.FamilyInet4
	}

	return nethelpers.FamilyInet6
}

func broadcast(prefix netip.Prefix) netip.Addr {
	b := prefix.Masked().Addr().As4()
	host := uint32(1)<<(32-prefix.Bits()) - 1

	b[0] |= byte(host >> 24)
	b[1] |= byte(host >> 16)
	b[2] |= byte(host >> 8)
	b[3] |= byte(host)

	return netip.AddrFrom4(b)
}
