// Package fakenodes creates Node objects for fake kubelets and runs kwok to act as them.
package fakenodes

import (
	"fmt"
	"net"
	"strings"
)

// Role is what Talos makes a machine: a control plane or a worker.
type Role string

// The roles a node can have.
const (
	ControlPlane Role = "controlplane"
	Worker       Role = "worker"
)

// Spec is one fake node.
type Spec struct {
	Name string
	Role Role
}

// ParseSpec reads NAME[:ROLE], ROLE being controlplane (or control-plane) or worker (the default).
func ParseSpec(s string) (Spec, error) {
	name, role, _ := strings.Cut(s, ":")
	if name == "" {
		return Spec{}, fmt.Errorf("node %q: empty name", s)
	}
	switch role {
	case "", string(Worker):
		return Spec{Name: name, Role: Worker}, nil
	case string(ControlPlane), "control-plane":
		return Spec{Name: name, Role: ControlPlane}, nil
	}
	return Spec{}, fmt.Errorf("node %q: role must be controlplane or worker", s)
}

// addressFromName reads the IP that Talos encodes in default hostnames like talos-10-40-0-5.
func addressFromName(name string) net.IP {
	rest, ok := strings.CutPrefix(name, "talos-")
	if !ok {
		return nil
	}
	return net.ParseIP(strings.ReplaceAll(rest, "-", ".")).To4()
}
