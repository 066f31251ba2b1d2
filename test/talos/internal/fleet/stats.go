package fleet

import (
	"context"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/siderolabs/talos/pkg/machinery/api/machine"
	"google.golang.org/protobuf/types/known/emptypb"
)

// NetworkDeviceStats is machined's (v1alpha1_monitoring.go): one message with
// a NetDev per link and their total, named as procfs's NetDev.Total names it
// (the links' names, sorted, joined by ", "). The links are lo, the physical
// link and the WireGuard links, under Talos's names; a netns-backed node's
// counters are its interfaces' in /proc/net/dev of its namespace (what
// procfs reads in Talos), other nodes' are zero.
func (s *service) NetworkDeviceStats(context.Context, *emptypb.Empty) (*machine.NetworkDeviceStatsResponse, error) {
	snap := s.n.netSnapshot()

	var counters map[string]netDev

	if snap.netns != "" {
		var err error
		if counters, err = readNetDev(snap.netns); err != nil {
			return nil, err
		}
	}

	stats := &machine.NetworkDeviceStats{Total: &machine.NetDev{}}

	var names []string

	for _, link := range snap.linkNames() {
		dev := netDevOf(link.name, counters[link.iface].counters)
		stats.Devices = append(stats.Devices, dev)
		names = append(names, link.name)
		addNetDev(stats.Total, dev)
	}

	sort.Strings(names)
	stats.Total.Name = strings.Join(names, ", ")

	return &machine.NetworkDeviceStatsResponse{Messages: []*machine.NetworkDeviceStats{stats}}, nil
}

// netDevOf maps /proc/net/dev's columns, in order.
func netDevOf(name string, c [16]uint64) *machine.NetDev {
	return &machine.NetDev{
		Name:         name,
		RxBytes:      c[0],
		RxPackets:    c[1],
		RxErrors:     c[2],
		RxDropped:    c[3],
		RxFifo:       c[4],
		RxFrame:      c[5],
		RxCompressed: c[6],
		RxMulticast:  c[7],
		TxBytes:      c[8],
		TxPackets:    c[9],
		TxErrors:     c[10],
		TxDropped:    c[11],
		TxFifo:       c[12],
		TxCollisions: c[13],
		TxCarrier:    c[14],
		TxCompressed: c[15],
	}
}

func addNetDev(total, dev *machine.NetDev) {
	total.RxBytes += dev.RxBytes
	total.RxPackets += dev.RxPackets
	total.RxErrors += dev.RxErrors
	total.RxDropped += dev.RxDropped
	total.RxFifo += dev.RxFifo
	total.RxFrame += dev.RxFrame
	total.RxCompressed += dev.RxCompressed
	total.RxMulticast += dev.RxMulticast
	total.TxBytes += dev.TxBytes
	total.TxPackets += dev.TxPackets
	total.TxErrors += dev.TxErrors
	total.TxDropped += dev.TxDropped
	total.TxFifo += dev.TxFifo
	total.TxCollisions += dev.TxCollisions
	total.TxCarrier += dev.TxCarrier
	total.TxCompressed += dev.TxCompressed
}

// netDev is one line of /proc/net/dev, the counters Talos's
// NetworkDeviceStats reads (v1alpha1_monitoring.go, through procfs).
type netDev struct {
	name     string
	counters [16]uint64
}

// readNetDev reads /proc/net/dev as seen from namespace ns.
func readNetDev(ns string) (map[string]netDev, error) {
	var data []byte

	err := inNetns(ns, func() error {
		var err error

		// thread-self: this thread's namespace, not the process's.
		data, err = os.ReadFile("/proc/thread-self/net/dev")

		return err
	})
	if err != nil {
		return nil, err
	}

	devs := map[string]netDev{}

	for i, line := range strings.Split(string(data), "\n") {
		name, rest, ok := strings.Cut(line, ":")
		if i < 2 || !ok {
			continue
		}

		dev := netDev{name: strings.TrimSpace(name)}

		for j, field := range strings.Fields(rest) {
			if j < len(dev.counters) {
				dev.counters[j], _ = strconv.ParseUint(field, 10, 64)
			}
		}

		devs[dev.name] = dev
	}

	return devs, nil
}
