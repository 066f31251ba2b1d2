package fleet

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/siderolabs/talos/pkg/machinery/nethelpers"
	"github.com/siderolabs/talos/pkg/machinery/resources/network"
)

// ipLink is a link as `ip -j -d link show` prints it.
type ipLink struct {
	Index     uint32   `json:"ifindex"`
	Name      string   `json:"ifname"`
	Flags     []string `json:"flags"`
	MTU       uint32   `json:"mtu"`
	Qdisc     string   `json:"qdisc"`
	Operstate string   `json:"operstate"`
	LinkType  string   `json:"link_type"`
	Address   string   `json:"address"`
	Broadcast string   `json:"broadcast"`
	Master    string   `json:"master"`
	Linkinfo  struct {
		Kind string `json:"info_kind"`
	} `json:"linkinfo"`
}

// readIPLinks lists the links of a namespace, by interface name.
func readIPLinks(logf func(string, ...any), ns string) (map[string]ipLink, error) {
	out, err := query(logf, "ip", "-n", ns, "-j", "-d", "link", "show")
	if err != nil {
		return nil, err
	}

	var links []ipLink
	if err = json.Unmarshal([]byte(out), &links); err != nil {
		return nil, fmt.Errorf("ip -j link: %w", err)
	}

	byName := make(map[string]ipLink, len(links))
	for _, link := range links {
		byName[link.Name] = link
	}

	return byName, nil
}

// ipFlags are the IFF_* names iproute2 prints.
var ipFlags = map[string]nethelpers.LinkFlag{
	"UP": nethelpers.LinkUp, "BROADCAST": nethelpers.LinkBroadcast, "DEBUG": nethelpers.LinkDebug,
	"LOOPBACK": nethelpers.LinkLoopback, "POINTOPOINT": nethelpers.LinkPointToPoint,
	"NOTRAILERS": nethelpers.LinkNoTrailers, "RUNNING": nethelpers.LinkRunning, "NOARP": nethelpers.LinkNoArp,
	"PROMISC": nethelpers.LinkPromisc, "ALLMULTI": nethelpers.LinkAllMulti, "MASTER": nethelpers.LinkMaster,
	"SLAVE": nethelpers.LinkSlave, "MULTICAST": nethelpers.LinkMulticast, "PORTSEL": nethelpers.LinkPortsel,
	"AUTOMEDIA": nethelpers.LinKAutoMedia, "DYNAMIC": nethelpers.LinkDynamic, "LOWER_UP": nethelpers.LinkLowerUp,
	"DORMANT": nethelpers.LinkDormant, "ECHO": nethelpers.LinkEcho,
}

var ipOperStates = map[string]nethelpers.OperationalState{
	"UNKNOWN": nethelpers.OperStateUnknown, "NOTPRESENT": nethelpers.OperStateNotPresent,
	"DOWN": nethelpers.OperStateDown, "LOWERLAYERDOWN": nethelpers.OperStateLowerLayerDown,
	"TESTING": nethelpers.OperStateTesting, "DORMANT": nethelpers.OperStateDormant, "UP": nethelpers.OperStateUp,
}

// linkStatus is what Talos's link status controller reads from rtnetlink
// (controllers/network/link_status.go), from iproute2's view of the link.
func (l ipLink) linkStatus() network.LinkStatusSpec {
	var flags nethelpers.LinkFlags

	for _, name := range l.Flags {
		flags |= nethelpers.LinkFlags(ipFlags[name])
	}

	// iproute2 hides IFF_RUNNING; the kernel sets it with the carrier, as LOWER_UP.
	if flags&nethelpers.LinkFlags(nethelpers.LinkLowerUp) != 0 {
		flags |= nethelpers.LinkFlags(nethelpers.LinkRunning)
	}

	status := network.LinkStatusSpec{
		Index:            l.Index,
		Type:             ipLinkType(l.LinkType),
		Flags:            flags,
		MTU:              l.MTU,
		QueueDisc:        l.Qdisc,
		OperationalState: ipOperStates[l.Operstate],
		Kind:             l.Linkinfo.Kind,
		Port:             nethelpers.Other,
		Duplex:           nethelpers.Unknown,
	}

	if mac, err := net.ParseMAC(l.Address); err == nil {
		status.HardwareAddr = nethelpers.HardwareAddr(mac)
	}

	if mac, err := net.ParseMAC(l.Broadcast); err == nil {
		status.BroadcastAddr = nethelpers.HardwareAddr(mac)
	}

	return status
}

func ipLinkType(name string) nethelpers.LinkType {
	switch name {
	case "none":
		return nethelpers.LinkNone
	case "loopback":
		return nethelpers.LinkLoopbck
	}

	t, err := nethelpers.LinkTypeString(name)
	if err != nil {
		return nethelpers.LinkNone
	}

	return t
}

// wgShow is `wg show IFACE dump` as Talos's WireguardSpec adapter
// decodes a device for a status (adapters/network/wireguard_spec.go): public
// key, listen port, firewall mark, and per peer the key, the endpoint
// WireGuard currently uses (empty when none), keepalive and allowed IPs.
// wireguard-go's UAPI socket serves any namespace. It also answers each
// peer's latest handshake.
func wgShow(logf func(string, ...any), iface string) (network.WireguardSpec, []time.Time, error) {
	var (
		spec       network.WireguardSpec
		handshakes []time.Time
	)

	out, err := query(logf, "wg", "show", iface, "dump")
	if err != nil {
		return spec, nil, err
	}

	scanner := bufio.NewScanner(strings.NewReader(out))
	first := true

	for scanner.Scan() {
		fields := strings.Split(scanner.Text(), "\t")

		if first {
			first = false

			if len(fields) != 4 {
				return spec, nil, fmt.Errorf("wg show %s dump: unexpected interface line %q", iface, scanner.Text())
			}

			spec.PublicKey = fields[1]
			spec.ListenPort, _ = strconv.Atoi(fields[2])
			spec.FirewallMark = parseFwmark(fields[3])

			continue
		}

		if len(fields) != 8 {
			return spec, nil, fmt.Errorf("wg show %s dump: unexpected peer line %q", iface, scanner.Text())
		}

		peer := network.WireguardPeer{PublicKey: fields[0]}

		if fields[1] != "(none)" {
			peer.PresharedKey = fields[1]
		}

		if fields[2] != "(none)" {
			peer.Endpoint = fields[2]
		}

		if fields[3] != "(none)" {
			for _, allowed := range strings.Split(fields[3], ",") {
				if prefix, err := netip.ParsePrefix(allowed); err == nil {
					peer.AllowedIPs = append(peer.AllowedIPs, prefix)
				}
			}
		}

		if seconds, err := strconv.Atoi(fields[7]); err == nil {
			peer.PersistentKeepaliveInterval = time.Duration(seconds) * time.Second
		}

		var handshake time.Time
		if unix, err := strconv.ParseInt(fields[4], 10, 64); err == nil && unix > 0 {
			handshake = time.Unix(unix, 0)
		}

		spec.Peers = append(spec.Peers, peer)
		handshakes = append(handshakes, handshake)
	}

	return spec, handshakes, scanner.Err()
}

func parseFwmark(field string) int {
	if field == "off" {
		return 0
	}

	mark, err := strconv.ParseUint(strings.TrimPrefix(field, "0x"), 16, 32)
	if err != nil {
		return 0
	}

	return int(mark)
}
