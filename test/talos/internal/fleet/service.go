package fleet

import (
	"context"
	"crypto/rand"
	"fmt"
	"hash/fnv"
	"net"

	"github.com/siderolabs/talos/pkg/machinery/api/machine"
	"github.com/siderolabs/talos/pkg/machinery/version"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	"hybridctl.dev/test/talos/internal/talosmode"
)

// service is machined's MachineService for one node
// (internal/app/machined/internal/server/v1alpha1/v1alpha1_server.go).
// Methods it does not implement answer codes.Unimplemented "method X not implemented".
type service struct {
	machine.UnimplementedMachineServiceServer

	n *Node
}

// Version reports the machinery's Talos tag; features only once configured.
func (s *service) Version(context.Context, *emptypb.Empty) (*machine.VersionResponse, error) {
	s.n.f.mu.Lock()
	defer s.n.f.mu.Unlock()

	reply := &machine.Version{
		Version:  version.NewVersion(),
		Platform: &machine.PlatformInfo{Name: platformName(s.n.mode), Mode: s.n.mode.String()},
	}

	if s.n.cfg != nil && s.n.cfg.Machine() != nil {
		reply.Features = &machine.FeaturesInfo{Rbac: true}
	}

	return &machine.VersionResponse{Messages: []*machine.Version{reply}}, nil
}

// platformName is the platform a node of that mode reports: hybridctl's cloud is AWS.
func platformName(mode talosmode.Mode) string {
	if mode == talosmode.Cloud {
		return "aws"
	}

	return mode.String()
}

// ServiceList lists the services a node runs: apid and machined always; once
// configured, kubelet, and on control planes trustd and etcd. etcd stays in its
// pre-start state ("Preparing", waiting to join) until the cluster is bootstrapped.
func (s *service) ServiceList(context.Context, *emptypb.Empty) (*machine.ServiceListResponse, error) {
	s.n.f.mu.Lock()
	defer s.n.f.mu.Unlock()

	running := func(id string) *machine.ServiceInfo {
		return &machine.ServiceInfo{Id: id, State: "Running", Health: &machine.ServiceHealth{Healthy: true}}
	}

	services := []*machine.ServiceInfo{running("apid")}

	if s.n.cfg != nil {
		if s.n.isControlPlaneLocked() {
			etcd := running("etcd")
			if !s.n.f.bootstrapped[s.n.clusterIDLocked()] {
				etcd = &machine.ServiceInfo{Id: "etcd", State: "Preparing", Health: &machine.ServiceHealth{Unknown: true}}
			}

			services = append(services, etcd)
		}

		services = append(services, running("kubelet"))
	}

	services = append(services, running("machined"))

	if s.n.isControlPlaneLocked() {
		services = append(services, running("trustd"))
	}

	return &machine.ServiceListResponse{Messages: []*machine.ServiceList{{Services: services}}}, nil
}

// checkControlPlaneLocked is machinehelper.CheckControlplane; in maintenance
// mode the machine type is unknown, so it is not a control plane either.
func (s *service) checkControlPlaneLocked(apiName string) error {
	if !s.n.isControlPlaneLocked() {
		return status.Errorf(codes.Unimplemented, "%s is only available on control plane nodes", apiName)
	}

	return nil
}

// Bootstrap works once per cluster: every control plane of a bootstrapped
// cluster has etcd data, so Talos refuses with AlreadyExists.
func (s *service) Bootstrap(context.Context, *machine.BootstrapRequest) (*machine.BootstrapResponse, error) {
	s.n.f.mu.Lock()
	defer s.n.f.mu.Unlock()

	if err := s.checkControlPlaneLocked("bootstrap"); err != nil {
		return nil, err
	}

	clusterID := s.n.clusterIDLocked()
	if s.n.f.bootstrapped[clusterID] {
		return nil, status.Error(codes.AlreadyExists, "etcd data directory is not empty")
	}

	s.n.f.bootstrapped[clusterID] = true
	s.n.bootstrapCount++
	s.n.logf("bootstrapped cluster %s", clusterID)

	return &machine.BootstrapResponse{Messages: []*machine.Bootstrap{{}}}, nil
}

// EtcdMemberList answers with the cluster's configured control planes once it
// is bootstrapped. Before that etcd is not running: a local query times out
// building the etcd client, a cluster-wide one finds no endpoints.
func (s *service) EtcdMemberList(_ context.Context, in *machine.EtcdMemberListRequest) (*machine.EtcdMemberListResponse, error) {
	s.n.f.mu.Lock()
	defer s.n.f.mu.Unlock()

	if err := s.checkControlPlaneLocked("member list"); err != nil {
		return nil, err
	}

	clusterID := s.n.clusterIDLocked()
	if !s.n.f.bootstrapped[clusterID] {
		if in.GetQueryLocal() {
			return nil, status.Error(codes.DeadlineExceeded, "error building etcd client: context deadline exceeded")
		}

		return nil, status.Error(codes.Unknown, "no controlplane endpoints discovered yet")
	}

	reply := &machine.EtcdMembers{}

	for _, member := range s.n.f.clusterMembersLocked(clusterID) {
		hostname := member.hostnameLocked()
		reply.LegacyMembers = append(reply.LegacyMembers, hostname)
		reply.Members = append(reply.Members, &machine.EtcdMember{
			Id:         memberID(member.name),
			Hostname:   hostname,
			PeerUrls:   []string{"https://" + net.JoinHostPort(member.address(), "2380")},
			ClientUrls: []string{"https://" + net.JoinHostPort(member.address(), "2379")},
		})
	}

	return &machine.EtcdMemberListResponse{Messages: []*machine.EtcdMembers{reply}}, nil
}

func memberID(name string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(name)) //nolint:errcheck

	return h.Sum64()
}

// Reboot takes the node down for the reboot delay; it comes back in the same
// mode, with a staged config applied. Container mode cannot reboot.
func (s *service) Reboot(context.Context, *machine.RebootRequest) (*machine.RebootResponse, error) {
	s.n.f.mu.Lock()
	defer s.n.f.mu.Unlock()

	if s.n.mode == talosmode.Container {
		return nil, status.Errorf(codes.FailedPrecondition, "method is not supported in %s mode", s.n.mode)
	}

	s.n.rebootLocked()

	return &machine.RebootResponse{Messages: []*machine.Reboot{{ActorId: actorID()}}}, nil
}

// Reset wipes the system disk (unless only user disks are asked for), then
// reboots (into maintenance mode, or with the platform's user-data), or powers
// off when reboot is false. A graceful reset of a control plane first leaves
// etcd (the sequencer's LeaveEtcd phase), so its member is gone even when the
// disk keeps its config (USER_DISKS); it joins again at its next boot.
func (s *service) Reset(_ context.Context, in *machine.ResetRequest) (*machine.ResetResponse, error) {
	s.n.f.mu.Lock()
	defer s.n.f.mu.Unlock()

	if in.GetGraceful() && s.n.isControlPlaneLocked() && s.n.f.bootstrapped[s.n.clusterIDLocked()] && !s.n.leftEtcd {
		s.n.leftEtcd = true
		s.n.logf("left etcd")
	}

	if in.GetMode() != machine.ResetRequest_USER_DISKS {
		s.n.wipeLocked()
	}

	if in.GetReboot() {
		s.n.rebootLocked()
	} else {
		s.n.shutdownLocked(stateOff)
		s.n.logf("reset, powered off")
	}

	return &machine.ResetResponse{Messages: []*machine.Reset{{ActorId: actorID()}}}, nil
}

func actorID() string {
	b := make([]byte, 16)
	rand.Read(b) //nolint:errcheck

	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80

	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
