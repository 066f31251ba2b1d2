// Package fleet runs fake Talos nodes that speak Talos's own gRPC API
// (github.com/siderolabs/talos/pkg/machinery/api/machine) and mirror how Talos
// v1.13 answers: maintenance mode, mutual TLS with the OS CA, RBAC roles, apid's
// `nodes` routing, apply-config modes, bootstrap and etcd membership, the COSI
// resource API for network resources, NetworkDeviceStats, and which configs
// cost a node its DHCP address. A node's WireGuard links can be made real in
// a Linux network namespace (realise.go).
package fleet

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"sync"
	"time"

	"github.com/siderolabs/talos/pkg/machinery/config"
	"github.com/siderolabs/talos/pkg/machinery/config/configloader"
	"github.com/siderolabs/talos/pkg/machinery/constants"

	"hybridctl.dev/test/talos/internal/talosmode"
)

// Options configure a fleet.
type Options struct {
	// RebootDelay is how long a node is unreachable while rebooting.
	RebootDelay time.Duration
	// Kubeconfig, when set, is handed out by Kubeconfig instead of a generated one.
	Kubeconfig []byte
	// Port every node listens on; 0 means Talos's apid port, 50000.
	Port   int
	Logger *log.Logger
}

// NodeSpec describes one fake node.
type NodeSpec struct {
	// IP is the address the node listens on.
	IP string
	// Name is how the fleet knows the node: `nodes` metadata targets,
	// metadata.hostname, etcd members, the status endpoint. Default: IP.
	Name string
	Role string // controlplane or worker
	Mode talosmode.Mode
	// Preconfigured, when set, is the machine config the node starts with
	// (installed on its disk: a Reset wipes it).
	Preconfigured []byte
	// Bootstrapped marks the preconfigured node's cluster as bootstrapped.
	Bootstrapped bool
	// UserData, when set, is the machine config the platform hands the node
	// (EC2 user-data): applied at every boot that finds no config on disk,
	// including the first one and those after a Reset.
	UserData []byte
	// Hostname is the platform's hostname for the node (EC2 metadata
	// "hostname"; only the part before the first dot is used, as Talos does).
	// A hostname in the machine config wins; default talos-<name with dashes>.
	Hostname string
	// BootDelay keeps a node added with AddNode off the network that long.
	BootDelay time.Duration
	// Netns is an existing Linux network namespace holding the node's
	// network: its WireGuard links and routes are realised there. A node of
	// New listens inside it; a node of AddNode listens in the fleet's own
	// namespace, and its name, if an IP, is added to the namespace's lo as a /32.
	Netns string
	// Link is the name of the node's physical link (default eth0).
	Link string
	// Prefix is the length of the node's address prefix (default 24; 64 for IPv6).
	Prefix int
	// Address is where the node's address comes from: "dhcp" (default) or
	// "static" (the kernel command line).
	Address string
}

// Fleet is a set of fake nodes served from one process.
type Fleet struct {
	opts   Options
	ctx    context.Context
	cancel context.CancelFunc

	// mu guards every node's state and the cluster state.
	mu sync.Mutex
	// nodes holds the nodes by name; order in the order they were added.
	nodes map[string]*Node
	order []*Node
	// bootstrapped holds the IDs (cluster.id) of bootstrapped clusters.
	bootstrapped map[string]bool
}

// New checks the specs and prepares the nodes; Start makes them listen.
func New(opts Options, specs []NodeSpec) (*Fleet, error) {
	if opts.Port == 0 {
		opts.Port = constants.ApidPort
	}

	if opts.Logger == nil {
		opts.Logger = log.Default()
	}

	ctx, cancel := context.WithCancel(context.Background())

	f := &Fleet{
		opts:         opts,
		ctx:          ctx,
		cancel:       cancel,
		nodes:        map[string]*Node{},
		bootstrapped: map[string]bool{},
	}

	for _, spec := range specs {
		n, err := newNode(f, spec, createdByFlag)
		if err == nil {
			err = f.checkUniqueLocked(n)
		}

		if err != nil {
			cancel()

			return nil, fmt.Errorf("node %s: %w", spec.IP, err)
		}

		f.addLocked(n)

		if spec.Bootstrapped && n.cfg != nil {
			f.bootstrapped[n.cfg.Cluster().ID()] = true
		}
	}

	return f, nil
}

// Start makes every node listen; it returns once all of them do.
func (f *Fleet) Start() error {
	f.mu.Lock()
	defer f.mu.Unlock()

	for _, n := range f.order {
		if err := n.serveLocked(); err != nil {
			return fmt.Errorf("node %s: %w", n.name, err)
		}
	}

	return nil
}

// Close stops every node and tears down what it realised in namespaces
// (WireGuard processes and interfaces, routes, addresses).
func (f *Fleet) Close() {
	f.cancel()

	f.mu.Lock()
	servers := make([]*nodeServer, 0, len(f.nodes))

	var realisers []*realiser

	for _, n := range f.nodes {
		servers = append(servers, n.server)
		n.server = nil

		if n.net != nil {
			realisers = append(realisers, n.net)
		}
	}
	f.mu.Unlock()

	for _, s := range servers {
		s.stop()
	}

	var wg sync.WaitGroup

	for _, r := range realisers {
		wg.Go(r.close)
	}

	wg.Wait()
}

// checkUniqueLocked refuses a node whose name or address another node has.
func (f *Fleet) checkUniqueLocked(n *Node) error {
	if _, dup := f.nodes[n.name]; dup {
		return conflict(fmt.Errorf("a node named %s exists", n.name))
	}

	for _, other := range f.order {
		if other.ip == n.ip {
			return conflict(fmt.Errorf("node %s already listens on %s", other.name, n.ip))
		}
	}

	return nil
}

func (f *Fleet) addLocked(n *Node) {
	f.nodes[n.name] = n
	f.order = append(f.order, n)
}

// findLocked finds a node by name, else by the address it listens on.
func (f *Fleet) findLocked(key string) *Node {
	if n := f.nodes[key]; n != nil {
		return n
	}

	for _, n := range f.order {
		if n.ip == key {
			return n
		}
	}

	return nil
}

func (f *Fleet) logf(format string, args ...any) {
	f.opts.Logger.Printf(format, args...)
}

func loadConfig(data []byte) (config.Provider, error) {
	return configloader.NewFromBytes(data)
}

// clusterMembersLocked lists the control planes holding a config of the cluster
// that have not left etcd, in the order they were added: once the cluster is
// bootstrapped, these are its etcd members.
func (f *Fleet) clusterMembersLocked(clusterID string) []*Node {
	var members []*Node

	for _, n := range f.order {
		if n.cfg != nil && n.isControlPlaneLocked() && !n.leftEtcd && n.cfg.Cluster().ID() == clusterID {
			members = append(members, n)
		}
	}

	return members
}

// forgetClusterLocked drops the bootstrapped mark once no control plane of the
// cluster holds a config any more (its etcd data is gone everywhere).
func (f *Fleet) forgetClusterLocked(clusterID string) {
	if len(f.clusterMembersLocked(clusterID)) == 0 {
		delete(f.bootstrapped, clusterID)
	}
}

// caKeyLocked finds the OS CA key for a CA certificate among the control planes'
// configs: workers carry only the CA certificate and get their API certificate
// from trustd on a control plane.
func (f *Fleet) caKeyLocked(caCrt []byte) []byte {
	for _, n := range f.order {
		if n.cfg == nil || n.state != stateConfigured || !n.isControlPlaneLocked() {
			continue
		}

		ca := n.cfg.Machine().Security().IssuingCA()
		if ca != nil && len(ca.Key) > 0 && bytes.Equal(ca.Crt, caCrt) {
			return ca.Key
		}
	}

	return nil
}
