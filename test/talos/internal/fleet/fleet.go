// Package fleet runs fake Talos nodes that speak Talos's own gRPC API
// (github.com/siderolabs/talos/pkg/machinery/api/machine) and mirror how Talos
// v1.13 answers: maintenance mode, mutual TLS with the OS CA, RBAC roles, apid's
// `nodes` routing, apply-config modes, bootstrap and etcd membership.
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
	IP   string
	Role string // controlplane or worker
	Mode talosmode.Mode
	// Preconfigured, when set, is the machine config the node starts with.
	Preconfigured []byte
	// Bootstrapped marks the preconfigured node's cluster as bootstrapped.
	Bootstrapped bool
}

// Fleet is a set of fake nodes served from one process.
type Fleet struct {
	opts   Options
	ctx    context.Context
	cancel context.CancelFunc

	// mu guards every node's state and the cluster state.
	mu    sync.Mutex
	nodes map[string]*Node
	order []string
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
		if _, dup := f.nodes[spec.IP]; dup {
			cancel()

			return nil, fmt.Errorf("node %s given twice", spec.IP)
		}

		n, err := newNode(f, spec)
		if err != nil {
			cancel()

			return nil, fmt.Errorf("node %s: %w", spec.IP, err)
		}

		f.nodes[spec.IP] = n
		f.order = append(f.order, spec.IP)

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

	for _, ip := range f.order {
		n := f.nodes[ip]
		if err := n.serveLocked(); err != nil {
			return fmt.Errorf("node %s: %w", ip, err)
		}
	}

	return nil
}

// Close stops every node.
func (f *Fleet) Close() {
	f.cancel()

	f.mu.Lock()
	servers := make([]*nodeServer, 0, len(f.nodes))

	for _, n := range f.nodes {
		servers = append(servers, n.server)
		n.server = nil
	}
	f.mu.Unlock()

	for _, s := range servers {
		s.stop()
	}
}

func (f *Fleet) logf(format string, args ...any) {
	f.opts.Logger.Printf(format, args...)
}

func loadConfig(data []byte) (config.Provider, error) {
	return configloader.NewFromBytes(data)
}

// clusterMembersLocked lists the control planes holding a config of the cluster,
// in flag order: once the cluster is bootstrapped, these are its etcd members.
func (f *Fleet) clusterMembersLocked(clusterID string) []*Node {
	var members []*Node

	for _, ip := range f.order {
		n := f.nodes[ip]
		if n.cfg != nil && n.isControlPlaneLocked() && n.cfg.Cluster().ID() == clusterID {
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
	for _, ip := range f.order {
		n := f.nodes[ip]
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
