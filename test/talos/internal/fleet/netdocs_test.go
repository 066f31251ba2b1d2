package fleet_test

import (
	"fmt"
	"strings"

	"github.com/cosi-project/runtime/api/v1alpha1"
	"github.com/cosi-project/runtime/pkg/state"
	cosiclient "github.com/cosi-project/runtime/pkg/state/protobuf/client"
	"google.golang.org/grpc"
)

// WireGuard key pairs made with `wg genkey | tee /dev/stderr | wg pubkey`.
const (
	keyA = "uH5HY6ZhqcKt90hA8E4jEnbhxQvoB5+TIJax7FKaAm8="
	pubA = "YIrU/RGO1oYMqBOAkqLBjXJTGA8siimS66VgqQO/zGs="
	keyB = "KLlcU1CzXTOprJUFgrHAQeH6oAiDGeW/PZrC60Cei2k="
	pubB = "KfoX4G3lgugG+tm0D/mrNpA5vU+p3tLdoF2uxugnMXw="
	keyC = "8OeMbKxfTVrQ3OVEebQgUIxpP1CTwLOPTpzQ3L1McG4="
	pubC = "FgMWg1hc3yxPilZkz1Mz65ixszehxhEbG+P2spUIKE0="
)

// wgPeer is a peers entry of a WireguardConfig document.
type wgPeer struct {
	publicKey, endpoint, keepalive string
	allowed                        []string
}

// wireguardDoc is a WireguardConfig document (pkg/machinery/config/types/network/wireguard.go).
func wireguardDoc(name, privateKey string, port int, address string, routes []string, peers ...wgPeer) string {
	var b strings.Builder

	fmt.Fprintf(&b, "apiVersion: v1alpha1\nkind: WireguardConfig\nname: %s\nprivateKey: %s\n", name, privateKey)

	if port != 0 {
		fmt.Fprintf(&b, "listenPort: %d\n", port)
	}

	b.WriteString("mtu: 1420\n")

	if len(peers) > 0 {
		b.WriteString("peers:\n")
	}

	for _, p := range peers {
		fmt.Fprintf(&b, "  - publicKey: %s\n", p.publicKey)

		if p.endpoint != "" {
			fmt.Fprintf(&b, "    endpoint: %s\n", p.endpoint)
		}

		if p.keepalive != "" {
			fmt.Fprintf(&b, "    persistentKeepaliveInterval: %s\n", p.keepalive)
		}

		b.WriteString("    allowedIPs:\n")

		for _, a := range p.allowed {
			fmt.Fprintf(&b, "      - %s\n", a)
		}
	}

	if address != "" {
		fmt.Fprintf(&b, "addresses:\n  - address: %s\n", address)
	}

	if len(routes) > 0 {
		b.WriteString("routes:\n")

		for _, r := range routes {
			fmt.Fprintf(&b, "  - destination: %s\n", r)
		}
	}

	return b.String()
}

// linkConfigDoc is a LinkConfig document for a physical link, with routes DEST=GATEWAY.
func linkConfigDoc(link string, addresses []string, routes ...string) string {
	var b strings.Builder

	fmt.Fprintf(&b, "apiVersion: v1alpha1\nkind: LinkConfig\nname: %s\n", link)

	if len(addresses) > 0 {
		b.WriteString("addresses:\n")

		for _, a := range addresses {
			fmt.Fprintf(&b, "  - address: %s\n", a)
		}
	}

	if len(routes) > 0 {
		b.WriteString("routes:\n")

		for _, r := range routes {
			dest, gw, _ := strings.Cut(r, "=")
			fmt.Fprintf(&b, "  - destination: %s\n    gateway: %s\n", dest, gw)
		}
	}

	return b.String()
}

func dhcp4Doc(link string) string {
	return "apiVersion: v1alpha1\nkind: DHCPv4Config\nname: " + link + "\n"
}

// withDocs appends documents to a machine config.
func withDocs(cfg []byte, docs ...string) []byte {
	out := strings.TrimRight(string(cfg), "\n")

	for _, doc := range docs {
		out += "\n---\n" + strings.TrimRight(doc, "\n")
	}

	return []byte(out + "\n")
}

// cosiState is a COSI client over a node connection, as talosctl's.
func cosiState(conn *grpc.ClientConn) state.State {
	return state.WrapCore(cosiclient.NewAdapter(v1alpha1.NewStateClient(conn)))
}
