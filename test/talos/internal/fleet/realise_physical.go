package fleet

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/siderolabs/talos/pkg/machinery/nethelpers"
)

// realisePhysical makes the physical link's configured routes and extra
// addresses (not the node's own) those of spec.
func (r *realiser) realisePhysical(spec physicalLinkSpec) []error {
	var errs []error

	r.mu.Lock()
	oldRoutes, oldAddresses := r.routes, r.addresses
	r.mu.Unlock()

	var wantAddresses []netip.Prefix

	for _, address := range spec.Addresses {
		if address.Addr() != r.addr.Addr() {
			wantAddresses = append(wantAddresses, address)
		}
	}

	for _, route := range oldRoutes {
		if !slices.Contains(spec.Routes, route) {
			// The kernel drops a route whose gateway became unreachable: gone is fine.
			if _, err := run(r.logf, "ip", routeArgs(r.ns, "del", route, r.link)...); err != nil && !strings.Contains(err.Error(), "No such process") {
				errs = append(errs, err)
			}
		}
	}

	for _, address := range oldAddresses {
		if !slices.Contains(wantAddresses, address) {
			if _, err := run(r.logf, "ip", "-n", r.ns, "addr", "del", address.String(), "dev", r.link); err != nil {
				errs = append(errs, err)
			}
		}
	}

	var addresses []netip.Prefix

	for _, address := range wantAddresses {
		if slices.Contains(oldAddresses, address) {
			addresses = append(addresses, address)

			continue
		}

		if _, err := run(r.logf, "ip", "-n", r.ns, "addr", "add", address.String(), "dev", r.link); err != nil {
			errs = append(errs, err)
		} else {
			addresses = append(addresses, address)
		}
	}

	var routes []netRoute

	for _, route := range spec.Routes {
		if slices.Contains(oldRoutes, route) {
			routes = append(routes, route)

			continue
		}

		if _, err := run(r.logf, "ip", routeArgs(r.ns, "replace", route, r.link)...); err != nil {
			errs = append(errs, err)
		} else {
			routes = append(routes, route)
		}
	}

	r.mu.Lock()
	r.routes, r.addresses = routes, addresses
	r.mu.Unlock()

	return errs
}

// routeArgs is `ip -n NS route VERB DEST [via GW] dev DEV [src SRC] metric M
// proto static [table T]`, the route Talos's route spec controller would add.
func routeArgs(ns, verb string, route netRoute, dev string) []string {
	args := []string{"-n", ns}
	if route.family() == nethelpers.FamilyInet6 {
		args = append(args, "-6")
	}

	args = append(args, "route", verb, route.destination().String())

	if route.Gateway.IsValid() {
		args = append(args, "via", route.Gateway.String())
	}

	args = append(args, "dev", dev)

	if route.Source.IsValid() {
		args = append(args, "src", route.Source.String())
	}

	args = append(args, "metric", strconv.FormatUint(uint64(route.Metric), 10), "proto", "static")

	if route.Table != nethelpers.TableMain && route.Table != 0 {
		args = append(args, "table", strconv.FormatUint(uint64(route.Table), 10))
	}

	return args
}
