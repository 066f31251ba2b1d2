package fleet

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/siderolabs/talos/pkg/machinery/config"
	talosconfig "github.com/siderolabs/talos/pkg/machinery/config/config"

	"hybridctl.dev/test/talos/internal/talosmode"
)

// awsInterfaceName is the link the AWS platform runs DHCP on
// (internal/app/machined/pkg/runtime/v1alpha1/platform/aws/aws.go).
const awsInterfaceName = "eth0"

// nodeAddressing is how a node got its address on its physical link.
type nodeAddressing struct {
	link    string
	address netip.Prefix
	// static: from the kernel command line (ip=), a cmdline layer that no
	// machine config document takes away; otherwise DHCP.
	static bool
	mode   talosmode.Mode
}

// lostAddress says why a node whose address comes from DHCP loses it under
// cfg, or "" when it keeps it. It follows which DHCPv4 operators Talos runs
// (internal/app/machined/pkg/controllers/network/operator_config.go, with
// link_config.go and platform_config_apply.go):
//
//   - the platform's: on AWS, DHCPv4 on eth0 whatever the machine config says
//     (platform/aws/aws.go);
//   - a DHCPv4Config document for the link;
//   - a machine.network.interfaces entry for the link with dhcp: true (and
//     dhcpOptions.ipv4 not false);
//   - the default one on every physical link, but only when the config has no
//     new-style link document (LinkConfig, WireguardConfig, VLANConfig, …) and
//     no DHCP document at all (Container.RunDefaultDHCPOperators), and only on
//     links no machine.network.interfaces entry names (nor lists as a bond or
//     bridge member).
//
// Without an operator the link keeps only static addresses: a LinkConfig or
// machine.network.interfaces entry giving the link the node's address saves
// it, as does an address from the kernel command line or, in container mode,
// Docker's.
// A LinkConfig with up: false takes the link down, whatever the address source.
func lostAddress(cfg config.Provider, node nodeAddressing) string {
	if cfg == nil {
		return ""
	}

	spec := readNetSpec(cfg, node.link)
	if spec.Physical.Configured && !spec.Physical.Up {
		return fmt.Sprintf("link %s is down: its LinkConfig document says up: false", node.link)
	}

	// In a container the address is the container runtime's, not Talos's
	// (platform/container/container.go configures no link).
	if node.static || node.mode == talosmode.Container || hasStaticAddress(cfg, spec.Physical, node) {
		return ""
	}

	if node.mode == talosmode.Cloud && node.link == awsInterfaceName {
		return ""
	}

	for _, dhcp4 := range cfg.NetworkDHCPv4Configs() {
		if dhcp4.Name() == node.link {
			return ""
		}
	}

	device := v1alpha1Device(cfg, node.link)
	if device != nil && device.Ignore() {
		return fmt.Sprintf("machine.network.interfaces has ignore: true for %s: Talos leaves it unconfigured, without DHCP", node.link)
	}

	if device != nil && device.DHCP() && device.DHCPOptions().IPv4() {
		return ""
	}

	if !cfg.RunDefaultDHCPOperators() {
		return fmt.Sprintf("the config's network documents (%s) turn off Talos's default DHCP on every link, and no DHCPv4Config document keeps it on %s (nor a static address %s for it)",
			strings.Join(networkDocuments(cfg), ", "), node.link, node.address.Addr())
	}

	if device != nil || bondOrBridgeMember(cfg, node.link) {
		return fmt.Sprintf("machine.network.interfaces configures %s without dhcp: true (nor a static address %s for it), so Talos runs no DHCP there",
			node.link, node.address.Addr())
	}

	return ""
}

// hasStaticAddress: the config gives the link the node's own address.
func hasStaticAddress(cfg config.Provider, physical physicalLinkSpec, node nodeAddressing) bool {
	for _, address := range physical.Addresses {
		if address.Addr() == node.address.Addr() {
			return true
		}
	}

	device := v1alpha1Device(cfg, node.link)
	if device == nil || device.Ignore() {
		return false
	}

	for _, address := range device.Addresses() {
		prefix, err := netip.ParsePrefix(address)
		if err != nil {
			if addr, err := netip.ParseAddr(address); err == nil {
				prefix = netip.PrefixFrom(addr, addr.BitLen())
			}
		}

		if prefix.IsValid() && prefix.Addr() == node.address.Addr() {
			return true
		}
	}

	return false
}

// v1alpha1Device is the machine.network.interfaces entry for the link, if any
// (selector-based entries are not resolved).
func v1alpha1Device(cfg config.Provider, link string) talosconfig.Device {
	if cfg.Machine() == nil || cfg.Machine().Network() == nil {
		return nil
	}

	for _, device := range cfg.Machine().Network().Devices() {
		if device.Interface() == link {
			return device
		}
	}

	return nil
}

func bondOrBridgeMember(cfg config.Provider, link string) bool {
	if cfg.Machine() == nil || cfg.Machine().Network() == nil {
		return false
	}

	for _, device := range cfg.Machine().Network().Devices() {
		var members []string
		if device.Bond() != nil {
			members = append(members, device.Bond().Interfaces()...)
		}

		if device.Bridge() != nil {
			members = append(members, device.Bridge().Interfaces()...)
		}

		for _, member := range members {
			if member == link {
				return true
			}
		}
	}

	return false
}

// networkDocuments names the documents that stop the default DHCP, as KIND/NAME.
func networkDocuments(cfg config.Provider) []string {
	var names []string

	for _, doc := range cfg.NetworkCommonLinkConfigs() {
		names = append(names, kindOf(doc)+"/"+doc.Name())
	}

	for _, doc := range cfg.NetworkDHCPConfigs() {
		names = append(names, kindOf(doc)+"/"+doc.Name())
	}

	return names
}

func kindOf(doc any) string {
	if d, ok := doc.(talosconfig.Document); ok {
		return d.Kind()
	}

	return fmt.Sprintf("%T", doc)
}
