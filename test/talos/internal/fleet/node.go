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
	// stateBooting is a node added with a boot delay that has not come up yet.
	stateBooting nodeState = "booting"
)

// How a node came to be, as the status endpoint reports it.
const (
	createdByFlag = "flag"
	createdByAPI  = "api"
)

// certRetryInterval is how often a worker without an API certificate asks "trustd" again.
const certRetryInterval = 200 * time.Millisecond

// Node is one fake Talos node. Every field below userData is guarded by Fleet.mu.
type Node struct {
	f *Fleet
	// ip is the address the node listens on, name how the fleet knows it.
	ip        string
	name      string
	role      string
	mode      talosmode.Mode
	createdBy string
	// platformHostname is the platform's hostname (EC2 metadata), without domain.
	platformHostname string
	// userData is the config the platform hands the node at boot (nil: none).
	userData []byte

	state     nodeState
	cfg       config.Provider
	cfgBytes  []byte
	staged    []byte
	installed bool
	// rebootPending is machined's applyConfigRebooted: set by an apply in REBOOT mode.
	rebootPending bool
	// leftEtcd: a graceful Reset made the node leave etcd; it joins again at
	// its next boot if it still holds a control plane config.
	leftEtcd bool
	// removed: the node was deleted (its instance terminated); it never serves again.
	removed bool
	server  *nodeServer
	// boot changes whenever the node goes down, so timers of an earlier boot do nothing.
	boot      int
	tryRevert *time.Timer

	applyCount     int
	bootstrapCount int
	lastApplyMode  string
	calls          map[string]int
	failures       map[string]int

	// network is the node's network identity; net realises it in its
	// namespace (nil without one); lostAddress says why the active config
	// took the node's address away ("": it has it).
	network     nodeNetwork
	net         *realiser
	lostAddress string

	// tls is read during handshakes, outside Fleet.mu.
	tls atomic.Pointer[tls.Config]
}

// newNode checks a spec and prepares the node, with its config loaded (and,
// for user-data, validated as the platform config source does). The node is
// not shared yet: no lock is needed.
func newNode(f *Fleet, spec NodeSpec, createdBy string) (*Node, error) {
	if spec.Name == "" {
		spec.Name = spec.IP
	}

	switch {
	case spec.Role != "controlplane" && spec.Role != "worker":
		return nil, invalid(fmt.Errorf("role %q: want controlplane or worker", spec.Role))
	case net.ParseIP(spec.IP) == nil:
		return nil, invalid(fmt.Errorf("%q is not an IP address", spec.IP))
	case strings.ContainsAny(spec.Name, " \t\n/"):
		return nil, invalid(fmt.Errorf("name %q: no spaces or slashes", spec.Name))
	case checkTarget(spec.Name) != nil:
		return nil, invalid(fmt.Errorf("name %q: apid cannot route to it (a port, or empty)", spec.Name))
	case spec.Preconfigured != nil && spec.UserData != nil:
		return nil, invalid(errors.New("a preconfigured node gets no user-data"))
	case spec.BootDelay < 0:
		return nil, invalid(errors.New("the boot delay cannot be negative"))
	}

	if _, err := talosmode.Parse(spec.Mode.String()); err != nil {
		return nil, invalid(err)
	}

	nw, err := checkNetwork(spec)
	if err != nil {
		return nil, invalid(err)
	}

	hostname, _, _ := strings.Cut(spec.Hostname, ".")

	n := &Node{
		f:                f,
		ip:               spec.IP,
		name:             spec.Name,
		role:             spec.Role,
		mode:             spec.Mode,
		createdBy:        createdBy,
		platformHostname: hostname,
		userData:         spec.UserData,
		state:            stateMaintenance,
		installed:        spec.Mode == talosmode.Container,
		calls:            map[string]int{},
		failures:         map[string]int{},
		network:          nw,
	}

	n.net = n.newNodeRealiser()

	if spec.Preconfigured != nil {
		cfg, err := loadConfig(spec.Preconfigured)
		if err != nil {
			return nil, invalid(fmt.Errorf("preconfigured: %w", err))
		}

		if got := roleOf(cfg); got != spec.Role {
			return nil, invalid(fmt.Errorf("preconfigured config is for a %s, the node is a %s", got, spec.Role))
		}

		n.setConfigLocked(spec.Preconfigured, cfg)
	}

	if spec.UserData != nil {
		if n.userData, err = gunzipUserData(spec.UserData); err != nil {
			return nil, invalid(err)
		}

		cfg, err := n.loadUserData()
		if err != nil {
			return nil, invalid(err)
		}

		if got := roleOf(cfg); got != spec.Role {
			return nil, invalid(fmt.Errorf("the user-data is a %s config, the node is a %s", got, spec.Role))
		}

		n.setConfigLocked(n.userData, cfg)
	}

	return n, nil
}

// loadUserData is the acquire controller's platform source
// (internal/app/machined/pkg/controllers/config/acquire.go loadFromPlatform):
// gunzip if gzipped, load, validate in the node's runtime mode, with its texts.
func (n *Node) loadUserData() (config.Provider, error) {
	platform := platformName(n.mode)

	cfg, err := loadConfig(n.userData)
	if err != nil {
		return nil, fmt.Errorf("failed to load config via platform %s: %w", platform, err)
	}

	warnings, err := cfg.Validate(n.mode)
	if err != nil {
		return nil, fmt.Errorf("failed to validate config acquired via platform %s: %w", platform, err)
	}

	for _, warning := range warnings {
		n.logf("config validation warning (platform %s): %s", platform, warning)
	}

	return cfg, nil
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

// hostnameLocked is the configured hostname, else the platform's, else one
// derived from the name (real Talos derives a "stable" one from the machine's
// identity). Config beats platform beats default, as Talos's hostname layers do.
func (n *Node) hostnameLocked() string {
	if n.cfg != nil {
		if h := n.cfg.NetworkHostnameConfig(); h != nil && h.Hostname() != "" {
			return h.Hostname()
		}
	}

	if n.platformHostname != "" {
		return n.platformHostname
	}

	return "talos-" + strings.NewReplacer(".", "-", ":", "-").Replace(n.name)
}

// address is the node's address as its peers see it (etcd URLs): its name
// when that is an IP address (an EC2 instance's private IP), else where it listens.
func (n *Node) address() string {
	if net.ParseIP(n.name) != nil {
		return n.name
	}

	return n.ip
}

// certIPs are the addresses in the node's certificates: where it listens, its
// name if that is an IP, and loopback.
func (n *Node) certIPs() []net.IP {
	ips := []net.IP{net.ParseIP(n.ip)}
	if ip := net.ParseIP(n.name); ip != nil && n.name != n.ip {
		ips = append(ips, ip)
	}

	return append(ips, net.ParseIP("127.0.0.1"), net.ParseIP("::1"))
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
	if n.removed {
		return nil
	}

	maintenance := n.cfg == nil || !n.cfg.CompleteForBoot()

	n.state = stateConfigured
	if maintenance {
		n.state = stateMaintenance
	}

	n.refreshNetworkLocked()

	if n.lostAddress != "" {
		return nil
	}

	var (
		tlsConfig *tls.Config
		err       error
	)

	if maintenance {
		tlsConfig, err = maintenanceTLS(n.certIPs())
	} else {
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
	n.logf("serving in %s mode on %s", n.state, n.ip)

	return nil
}

// waitForCertsLocked retries serving until a control plane of the cluster can
// sign the worker's API certificate, as trustd would.
func (n *Node) waitForCertsLocked() {
	n.logf("configured, waiting for a control plane to issue the API certificate")

	boot := n.boot

	time.AfterFunc(certRetryInterval, func() {
		n.f.mu.Lock()
		defer n.f.mu.Unlock()

		if n.f.ctx.Err() != nil || n.boot != boot || n.server != nil || n.state != stateConfigured {
			return
		}

		if err := n.serveLocked(); err != nil {
			n.logf("%v", err)
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

	if n.net != nil {
		n.net.set(netSpec{}, false)
	}
}

// rebootLocked takes the node down for the reboot delay and brings it back
// with whatever config it then holds.
func (n *Node) rebootLocked() {
	n.shutdownLocked(stateRebooting)
	n.logf("rebooting")
	n.bootAfterLocked(n.f.opts.RebootDelay)
}

// bootAfterLocked boots the node once delay has passed, unless it went down
// again (or was removed, or the fleet closed) in the meantime.
func (n *Node) bootAfterLocked(delay time.Duration) {
	boot := n.boot

	go func() {
		timer := time.NewTimer(delay)
		defer timer.Stop()

		select {
		case <-timer.C:
		case <-n.f.ctx.Done():
			return
		}

		n.f.mu.Lock()
		defer n.f.mu.Unlock()

		if n.boot != boot || n.f.ctx.Err() != nil {
			return
		}

		n.rebootPending = false
		n.bootLocked()
	}()
}

// bootLocked activates a staged config, or the platform's user-data when the
// disk holds no config (acquire.go: disk first, then platform), then serves.
// etcd starts afresh: a node that left it joins again.
func (n *Node) bootLocked() {
	n.leftEtcd = false

	if n.staged != nil {
		if cfg, err := loadConfig(n.staged); err == nil {
			n.setConfigLocked(n.staged, cfg)
		}

		n.staged = nil
	}

	if n.cfg == nil && n.userData != nil {
		if cfg, err := n.loadUserData(); err == nil {
			n.setConfigLocked(n.userData, cfg)
		}
	}

	if err := n.serveLocked(); err != nil {
		n.logf("cannot come back: %v", err)
		n.state = stateOff
	}
}

type nodeServer struct {
	grpc *grpc.Server
}

func (n *Node) listen(maintenance bool) (*nodeServer, error) {
	lis, err := listenTCP(n.listenNetns(), net.JoinHostPort(n.ip, strconv.Itoa(n.f.opts.Port)))
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
	for _, h := range n.handlers() {
		srv.RegisterService(h.desc, h.impl)
	}

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

// callKey names a method in call counts and injected failures: its bare name
// for MachineService ("ApplyConfiguration"), SERVICE/METHOD for the others
// ("cosi.resource.State/List").
func callKey(fullMethod string) string {
	service, method, ok := strings.Cut(strings.TrimPrefix(fullMethod, "/"), "/")
	if !ok {
		return service
	}

	if service == machine.MachineService_ServiceDesc.ServiceName {
		return method
	}

	return service + "/" + method
}

// takeFailure consumes one failure injected through the status endpoint.
func (n *Node) takeFailure(fullMethod string) error {
	n.f.mu.Lock()
	defer n.f.mu.Unlock()

	name := callKey(fullMethod)
	if n.failures[name] == 0 {
		return nil
	}

	n.failures[name]--

	return status.Errorf(codes.Unavailable, "injected failure of %s on %s", name, n.name)
}

// logf logs about the node, by name.
func (n *Node) logf(format string, args ...any) {
	n.f.logf("node %s: %s", n.name, fmt.Sprintf(format, args...))
}
