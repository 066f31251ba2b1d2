package fleet

import (
	"fmt"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// realiseWireguard makes the WireGuard links those of specs: links whose
// document is gone or changed go (a changed one comes back anew), unchanged
// ones are left alone, so their sessions survive.
func (r *realiser) realiseWireguard(specs []wgLinkSpec) []error {
	var errs []error

	wanted := map[string]wgLinkSpec{}
	for _, spec := range specs {
		wanted[spec.Name] = spec
	}

	r.mu.Lock()
	current := make(map[string]*realLink, len(r.links))
	for name, link := range r.links {
		current[name] = link
	}
	r.mu.Unlock()

	for _, name := range sortedKeys(current) {
		link := current[name]
		if spec, ok := wanted[name]; ok && reflect.DeepEqual(spec, link.spec) {
			continue
		}

		errs = append(errs, r.removeLink(link)...)

		r.mu.Lock()
		delete(r.links, name)
		r.mu.Unlock()
	}

	for _, spec := range specs {
		r.mu.Lock()
		_, exists := r.links[spec.Name]
		r.mu.Unlock()

		if exists {
			continue
		}

		link, linkErrs := r.addLink(spec)
		errs = append(errs, linkErrs...)

		if link != nil {
			r.mu.Lock()
			r.links[spec.Name] = link
			r.mu.Unlock()
		}
	}

	return errs
}

// addLink starts wireguard-go for a document and configures the interface
// as Talos's link and address spec controllers would: keys and peers, then
// addresses, MTU and up, then routes. It answers the link once wireguard-go
// runs, with whatever failed after that.
func (r *realiser) addLink(spec wgLinkSpec) (*realLink, []error) {
	iface := newIfaceName()
	r.logf("netns %s: WireGuard link %s is interface %s", r.ns, spec.Name, iface)

	proc, err := startWireguardGo(r.logf, r.ns, iface)
	if err != nil {
		return nil, []error{fmt.Errorf("link %s: %w", spec.Name, err)}
	}

	link := &realLink{spec: spec, iface: iface, proc: proc}

	var errs []error

	if err = r.configureWireguard(iface, spec); err != nil {
		errs = append(errs, err)
	}

	for _, address := range spec.Addresses {
		if _, err = run(r.logf, "ip", "-n", r.ns, "addr", "add", address.String(), "dev", iface); err != nil {
			errs = append(errs, err)
		}
	}

	upArgs := []string{"-n", r.ns, "link", "set", iface, "mtu", strconv.FormatUint(uint64(spec.MTU), 10)}
	if spec.Up {
		upArgs = append(upArgs, "up")
	}

	if _, err = run(r.logf, "ip", upArgs...); err != nil {
		errs = append(errs, err)
	}

	if spec.Up {
		for _, route := range spec.Routes {
			if _, err = run(r.logf, "ip", routeArgs(r.ns, "replace", route, iface)...); err != nil {
				errs = append(errs, err)
			}
		}
	}

	for i := range errs {
		errs[i] = fmt.Errorf("link %s: %w", spec.Name, errs[i])
	}

	return link, errs
}

// configureWireguard is `wg set`, with the keys in 0600 files removed afterwards.
func (r *realiser) configureWireguard(iface string, spec wgLinkSpec) error {
	dir, err := os.MkdirTemp("", "talos-server-wg-")
	if err != nil {
		return err
	}

	defer os.RemoveAll(dir) //nolint:errcheck

	keyFile := func(name, key string) (string, error) {
		path := dir + "/" + name

		return path, os.WriteFile(path, []byte(key+"\n"), 0o600)
	}

	privateKey, err := keyFile("private", spec.PrivateKey)
	if err != nil {
		return err
	}

	args := []string{"netns", "exec", r.ns, "wg", "set", iface, "private-key", privateKey}

	if spec.ListenPort != 0 {
		args = append(args, "listen-port", strconv.Itoa(spec.ListenPort))
	}

	if spec.FirewallMark != 0 {
		args = append(args, "fwmark", strconv.Itoa(spec.FirewallMark))
	}

	for i, peer := range spec.Peers {
		args = append(args, "peer", peer.PublicKey)

		if peer.PresharedKey != "" {
			psk, err := keyFile("psk"+strconv.Itoa(i), peer.PresharedKey)
			if err != nil {
				return err
			}

			args = append(args, "preshared-key", psk)
		}

		if peer.Endpoint != "" {
			args = append(args, "endpoint", peer.Endpoint)
		}

		if peer.Keepalive > 0 {
			args = append(args, "persistent-keepalive", strconv.Itoa(int((peer.Keepalive+time.Second-1)/time.Second)))
		}

		if len(peer.AllowedIPs) > 0 {
			allowed := make([]string, len(peer.AllowedIPs))
			for j, prefix := range peer.AllowedIPs {
				allowed[j] = prefix.String()
			}

			args = append(args, "allowed-ips", strings.Join(allowed, ","))
		}
	}

	_, err = run(r.logf, "ip", args...)

	return err
}

// removeLink stops wireguard-go, which takes its TUN interface (and the
// routes through it) away; then makes sure the interface is gone.
func (r *realiser) removeLink(link *realLink) []error {
	r.logf("netns %s: removing WireGuard link %s (interface %s)", r.ns, link.spec.Name, link.iface)
	link.proc.stop()

	if out, err := query(func(string, ...any) {}, "ip", "-n", r.ns, "-o", "link", "show", link.iface); err == nil && out != "" {
		if _, err = run(r.logf, "ip", "-n", r.ns, "link", "del", link.iface); err != nil {
			return []error{fmt.Errorf("link %s: %w", link.spec.Name, err)}
		}
	}

	return nil
}
