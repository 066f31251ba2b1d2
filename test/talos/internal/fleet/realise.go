package fleet

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"sort"
	"sync"
)

// realiser makes a netns-backed node's network real in its Linux network
// namespace, as Talos's network controllers do on a machine: a WireGuard link
// per WireguardConfig document (wireguard-go), the routes and addresses of the
// physical link's LinkConfig, IPv4 forwarding (Talos's kernel parameter
// defaults, controllers/runtime/kernel_param_defaults.go), and the node's
// address taken away while a config makes it lose it (dhcp.go).
//
// Reconciles run in the background, one at a time, each towards the latest
// wanted state: an apply returns before its links exist, as in Talos.
type realiser struct {
	ns   string
	link string
	logf func(string, ...any)
	// addr is the node's own address in the namespace, on addrDev: the
	// physical link's (put there by whoever made the namespace), or, for a
	// node added through the API, its name as a /32 on lo, which the fleet adds.
	addr     netip.Prefix
	addrDev  string
	ownsAddr bool

	// op serialises reconciles and the final teardown.
	op sync.Mutex

	// mu guards the fields below; never held while running commands.
	mu         sync.Mutex
	want       netSpec
	up         bool
	closed     bool
	links      map[string]*realLink // by Talos link name
	routes     []netRoute           // the physical link's, from its LinkConfig
	addresses  []netip.Prefix       // the physical link's, from its LinkConfig
	addrInNs   bool
	forwarding bool
	lastErr    string
}

// realLink is a WireGuard link made real: its document and its interface.
type realLink struct {
	spec  wgLinkSpec
	iface string
	proc  *wgProcess
}

func newRealiser(ns, link string, addr netip.Prefix, ownAddr bool, logf func(string, ...any)) *realiser {
	r := &realiser{ns: ns, link: link, addr: addr, addrDev: link, addrInNs: true, logf: logf, links: map[string]*realLink{}}

	if ownAddr {
		r.addrDev, r.ownsAddr, r.addrInNs = "lo", true, false
		r.addr = netip.PrefixFrom(addr.Addr(), addr.Addr().BitLen())
	}

	return r
}

// set asks for the network of spec (up) or for none (down: rebooting, off).
func (r *realiser) set(spec netSpec, up bool) {
	r.mu.Lock()
	r.want, r.up = spec, up
	r.mu.Unlock()

	go r.reconcile()
}

// realisedLinks are the Talos names of the WireGuard links made real, by
// name, with their interfaces; and the last reconcile's error.
func (r *realiser) realisedLinks() (map[string]string, string) {
	r.mu.Lock()
	defer r.mu.Unlock()

	links := make(map[string]string, len(r.links))
	for name, link := range r.links {
		links[name] = link.iface
	}

	return links, r.lastErr
}

// close tears everything down and gives the namespace back as it was found;
// it returns once done. Later reconciles do nothing.
func (r *realiser) close() {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()

	r.op.Lock()
	defer r.op.Unlock()

	var errs []error

	errs = append(errs, r.realiseWireguard(nil)...)
	errs = append(errs, r.realisePhysical(physicalLinkSpec{})...)

	switch {
	case !r.addr.IsValid():
	case r.ownsAddr && r.addrInNs:
		errs = append(errs, r.setAddress(false)...)
	case !r.ownsAddr && !r.addrInNs:
		errs = append(errs, r.setAddress(true)...)
	}

	r.finish(errs)
}

func (r *realiser) reconcile() {
	r.op.Lock()
	defer r.op.Unlock()

	r.mu.Lock()
	want, up, closed := r.want, r.up, r.closed
	r.mu.Unlock()

	if closed {
		return
	}

	var errs []error

	if !up {
		errs = append(errs, r.realiseWireguard(nil)...)
		errs = append(errs, r.realisePhysical(physicalLinkSpec{})...)
		r.finish(errs)

		return
	}

	if !r.forwarding {
		if err := r.enableForwarding(); err != nil {
			errs = append(errs, err)
		} else {
			r.forwarding = true
		}
	}

	// The address comes before the routes through it and goes after them.
	lost := want.LostAddress != ""
	if !lost && !r.addrInNs && r.addr.IsValid() {
		errs = append(errs, r.setAddress(true)...)
	}

	errs = append(errs, r.realiseWireguard(want.Wireguard)...)
	errs = append(errs, r.realisePhysical(want.Physical)...)

	if lost && r.addrInNs && r.addr.IsValid() {
		errs = append(errs, r.setAddress(false)...)
	}

	r.finish(errs)
}

func (r *realiser) finish(errs []error) {
	r.mu.Lock()
	defer r.mu.Unlock()

	r.lastErr = ""
	if err := errors.Join(errs...); err != nil {
		r.lastErr = err.Error()
	}
}

// enableForwarding sets net.ipv4.ip_forward=1 in the namespace.
func (r *realiser) enableForwarding() error {
	r.logf("netns %s: net.ipv4.ip_forward=1", r.ns)

	err := inNetns(r.ns, func() error {
		return os.WriteFile("/proc/sys/net/ipv4/ip_forward", []byte("1\n"), 0o644)
	})
	if err != nil {
		err = fmt.Errorf("netns %s: setting net.ipv4.ip_forward: %w", r.ns, err)
		r.logf("failed: %v", err)
	}

	return err
}

// setAddress puts the node's address in the namespace or takes it away.
func (r *realiser) setAddress(present bool) []error {
	verb := "del"
	if present {
		verb = "add"
	}

	if _, err := run(r.logf, "ip", "-n", r.ns, "addr", verb, r.addr.String(), "dev", r.addrDev); err != nil {
		return []error{err}
	}

	r.mu.Lock()
	r.addrInNs = present
	r.mu.Unlock()

	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}

	sort.Strings(keys)

	return keys
}
