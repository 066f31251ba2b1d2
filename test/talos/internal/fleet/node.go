package fleet

import (
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/siderolabs/talos/pkg/machinery/api/machine"
	"github.com/siderolabs/talos/pkg/machinery/config"
	"github.com/siderolabs/talos/pkg/machinery/constants"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"

	"hybridctl.dev/test/talos/internal/talosmode"
)

type nodeState string

const (
	stateMaintenance nodeState = "maintenance"
	stateConfigured  nodeState = "configured"
	stateRebooting   nodeState = "rebooting"
	stateOff         nodeState = "off"
)

// certRetryInterval is how often a worker without an API certificate asks "trustd" again.
const certRetryInterval = 200 * time.Millisecond

// Node is one fake Talos node. Every field below spec is guarded by Fleet.mu.
type Node struct {
	f    *Fleet
	ip   string
	role string
	mode talosmode.Mode

	state     nodeState
	cfg       config.Provider
	cfgBytes  []byte
	staged    []byte
	installed bool
	// rebootPending is machined's applyConfigRebooted: set by an apply in REBOOT mode.
	rebootPending bool
	server        *nodeServer
	// boot changes whenever the node goes down, so timers of an earlier boot do nothing.
	boot      int
	tryRevert *time.Timer

	applyCount     int
	bootstrapCount int
	lastApplyMode  string
	calls          map[string]int
	failures       map[string]int

	// tls is read during handshakes, outside Fleet.mu.
	tls atomic.Pointer[tls.Config]
}

func newNode(f *Fleet, spec NodeSpec) (*Node, error) {
	if spec.Role != "controlplane" && spec.Role != "worker" {
		return nil, fmt.Errorf("role %q: want controlplane or worker", spec.Role)
	}

	n := &Node{
		f:         f,
		ip:        spec.IP,
		role:      spec.Role,
		mode:      spec.Mode,
		state:     stateMaintenance,
		installed: spec.Mode == talosmode.Container,
		calls:     map[string]int{},
		failures:  map[string]int{},
	}

	if net.ParseIP(spec.IP) == nil {
		return nil, fmt.Errorf("%q is not an IP address", spec.IP)
	}

	if spec.Preconfigured != nil {
		cfg, err := loadConfig(spec.Preconfigured)
		if err != nil {
			return nil, fmt.Errorf("preconfigured: %w", err)
		}

		if got := roleOf(cfg); got != spec.Role {
			return nil, fmt.Errorf("preconfigured config is for a %s, the node is a %s", got, spec.Role)
		}

		n.setConfigLocked(spec.Preconfigured, cfg)
	}

	return n, nil
}

func roleOf(cfg config.Provider) string {
	if cfg.Machine() != nil && cfg.Machine().Type().IsControlPlane() {
		return "controlplane"
	}

	return "worker"
}

func (n *Node) isControlPlaneLocked() bool {
	return n.cfg != nil && n.cfg.Machine() != nil && n.cfg.Machine().Type().IsControlPlane()
}

func (n *Node) clusterIDLocked() string {
	if n.cfg == nil || n.cfg.Cluster() == nil {
		return ""
	}

	return n.cfg.Cluster().ID()
}

// hostnameLocked is the configured hostname, or one derived from the IP
// (real Talos derives a "stable" one from the machine's identity).
func (n *Node) hostnameLocked() string {
	if n.cfg != nil {
		if h := n.cfg.NetworkHostnameConfig(); h != nil && h.Hostname() != "" {
			return h.Hostname()
		}
	}

	return "talos-" + strings.NewReplacer(".", "-", ":", "-").Replace(n.ip)
}

func (n *Node) configHashLocked() string {
	if n.cfgBytes == nil {
		return ""
	}

	sum := sha256.Sum256(n.cfgBytes)

	return hex.EncodeToString(sum[:])
}

func (n *Node) setConfigLocked(data []byte, cfg config.Provider) {
	previousCluster := n.clusterIDLocked()

	n.cfgBytes = data
	n.cfg = cfg
	n.installed = true

	if previousCluster != "" && previousCluster != n.clusterIDLocked() {
		n.f.forgetClusterLocked(previousCluster)
	}
}

// wipeLocked is Reset: the system disk is gone, and with it config and etcd data.
func (n *Node) wipeLocked() {
	clusterID := n.clusterIDLocked()

	n.cfg, n.cfgBytes, n.staged = nil, nil, nil
	n.installed = n.mode == talosmode.Container

	if clusterID != "" {
		n.f.forgetClusterLocked(clusterID)
	}
}

// serveLocked starts the API for the node's current config: the maintenance
// service without one, mutual TLS with the OS CA with one.
func (n *Node) serveLocked() error {
	maintenance := n.cfg == nil || !n.cfg.CompleteForBoot()

	var (
		tlsConfig *tls.Config
		err       error
	)

	if maintenance {
		n.state = stateMaintenance
		tlsConfig, err = maintenanceTLS(n.ip)
	} else {
		n.state = stateConfigured
		tlsConfig, err = n.apiTLSLocked()

		if errors.Is(err, errNoCAKey) {
			n.waitForCertsLocked()

			return nil
		}
	}

	if err != nil {
		return err
	}

	n.tls.Store(tlsConfig)

	srv, err := n.listen(maintenance)
	if err != nil {
		return err
	}

	n.server = srv
	n.f.logf("node %s: serving in %s mode", n.ip, n.state)

	return nil
}

// waitForCertsLocked retries serving until a control plane of the cluster can
// sign the worker's API certificate, as trustd would.
func (n *Node) waitForCertsLocked() {
	n.f.logf("node %s: configured, waiting for a control plane to issue the API certificate", n.ip)

	boot := n.boot

	time.AfterFunc(certRetryInterval, func() {
		n.f.mu.Lock()
		defer n.f.mu.Unlock()

		if n.f.ctx.Err() != nil || n.boot != boot || n.server != nil || n.state != stateConfigured {
			return
		}

		if err := n.serveLocked(); err != nil {
			n.f.logf("node %s: %v", n.ip, err)
		}
	})
}

// shutdownLocked takes the node off the network.
func (n *Node) shutdownLocked(next nodeState) {
	n.state = next
	n.boot++

	if n.tryRevert != nil {
		n.tryRevert.Stop()
		n.tryRevert = nil
	}

	srv := n.server
	n.server = nil

	go srv.stop()
}

// rebootLocked takes the node down for the reboot delay, runs then (if any) and
// brings the node back with whatever config it then holds.
func (n *Node) rebootLocked(then func()) {
	n.shutdownLocked(stateRebooting)
	n.f.logf("node %s: rebooting", n.ip)

	boot := n.boot

	go func() {
		select {
		case <-time.After(n.f.opts.RebootDelay):
		case <-n.f.ctx.Done():
			return
		}

		n.f.mu.Lock()
		defer n.f.mu.Unlock()

		if n.boot != boot {
			return
		}

		n.rebootPending = false

		if then != nil {
			then()
		}

		n.bootLocked()
	}()
}

// bootLocked activates a staged config, then serves.
func (n *Node) bootLocked() {
	if n.staged != nil {
		if cfg, err := loadConfig(n.staged); err == nil {
			n.setConfigLocked(n.staged, cfg)
		}

		n.staged = nil
	}

	if err := n.serveLocked(); err != nil {
		n.f.logf("node %s: cannot come back: %v", n.ip, err)
		n.state = stateOff
	}
}

type nodeServer struct {
	grpc *grpc.Server
}

func (n *Node) listen(maintenance bool) (*nodeServer, error) {
	lis, err := net.Listen("tcp", net.JoinHostPort(n.ip, strconv.Itoa(n.f.opts.Port)))
	if err != nil {
		return nil, err
	}

	creds := credentials.NewTLS(&tls.Config{
		MinVersion: tls.VersionTLS13,
		NextProtos: []string{"h2"},
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			return n.tls.Load(), nil
		},
	})

	srv := grpc.NewServer(
		grpc.Creds(creds),
		grpc.MaxRecvMsgSize(constants.GRPCMaxMessageSize),
		grpc.UnaryInterceptor(n.unaryInterceptor(maintenance)),
		grpc.StreamInterceptor(n.streamInterceptor(maintenance)),
	)
	machine.RegisterMachineServiceServer(srv, &service{n: n})

	go srv.Serve(lis) //nolint:errcheck

	return &nodeServer{grpc: srv}, nil
}

// stop lets calls in flight (such as the apply that caused a reboot) answer, briefly.
func (s *nodeServer) stop() {
	if s == nil {
		return
	}

	done := make(chan struct{})

	go func() {
		s.grpc.GracefulStop()
		close(done)
	}()

	select {
	case <-done:
	case <-time.After(time.Second):
		s.grpc.Stop()
	}
}

func methodName(fullMethod string) string {
	return fullMethod[strings.LastIndex(fullMethod, "/")+1:]
}

// takeFailure consumes one failure injected through the status endpoint.
func (n *Node) takeFailure(fullMethod string) error {
	n.f.mu.Lock()
	defer n.f.mu.Unlock()

	name := methodName(fullMethod)
	if n.failures[name] == 0 {
		return nil
	}

	n.failures[name]--

	return status.Errorf(codes.Unavailable, "injected failure of %s on %s", name, n.ip)
}
