package fleet

import (
	"context"
	"strings"

	"github.com/siderolabs/talos/pkg/machinery/constants"
	"github.com/siderolabs/talos/pkg/machinery/role"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// errNotAuthorized is authz.ErrNotAuthorized (pkg/grpc/middleware/authz/authorizer.go).
var errNotAuthorized = status.Error(codes.PermissionDenied, "not authorized")

var (
	anyReader  = role.MakeSet(role.Admin, role.Operator, role.Reader)
	operators  = role.MakeSet(role.Admin, role.Operator)
	adminsOnly = role.MakeSet(role.Admin)
)

// rules are machined's per-method roles for MachineService
// (internal/app/machined/pkg/system/services/machined.go); others need os:admin.
var rules = map[string]role.Set{
	// os:reader is let through for maintenance mode; the handler checks the rest.
	"ApplyConfiguration":    role.MakeSet(role.Admin, role.Reader),
	"Bootstrap":             adminsOnly,
	"CPUInfo":               anyReader,
	"CPUFreqStats":          anyReader,
	"Containers":            anyReader,
	"Copy":                  adminsOnly,
	"DiskStats":             anyReader,
	"DiskUsage":             anyReader,
	"Dmesg":                 anyReader,
	"EtcdAlarmList":         role.MakeSet(role.Admin, role.Operator, role.Reader, role.EtcdBackup),
	"EtcdAlarmDisarm":       operators,
	"EtcdDefragment":        operators,
	"EtcdForfeitLeadership": adminsOnly,
	"EtcdLeaveCluster":      adminsOnly,
	"EtcdMemberList":        role.MakeSet(role.Admin, role.Operator, role.Reader, role.EtcdBackup),
	"EtcdRecover":           adminsOnly,
	"EtcdRemoveMemberByID":  adminsOnly,
	"EtcdSnapshot":          role.MakeSet(role.Admin, role.Operator, role.EtcdBackup),
	"EtcdStatus":            role.MakeSet(role.Admin, role.Operator, role.Reader, role.EtcdBackup),
	"Events":                anyReader,
	"Hostname":              anyReader,
	"ImageList":             anyReader,
	"ImagePull":             operators,
	"Kubeconfig":            adminsOnly,
	"List":                  anyReader,
	"LoadAvg":               anyReader,
	"Logs":                  anyReader,
	"LogsContainers":        anyReader,
	"Memory":                anyReader,
	"MetaWrite":             role.MakeSet(role.Admin, role.MetaWriter),
	"MetaDelete":            role.MakeSet(role.Admin, role.MetaWriter),
	"Mounts":                anyReader,
	"NetworkDeviceStats":    anyReader,
	"Netstat":               anyReader,
	"PacketCapture":         operators,
	"Processes":             anyReader,
	"Read":                  adminsOnly,
	"Reboot":                operators,
	"Reset":                 adminsOnly,
	"Restart":               operators,
	"Rollback":              adminsOnly,
	"ServiceList":           anyReader,
	"ServiceRestart":        operators,
	"ServiceStart":          operators,
	"ServiceStop":           operators,
	"Shutdown":              operators,
	"Stats":                 anyReader,
	"SystemStat":            anyReader,
	"Upgrade":               adminsOnly,
	"Version":               anyReader,
}

// otherRules are machined's rules for the other services the fake serves,
// by full method name: the COSI resource API, read by os:reader and up
// (writes are then refused by the access policy, cosi.go).
var otherRules = map[string]role.Set{
	"/cosi.resource.State/Create":  adminsOnly,
	"/cosi.resource.State/Destroy": adminsOnly,
	"/cosi.resource.State/Get":     anyReader,
	"/cosi.resource.State/List":    anyReader,
	"/cosi.resource.State/Update":  adminsOnly,
	"/cosi.resource.State/Watch":   anyReader,
}

func authorize(roles role.Set, fullMethod string) error {
	allowed, ok := otherRules[fullMethod]
	if !ok && strings.HasPrefix(fullMethod, "/machine.MachineService/") {
		allowed, ok = rules[methodName(fullMethod)]
	}

	if !ok {
		allowed = adminsOnly
	}

	if !allowed.IncludesAny(roles) {
		return errNotAuthorized
	}

	return nil
}

// callerRoles is authz.Injector: os:reader in maintenance mode (callers that
// are not SideroLink peers), else the client certificate's organisations, or
// the talos-role metadata when the certificate carries os:impersonator.
func callerRoles(ctx context.Context, maintenance bool) role.Set {
	if maintenance {
		return role.MakeSet(role.Reader)
	}

	p, ok := peer.FromContext(ctx)
	if !ok {
		return role.Zero
	}

	tlsInfo, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok || len(tlsInfo.State.PeerCertificates) == 0 {
		return role.Zero
	}

	roles, _ := role.Parse(tlsInfo.State.PeerCertificates[0].Subject.Organization)

	if roles.Includes(role.Impersonator) {
		md, _ := metadata.FromIncomingContext(ctx)
		if impersonated := md.Get(constants.APIAuthzRoleMetadataKey); len(impersonated) > 0 {
			roles, _ = role.Parse(impersonated)
		}
	}

	return roles
}

type rolesKey struct{}

func withRoles(ctx context.Context, roles role.Set) context.Context {
	return context.WithValue(ctx, rolesKey{}, roles)
}

func rolesFrom(ctx context.Context) role.Set {
	roles, ok := ctx.Value(rolesKey{}).(role.Set)
	if !ok {
		return role.Zero
	}

	return roles
}
