package fleet

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/siderolabs/talos/pkg/machinery/config/configloader"

	"hybridctl.dev/test/talos/internal/talosmode"
)

const (
	testWireguard = "apiVersion: v1alpha1\nkind: WireguardConfig\nname: wg0\nprivateKey: uH5HY6ZhqcKt90hA8E4jEnbhxQvoB5+TIJax7FKaAm8=\n"
	testHostname  = "apiVersion: v1alpha1\nkind: HostnameConfig\nauto: stable\n"
)

func testV1Alpha1(interfaces string) string {
	return "version: v1alpha1\nmachine:\n  type: worker\n  network:\n    interfaces:\n" + interfaces
}

// Which configs take a DHCP-addressed node's address away, after
// operator_config.go (see lostAddress).
func TestLostAddress(t *testing.T) {
	node := nodeAddressing{link: "eth0", address: netip.MustParsePrefix("10.0.0.5/24"), mode: talosmode.Metal}
	cloud := nodeAddressing{link: "eth0", address: netip.MustParsePrefix("10.0.0.5/24"), mode: talosmode.Cloud}
	cloudEns5 := nodeAddressing{link: "ens5", address: netip.MustParsePrefix("10.0.0.5/24"), mode: talosmode.Cloud}
	static := nodeAddressing{link: "eth0", address: netip.MustParsePrefix("10.0.0.5/24"), static: true, mode: talosmode.Metal}
	container := nodeAddressing{link: "eth0", address: netip.MustParsePrefix("10.0.0.5/24"), mode: talosmode.Container}

	for _, tc := range []struct {
		name string
		node nodeAddressing
		docs []string
		// lost is a part of the reason, "" when the node keeps its address.
		lost string
	}{
		{"no network documents: default DHCP", node, []string{testHostname}, ""},
		{"a WireguardConfig stops the default DHCP everywhere", node, []string{testWireguard}, "WireguardConfig/wg0"},
		{"a DHCPv4Config for the link keeps it", node, []string{testWireguard, "apiVersion: v1alpha1\nkind: DHCPv4Config\nname: eth0\n"}, ""},
		{"a DHCPv4Config for another link does not", node, []string{testWireguard, "apiVersion: v1alpha1\nkind: DHCPv4Config\nname: eth1\n"}, "no DHCPv4Config document keeps it on eth0"},
		{"a DHCP document alone stops the default DHCP", node, []string{"apiVersion: v1alpha1\nkind: DHCPv4Config\nname: eth1\n"}, "DHCPv4Config/eth1"},
		{"a LinkConfig with routes only", node, []string{"apiVersion: v1alpha1\nkind: LinkConfig\nname: eth0\nroutes:\n  - gateway: 10.0.0.1\n"}, "LinkConfig/eth0"},
		{"a LinkConfig with the node's address keeps it", node, []string{"apiVersion: v1alpha1\nkind: LinkConfig\nname: eth0\naddresses:\n  - address: 10.0.0.5/24\n"}, ""},
		{"a LinkConfig with another address", node, []string{"apiVersion: v1alpha1\nkind: LinkConfig\nname: eth0\naddresses:\n  - address: 10.0.0.6/24\n"}, "LinkConfig/eth0"},
		{"a LinkConfig taking the link down", node, []string{"apiVersion: v1alpha1\nkind: LinkConfig\nname: eth0\nup: false\n", "apiVersion: v1alpha1\nkind: DHCPv4Config\nname: eth0\n"}, "up: false"},
		{"AWS runs DHCP on eth0 itself", cloud, []string{testWireguard}, ""},
		{"but only on eth0", cloudEns5, []string{testWireguard}, "WireguardConfig/wg0"},
		{"a static address stays", static, []string{testWireguard}, ""},
		{"so does Docker's", container, []string{testWireguard}, ""},
		{"v1alpha1 interface without dhcp", node, []string{testV1Alpha1("      - interface: eth0\n        mtu: 9000\n")}, "machine.network.interfaces configures eth0"},
		{"v1alpha1 interface with dhcp", node, []string{testV1Alpha1("      - interface: eth0\n        dhcp: true\n")}, ""},
		{"v1alpha1 interface with dhcp but not IPv4", node, []string{testV1Alpha1("      - interface: eth0\n        dhcp: true\n        dhcpOptions:\n          ipv4: false\n")}, "machine.network.interfaces configures eth0"},
		{"v1alpha1 interface with the node's address", node, []string{testV1Alpha1("      - interface: eth0\n        addresses: [10.0.0.5/24]\n")}, ""},
		{"v1alpha1 interface for another link", node, []string{testV1Alpha1("      - interface: eth1\n        dhcp: false\n")}, ""},
		{"v1alpha1 interface ignored", node, []string{testV1Alpha1("      - interface: eth0\n        ignore: true\n")}, "ignore: true"},
		{"v1alpha1 bond member", node, []string{testV1Alpha1("      - interface: bond0\n        dhcp: true\n        bond:\n          mode: active-backup\n          interfaces: [eth0, eth1]\n")}, "machine.network.interfaces configures eth0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := configloader.NewFromBytes([]byte(strings.Join(tc.docs, "---\n")))
			if err != nil {
				t.Fatal(err)
			}

			got := lostAddress(cfg, tc.node)

			switch {
			case tc.lost == "" && got != "":
				t.Fatalf("lost: %s", got)
			case tc.lost != "" && !strings.Contains(got, tc.lost):
				t.Fatalf("got %q, want a reason with %q", got, tc.lost)
			}
		})
	}

	if got := lostAddress(nil, node); got != "" {
		t.Fatalf("no config: %s", got)
	}
}
